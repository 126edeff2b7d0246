"""The directory a change through the API or the console may name a destination's TLS files in:
its cluster's own, inside the TLS directory.

A ``tls.ca_file`` (or ``cert_file``, ``key_file``) is checked when a definition is written:
whether it is there, readable, and loads (``destinations.tls_files``). Through the HTTP API
that check answered people who are not the server's administrators (an operator holding the
``destinations`` role for one cluster) whether any path on the server is there and readable by
the engine: ``/etc/shadow`` was refused as "not readable", ``/home/x/.ssh/id_rsa`` as "could not
be loaded as CA certificates", a missing path as "does not exist". So a change made there may
name only files inside the TLS directory (``INTEGRATOR_TLS_DIR``), which the administrator
fills, and a path outside it is refused before anything looks at it: the same words for a path
that is there and one that is not.

One directory for every cluster was not enough: a client certificate and its key are an
identity, and a manager of CARD could point a CARD destination at LAB's pair, so the engine
presented LAB's identity to a host CARD chose (and CARD could probe LAB's files). So each
cluster has its own directory, ``<TLS directory>/<cluster>`` (``directory_name``), and a
destination in that cluster may name files in it only. A destination in no cluster, which only
those who manage every cluster may change, may name any file in the TLS directory.

Only the paths a change brings in are held to it: a path the definition in service names
already (``kept``) was written by whoever wrote the file, the server's administrator, and a
change that leaves it as it is (a pause, a port) is no question about it. Kept means under the
same key and in the same cluster: a change that moves the destination to another cluster holds
every path to the new cluster's directory, so a certificate never follows a destination into a
cluster whose managers it was not made for. The command line is not held to it at all: it
runs on the server, as whoever has its shell, who can look at the files anyway.

Inside means by real path: ``..`` and symbolic links are followed (a link in the directory to
``/etc/shadow``, or to another cluster's key, is outside). A path that is outside by its text
alone is refused without any look at the file system; one that is inside by its text is
resolved, which looks only at entries the administrator put in the directory, and whatever they
point at.

Only the standard library: ``destinations.config`` calls it from its validators, with a
refusal as ``(code, rule, values)``, as ``destinations.hosts`` gives its refusals.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

SETTING: Final = "INTEGRATOR_TLS_DIR"
"""The setting that names the directory (``integrator.settings.Settings.tls_dir``)."""

OUTSIDE: Final = "outside_tls_dir"
"""The code of the refusal of a path outside the directory (a destination in no cluster)."""
MISSING: Final = "tls_dir_missing"
"""The code of the refusal of any path while the directory does not exist."""
NOT_A_DIRECTORY: Final = "tls_dir_not_a_directory"
"""The code of the refusal of any path while something else (a file) stands in its place."""
OUTSIDE_CLUSTER: Final = "outside_cluster_tls_dir"
"""The code of the refusal of a path outside the directory of the destination's cluster."""
CLUSTER_MISSING: Final = "cluster_tls_dir_missing"
"""The code of the refusal of any path while the cluster's directory does not exist."""
CLUSTER_NOT_A_DIRECTORY: Final = "cluster_tls_dir_not_a_directory"
"""The code of the refusal of any path while something else stands in the cluster's place."""
NO_CLUSTER_NAME: Final = "tls_dir_no_cluster_name"
"""The code of the refusal of any path while ``cluster`` is no name at all (a number, a list):
which directory the files must lie in cannot be told, so none is looked at."""

Problem = tuple[str, str, Mapping[str, object]]
"""A refusal: its code, its rule in English, the values its sentence needs."""


class _NotAName:
    """The cluster of a definition whose ``cluster`` is neither text nor left out."""


NOT_A_NAME: Final = _NotAName()


def directory_name(cluster: str) -> str:
    """The name of ``cluster``'s directory in the TLS directory: the cluster's own name, but
    for what a path cannot hold as one name. ``/`` (a separator), control characters (a NUL
    ends a path) and ``%`` are written as ``%`` and two hexadecimal digits (``a/b`` is
    ``a%2Fb``), and a cluster named ``.`` or ``..`` is ``%2E`` or ``%2E%2E``: so no cluster's
    directory is the TLS directory itself, its parent or another cluster's, and two clusters
    never share one (``%`` is escaped too). A cluster's name keeps ``CLUSTER_NAME_RULE`` and
    holds no control character, so for the names people give (``CARD``, ``Lab Noord``) it is
    the name as it is."""
    if cluster in (".", ".."):
        return "%2E" * len(cluster)
    return "".join(
        f"%{ord(c):02X}" if c in "%/" or ord(c) < 32 or ord(c) == 127 else c for c in cluster
    )


