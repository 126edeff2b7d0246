"""A destinations directory that holds no destination file while destinations are in service.

A volume that did not mount leaves its mount point: an empty directory. Read as "every file
deleted", it took every destination out of service, said at info, and every event after it
was stored unrouted. It says no more about any destination than a directory that is gone
(``Engine._directory_unusable``), so it is treated the same: the destinations stay, the log
says so at WARNING, and an engine does not start on it with a store that has destinations.

A destination removed on purpose (``integrator destinations remove``, the API, the console)
has a removal as its last revision, so the last one removed that way, which leaves the
directory empty, does leave service; deleting every file by hand no longer does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path
from typing import Final

from destinations.config import destination_entries
from integrator.catalog import Catalog
from integrator.errors import ConfigurationError
from integrator.store import Store

HOW_TO_REMOVE = (
    "to take destinations out of service on purpose, put their files back and remove them one "
    "by one with `integrator destinations remove <id>` (no change is made while the directory "
    "holds none)"
)


async def kept_without_files(store: Store, read: Catalog, in_service: Catalog) -> Catalog | None:
    """What stays in service when ``read`` found no destination's file: ``in_service`` less
    the destinations removed on purpose; None when ``read`` applies as it is (it found one,
    or nothing in service is left to keep)."""
    if read.sources or not in_service.destinations:
        return None
    lasts = await store.last_destination_revisions(list(in_service.destinations))
    removed = {dest_id for dest_id, last in lasts.items() if last.config is None}
    kept = in_service.destinations.keys() - removed
    if not kept:
        return None
    return in_service if not removed else _without(in_service, removed)


def _without(catalog: Catalog, removed: Collection[str]) -> Catalog:
    """``catalog`` less the destinations ``removed``, which lie on in their cluster."""
    return dataclasses.replace(
        catalog,
        destinations={k: v for k, v in catalog.destinations.items() if k not in removed},
        sources={k: v for k, v in catalog.sources.items() if k not in removed},
        broken={k: v for k, v in catalog.broken.items() if k not in removed},
        revisions={k: v for k, v in catalog.revisions.items() if k not in removed},
        removed={
            **catalog.removed,
            **{k: v.cluster for k, v in catalog.destinations.items() if k in removed},
        },
    )


async def refuse_without_files(store: Store, directory: Path, consequence: str) -> None:
    """``ConfigurationError`` (exit 2) when ``directory`` holds no destination's file while the
    store has destinations in service, saying ``consequence``: the one rule for an engine's
    start (it would take events in and store every one unrouted, as without its directory) and
    for a change (its one file written there, the engine reading it would take every other
    destination out of service, recorded as deleted by hand). A new store, or one whose
    destinations were all removed, starts and takes changes. A directory that cannot be read
    is ``refuse_without_directory``'s to say."""
    try:
        if destination_entries(directory):
            return
    except OSError:
        return
    in_service = await store.last_destination_definitions()
    if not in_service:
        return
    count = len(in_service)
    raise ConfigurationError(
        f"destinations directory holds no destination files: {directory} "
        f"(INTEGRATOR_DESTINATIONS_DIR); this store has {count} destination"
        f"{'s' if count > 1 else ''} in service, so {consequence}"
    ).coded("destination.directory_empty", directory=str(directory))


STARTING: Final = (
    "the engine does not start: it would take events in without a destination and store them "
    "unrouted. Put the files back (a volume not mounted?), or set the setting to the engine's "
    f"directory; {HOW_TO_REMOVE}"
)
"""What ``refuse_without_files`` says at an engine's start."""

CHANGING: Final = (
    "nothing is changed: a change would write its one file there, and the engine, reading it, "
    "would take every other destination out of service. Put the files back (a volume not "
    "mounted?), or run it where the engine runs"
)
"""What ``refuse_without_files`` says of a change (the CLI, the API, the console)."""
