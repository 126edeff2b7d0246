"""The one directory a change through the API or the console may name TLS files in.

A ``tls.ca_file`` (or ``cert_file``, ``key_file``) is checked when a definition is written:
whether it is there, readable, and loads (``destinations.tls_files``). Through the HTTP API
that check answered people who are not the server's administrators (an operator holding the
``destinations`` role for one cluster) whether any path on the server is there and readable by
the engine: ``/etc/shadow`` was refused as "not readable", ``/home/x/.ssh/id_rsa`` as "could not
be loaded as CA certificates", a missing path as "does not exist". So a change made there may
name only files inside the TLS directory (``INTEGRATOR_TLS_DIR``), which the administrator
fills, and a path outside it is refused before anything looks at it: the same words for a path
that is there and one that is not.

Only the paths a change brings in are held to it: a path the definition in service names
already (``kept``) was written by whoever wrote the file, the server's administrator, and a
change that leaves it as it is (a pause, a port) is no question about it. The command line is
not held to it at all: it runs on the server, as whoever has its shell, who can look at the
files anyway.

Inside means by real path: ``..`` and symbolic links are followed (a link in the directory to
``/etc/shadow`` is outside). A path that is outside by its text alone is refused without any
look at the file system; one that is inside by its text is resolved, which looks only at
entries the administrator put in the directory, and whatever they point at.

Only the standard library: ``destinations.config`` calls it from its validators, with a
refusal as ``(code, rule, values)``, as ``destinations.hosts`` gives its refusals.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

SETTING: Final = "INTEGRATOR_TLS_DIR"
"""The setting that names the directory (``integrator.settings.Settings.tls_dir``)."""

OUTSIDE: Final = "outside_tls_dir"
"""The code of the refusal of a path outside the directory."""
MISSING: Final = "tls_dir_missing"
"""The code of the refusal of any path while the directory does not exist."""
NOT_A_DIRECTORY: Final = "tls_dir_not_a_directory"
"""The code of the refusal of any path while something else (a file) stands in its place."""

Problem = tuple[str, str, Mapping[str, object]]
"""A refusal: its code, its rule in English, the values its sentence needs."""


@dataclass(frozen=True, slots=True)
class TlsDirectory:
    """The TLS directory as the setting names it (relative to the working directory, as
    ``INTEGRATOR_DESTINATIONS_DIR`` is), and the paths a change may keep wherever they are:
    the definition in service's, by key (``ca_file``, ``cert_file``, ``key_file``)."""

    directory: Path
    kept: Mapping[str, Path | None] = field(default_factory=dict)

    def keeping(self, kept: Mapping[str, Path | None]) -> TlsDirectory:
        """This directory for a change to a definition whose TLS files are ``kept``."""
        return TlsDirectory(self.directory, dict(kept))

    @property
    def shown(self) -> str:
        """The directory as its refusals name it: absolute, as a path under ``tls`` must be."""
        return os.path.abspath(self.directory)

    def problem(self, key: str, path: Path) -> Problem | None:
        """Why the absolute ``path`` given for ``key`` is refused; None when it may be looked
        at (kept as it was, or inside the directory). Never a word about the file itself."""
        if key in self.kept and self.kept[key] == path:
            return None
        shown = self.shown
        root = os.path.realpath(shown)
        if not os.path.isdir(root):
            there = os.path.lexists(shown)
            what = "is not a directory" if there else "does not exist"
            return (
                NOT_A_DIRECTORY if there else MISSING,
                f"cannot be taken: the TLS directory {shown} ({SETTING}) {what}; the "
                "server's administrator makes it and puts the destinations' certificate "
                "and key files in it",
                {"directory": shown, "setting": SETTING},
            )
        # By its text first, so a path outside is refused before anything is looked at;
        # then as the system opens it: ``..`` after a link goes up from where the link leads,
        # so the path as given is resolved, not its text tidied (``hop/../ca.pem``).
        named = os.path.normpath(path)
        if not (_under(named, shown) or _under(named, root)) or not _under(
            os.path.realpath(path), root
        ):
            return (
                OUTSIDE,
                f"must be a file inside the TLS directory, {SETTING} ({shown})",
                {"directory": shown, "setting": SETTING},
            )
        return None


def _under(path: str, directory: str) -> bool:
    """Whether ``path`` lies below ``directory`` (not the directory itself), by their text."""
    prefix = directory if directory.endswith(os.sep) else directory + os.sep
    return path.startswith(prefix) and len(path) > len(prefix)
