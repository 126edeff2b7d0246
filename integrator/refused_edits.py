"""A refused hand edit that a tool's change writes over: kept beside its file, and named.

A destination whose file is refused (broken) runs on its last good definition, and a change
made to it through a tool (a pause during a hospital's maintenance window, say) rewrites the
file from that definition. The refused edit may hold good changes besides its mistake (a new
port beside a misspelt key); before, they were gone without a word but "the refused edit is
gone". Now the file as it was refused is copied beside it first, under a name the loader and
the watcher skip, and the change's notice names the keys the refused edit had changed, so
nothing typed by hand is lost and the operator knows what to put back.

The copies are never deleted by the engine (one may hold an operator's only copy of a change),
so they pile up until someone deletes them; ``kept_copies`` finds them, with their age, for
``destinations list`` and ``GET /api/v1/destinations`` to name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import yaml

from destinations.config import DestinationFileError, destination_from_mapping, load_refused
from destinations.document import same_meaning
from integrator.presenters import iso_time

REFUSED_SUFFIX = ".refused"
"""Not ``.yaml``/``.yml``: the catalog's loader and the directory watcher leave the copy alone."""


def refused_copy_path(path: Path, now: datetime) -> Path:
    """Where the refused text of ``path`` is kept: one copy per rewrite, never overwritten."""
    stamp = now.astimezone(UTC).strftime(STAMP)
    return path.with_name(f"{path.name}.{stamp}{REFUSED_SUFFIX}")


STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True, slots=True)
class RefusedCopy:
    """One kept copy: its file name (beside the file it copies) and when it was kept."""

    name: str
    kept_at: datetime

    def age(self, now: datetime) -> timedelta:
        return max(now - self.kept_at, timedelta(0))

    def to_json(self, now: datetime, zone: tzinfo | None = None) -> dict[str, Any]:
        """``kept_at`` in ``zone`` (the CLI's, as every time it prints), else in UTC (the
        API's)."""
        return {
            "file": self.name,
            "kept_at": iso_time(self.kept_at, zone),
            "age_seconds": int(self.age(now).total_seconds()),
        }


def kept_copies(directory: Path) -> dict[str, list[RefusedCopy]]:
    """Every refused copy in ``directory``, by the name of the file it copies, oldest first.

    When the time in a name cannot be read (a copy renamed by hand), the file's modification
    time stands in: a copy is never left out for its name."""
    found: dict[str, list[RefusedCopy]] = {}
    if not directory.is_dir():
        return found
    for entry in directory.iterdir():
        name = entry.name
        if not name.endswith(REFUSED_SUFFIX) or not entry.is_file():
            continue
        base, _, stamp = name.removesuffix(REFUSED_SUFFIX).rpartition(".")
        try:
            kept_at = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
        except ValueError:
            base = base or name.removesuffix(REFUSED_SUFFIX)
            kept_at = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
        found.setdefault(base, []).append(RefusedCopy(name, kept_at))
    for copies in found.values():
        copies.sort(key=lambda c: (c.kept_at, c.name))
    return found


def shown_age(age: timedelta) -> str:
    """An age as a person reads it at a glance: days, else hours, else minutes."""
    if age >= timedelta(days=1):
        return f"{age.days} day{'s' if age.days != 1 else ''}"
    hours = int(age.total_seconds() // 3600)
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = int(age.total_seconds() // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def edited_keys(refused_text: str | None, good: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The top-level keys of the refused file whose value means something else than in the
    good definition (``definition_of``): what the hand edit changed, its mistakes included.

    Meanings are compared, as a change is written (``destinations.document.same_meaning``),
    not the text with the normalised values: ``ack_timeout: 20000ms`` against ``20s`` changed
    nothing, and naming it sent the operator to put back a change nobody made. A section
    (``retry:``) means the keys it gives with the others at their defaults, so one given in
    part changes nothing when its defaults are the good ones. A value that does not validate
    (the file is refused: some will not) is a change. A key the file leaves out is not
    counted: a hand-written file may leave defaults out. Empty when the refused text is no
    YAML mapping (it cannot be told key by key) or nothing is known."""
    if refused_text is None or good is None:
        return ()
    try:
        refused = load_refused(refused_text)
        config = destination_from_mapping(good, source="(last good definition)", check_files=False)
    except (yaml.YAMLError, DestinationFileError):
        return ()
    if not isinstance(refused, dict):
        return ()
    means = same_meaning(config)
    return tuple(
        sorted(
            {
                str(key)
                for key, value in refused.items()
                if not (isinstance(key, str) and means(key, value))
            }
        )
    )
