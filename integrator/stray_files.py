"""Refused files that are no destination's own, as the API and the console show them.

A file such as ``lab-west.yml`` or ``lab-west-copy.yml`` changes nothing in service
(``Catalog.stray_files``), so it is in no destination's row; but whoever wrote it must learn it
was ignored, wherever they look: ``destinations list`` names it on stderr, the API's listing and
the console's destinations page as a list of their own.

Who sees one: anyone who may read destinations, except that a file claiming the id of a
destination in service (``file_of_another``) is shown only to those who may see that
destination, as its refusal names it and its file. Its server path only to who may change the
files of its ``cluster`` (``integrator.file_paths``); everyone else, by its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from destinations.config import DestinationFileError
from integrator.catalog import Catalog
from integrator.clusters import cluster_of
from integrator.file_audit import claimed_id
from integrator.file_paths import file_as_seen
from integrator.operators import problem_view


@dataclass(frozen=True)
class StrayFile:
    file: str  # as the directory was read, like a destination's ``file``
    problems: tuple[DestinationFileError, ...]  # every rule it broke, the first first
    claims: str | None  # the destination in service whose id it claims, if any
    cluster: str | None = None  # that destination's cluster; None: it claims none

    @property
    def name(self) -> str:
        return Path(self.file).name

    def to_json(self, *, paths: bool = True) -> dict[str, Any]:
        """The file as plain data; without ``paths``, its files by their names only."""
        return {
            "file": file_as_seen(self.file, paths=paths),
            "claims": self.claims,
            "problems": [problem_view(p, paths=paths) for p in self.problems],
        }


def stray_files(catalog: Catalog, sees: Callable[[str | None], bool]) -> list[StrayFile]:
    """The refused files of ``catalog`` that are no destination's own, by name, that one who
    ``sees`` these clusters may see."""
    shown = []
    for file, problems in sorted(catalog.stray_files.items()):
        claims = _claimed(catalog, problems)
        cluster = cluster_of(catalog, claims) if claims is not None else None
        if claims is None or sees(cluster):
            shown.append(StrayFile(file, problems, claims, cluster))
    return shown


def _claimed(catalog: Catalog, problems: tuple[DestinationFileError, ...]) -> str | None:
    claimed = claimed_id(problems)
    return claimed if claimed in catalog.sources else None
