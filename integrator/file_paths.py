"""Who is shown where the destination files lie on the server, and what everyone else sees.

A refused destination file is named by its path as the directory was read
(``/srv/integrator/destinations/lab-west.yml``), and some rules name another file there too
(``file_misnamed``: "rename it to /srv/…/lab-west.yaml"; ``file_of_another``: "'noord' is the
destination of /srv/…/noord.yaml"). The server's directory is for who may change the
destination files: ``destinations.write`` in the file's cluster (the ``destinations`` role),
as the console's destination page shows its file only to them. Everyone else who may read the
destination (a viewer, say) is shown each file by its name only (``lab-west.yml``), with the
same rules, on the console and through the API alike. This module is the one place that says
so; the front doors ask it with the caller's identity and the file's cluster. The CLI runs on
the server, whose user sees the directory anyway, and shows the paths.

A destination's own file lies in the destination's cluster; a refused file that is no
destination's own, in the cluster of the destination whose id it claims, and otherwise in no
cluster, which is for grants for all clusters (``integrator.clusters``).
"""

from __future__ import annotations

import os
from pathlib import Path

from destinations.config import DestinationFileError
from integrator.access.permissions import Identity, Permission


def sees_paths(identity: Identity, cluster: str | None) -> bool:
    """Whether ``identity`` is shown the server's paths of the files of ``cluster``."""
    return identity.may(Permission.DESTINATIONS_WRITE, cluster)


def file_as_seen(file: str, *, paths: bool) -> str:
    """``file`` whole for who ``paths``, else its name (``lab-west.yml``)."""
    return file if paths else Path(file).name


def problem_as_seen(problem: DestinationFileError, *, paths: bool) -> DestinationFileError:
    """``problem`` as whoever ``paths`` or not is shown it: without ``paths``, its file and
    every file its rule and values name in that directory said by their names.

    The directory is taken from the refused file itself, so a path is never missed however
    the rule spells it (a rule of ours, the reason an ``OSError`` gave).
    """
    if paths:
        return problem
    directory = str(Path(problem.file).parent)
    if directory in ("", "."):  # a file named without a directory names none
        return problem
    prefix = directory.rstrip(os.sep) + os.sep

    def named(text: str) -> str:
        return text.replace(prefix, "")

    return DestinationFileError(
        Path(problem.file).name,
        problem.key,
        named(problem.rule),
        type=problem.type,
        code=problem.code,
        values={k: named(v) if isinstance(v, str) else v for k, v in problem.values.items()},
    )