@dataclass(frozen=True, slots=True)
class TlsDirectory:
    """The TLS directory as the setting names it (relative to the working directory, as
    ``INTEGRATOR_DESTINATIONS_DIR`` is), whose cluster's directory a definition's paths must
    lie in (``of_cluster``; None: the whole directory), and the paths a change may keep
    wherever they are: the definition in service's, by key (``ca_file``, ``cert_file``,
    ``key_file``), with the cluster it is in (``keeping``)."""

    directory: Path
    kept: Mapping[str, Path | None] = field(default_factory=dict)
    kept_cluster: str | None = None
    cluster: str | _NotAName | None = None

    def keeping(self, kept: Mapping[str, Path | None], cluster: str | None) -> TlsDirectory:
        """This directory for a change to a definition in ``cluster`` whose TLS files are
        ``kept``."""
        return replace(self, kept=dict(kept), kept_cluster=cluster)

    def of_cluster(self, cluster: object) -> TlsDirectory:
        """This directory for a definition whose ``cluster`` is as given (not yet checked):
        its paths held to that cluster's directory, the whole one for no cluster. The kept
        paths stay kept only in the cluster they are from: moved, a destination brings them
        all in."""
        named = cluster if cluster is None or isinstance(cluster, str) else NOT_A_NAME
        kept = self.kept if named == self.kept_cluster else {}
        return replace(self, kept=kept, cluster=named)

    @property
    def shown(self) -> str:
        """The directory the paths must lie in as its refusals name it: absolute, as a path
        under ``tls`` must be."""
        root = os.path.abspath(self.directory)
        if isinstance(self.cluster, str):
            return os.path.join(root, directory_name(self.cluster))
        return root

    def problem(self, key: str, path: Path) -> Problem | None:
        """Why the ``path`` given for ``key`` is refused; None when it may be looked at (kept
        as it was, or inside the directory). Never a word about the file itself."""
        if key in self.kept and self.kept[key] == path:
            return None
        if isinstance(self.cluster, _NotAName):
            return (
                NO_CLUSTER_NAME,
                "cannot be checked while cluster is not a cluster's name: the files must lie "
                f"in the TLS directory of the destination's cluster ({SETTING})",
                {"setting": SETTING},
            )
        shown = self.shown
        root = os.path.realpath(shown)
        if not os.path.isdir(root):
            return self._no_directory(shown)
        # By its text first, so a path outside is refused before anything is looked at;
        # then as the system opens it: ``..`` after a link goes up from where the link leads,
        # so the path as given is resolved, not its text tidied (``hop/../ca.pem``).
        named = os.path.normpath(path)
        if not (_under(named, shown) or _under(named, root)) or not _under(
            os.path.realpath(path), root
        ):
            return self._outside(shown)
        return None

    def _outside(self, shown: str) -> Problem:
        if isinstance(self.cluster, str):
            values = self._cluster_values(shown)
            return (
                OUTSIDE_CLUSTER,
                "must be a file inside the TLS directory of cluster {cluster}, {directory} "
                "({setting}/{subdirectory})".format(**values),
                values,
            )
        return (
            OUTSIDE,
            f"must be a file inside the TLS directory, {SETTING} ({shown})",
            {"directory": shown, "setting": SETTING},
        )

    def _no_directory(self, shown: str) -> Problem:
        there = os.path.lexists(shown)
        what = "is not a directory" if there else "does not exist"
        if isinstance(self.cluster, str):
            values = self._cluster_values(shown)
            return (
                CLUSTER_NOT_A_DIRECTORY if there else CLUSTER_MISSING,
                "cannot be taken: the TLS directory of cluster {cluster}, {directory} "
                "({setting}/{subdirectory}), ".format(**values)
                + f"{what}; the server's administrator makes it and puts the certificate and "
                "key files of the cluster's destinations in it",
                values,
            )
        return (
            NOT_A_DIRECTORY if there else MISSING,
            f"cannot be taken: the TLS directory {shown} ({SETTING}) {what}; the "
            "server's administrator makes it and puts the destinations' certificate "
            "and key files in it",
            {"directory": shown, "setting": SETTING},
        )

    def _cluster_values(self, shown: str) -> dict[str, object]:
        assert isinstance(self.cluster, str)
        return {
            "cluster": self.cluster,
            "directory": shown,
            "setting": SETTING,
            "subdirectory": directory_name(self.cluster),
        }


def _under(path: str, directory: str) -> bool:
    """Whether ``path`` lies below ``directory`` (not the directory itself), by their text."""
    prefix = directory if directory.endswith(os.sep) else directory + os.sep
    return path.startswith(prefix) and len(path) > len(prefix)
