"""What the destinations listing costs, the way it read files and the store before and now,
alternately in one run:

    .venv/bin/python bench/bench_listing_destinations.py                 # SQLite
    .venv/bin/python bench/bench_listing_destinations.py --postgres      # PostgreSQL

``DestinationAdmin.listing`` is what ``integrator destinations list``, ``GET /api/v1/destinations``
and the console's destinations page call. Four ways, on one store, round by round in turn:

- *before*: every file parsed and validated at every listing (a new ``FileReads`` each time,
  as ``load_destination_files`` alone did), each destination's history read to find its last
  revision (``list_destination_revisions``) and its messages counted (``count_by_status``):
  two statements a destination;
- *files kept*: only the first changed: an unchanged file's text is not parsed again
  (``destinations.file_reads``), the store read as before;
- *one read each*: only the second changed: the last revisions (``last_destination_revisions``)
  and the counts (``counts_by_status``) of all the destinations in one statement each, every
  file parsed;
- *now*: both.

The store and the files as ``bench_listing_last_attempts.py`` makes them (``--destinations``
200 with a file each, ``--messages`` 100,000 delivered, every tenth destination's newest
retrying), each destination with ``--history`` revisions (10: paused and resumed, ending at
its file's definition). Every way's rows must be the same. Median of ``--rounds``.

The engine keeps its ``DestinationAdmin`` (and so its ``FileReads``) as long as it runs: the
API and the console gain both; a CLI command is a process of its own that reads the files
once, so ``integrator destinations list`` gains the store's half.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from alternating import timed_alternately  # noqa: E402
from bench_listing_last_attempts import ids_of, seed  # noqa: E402

from destinations.config import definition_of, dump_destination  # noqa: E402
from destinations.file_reads import FileReads  # noqa: E402
from integrator.clock import SystemClock  # noqa: E402
from integrator.operators import DestinationAdmin  # noqa: E402
from integrator.settings import Settings  # noqa: E402
from integrator.store import AuditRecord, DestinationRevision, Store  # noqa: E402
from tests.integrator.support import destination, settings_for  # noqa: E402

WAYS = ("before", "files kept", "one read each", "now")


async def with_history(store: Store, ids: Sequence[str], history: int) -> None:
    """``history`` revisions a destination: paused and resumed in turn, the last one its
    file's definition (so the listing finds its revision in service)."""
    for n, destination_id in enumerate(ids):
        config = definition_of(destination(destination_id, 9, providers=[f"p{n}"], enabled=False))
        for number in range(1, history + 1):
            enabled = (history - number) % 2 == 1
            async with store.recording_destination_revision(
                destination_id,
                after=number - 1,
                actor="bench",
                action="add" if number == 1 else "update",
                config={**config, "enabled": enabled},
                diff="~",
            ):
                pass


class OldStore:
    """The store as the listing asked it before: a read a destination, for each of the two."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def counts_by_status(self, ids: Sequence[str]) -> dict[str, dict[str, int]]:
        return {d: await self._store.count_by_status(d) for d in ids}

    async def last_destination_revisions(
        self, ids: Sequence[str]
    ) -> dict[str, DestinationRevision]:
        found = {}
        for destination_id in ids:
            revisions = await self._store.list_destination_revisions(destination_id)
            if revisions:
                found[destination_id] = revisions[-1]
        return found

    async def newest_audit_about_each(
        self,
        targets: Sequence[str],
        among: Collection[str],
        concerning: Callable[[str], Callable[[AuditRecord], bool]] | None = None,
    ) -> dict[str, AuditRecord]:
        """As ``record_file_changes`` asked the trail before: a read a destination."""
        found = {}
        for target in targets:
            check = concerning(target) if concerning is not None else None
            newest = await self._store.newest_audit_about(target, among, check)
            if newest is not None:
                found[target] = newest
        return found


async def main(settings: Settings, args: argparse.Namespace, schema: str | None = None) -> None:
    ids = ids_of(args.destinations)
    settings.destinations_dir.mkdir()
    for n, destination_id in enumerate(ids):
        config = destination(destination_id, 9, providers=[f"p{n}"], enabled=False)
        (settings.destinations_dir / f"{destination_id}.yaml").write_text(dump_destination(config))
    store = await Store.open(settings.database_url, schema=schema)
    try:
        started = time.perf_counter()
        await seed(store, ids, args.messages)
        await with_history(store, ids, args.history)
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        clock = SystemClock()
        old_store = OldStore(store)

        def admin_for(way: str) -> DestinationAdmin:
            admin = DestinationAdmin(
                store=old_store if way in ("before", "files kept") else store,  # type: ignore[arg-type]
                settings=settings,
                today=lambda: clock.now().date(),
                now=clock.now,
            )
            return admin

        admins = {way: admin_for(way) for way in WAYS}
        listed: dict[str, list[dict[str, Any]]] = {}

        async def listing(way: str) -> None:
            admin = admins[way]
            if way in ("before", "one read each"):
                admin._reads = FileReads()  # every file parsed, as every listing did
            rows, _ = await admin.listing(lambda c: True, reads_messages=lambda c: True)
            listed[way] = rows

        for way in WAYS:  # warm (and the kept files read once), and all must agree
            await listing(way)
        for way in WAYS:
            assert listed[way] == listed["before"], way
        assert all(row["revision"] == args.history for row in listed["now"])
        median = await timed_alternately({way: listing for way in WAYS}, args.rounds)
        print(
            f"{len(ids)} destinations ({args.history} revisions each), {args.messages} messages, "
            f"{store._engine.dialect.name}; median of {args.rounds} listings (ms)"
        )
        for way, ms in median.items():
            print(f"  {way:14} {ms:8.1f}   before / this: {median['before'] / ms:5.2f}x")
        await reloads(admins["before"], admins["now"], args.rounds)
    finally:
        await store.close()


async def reloads(before: DestinationAdmin, now: DestinationAdmin, rounds: int) -> None:
    """What an engine's start and every reload of the directory pay to record what the files
    changed by hand (``record_file_changes``), with nothing changed: *before* each
    destination's history and the trail's last word on its file read one by one, and each
    definition dumped to YAML and read back (the catalog was read by the other admin, so this
    one's ``FileReads`` has none of them), *now* each of the two reads for every destination
    in one statement, and the definitions ``catalog`` worked out taken as they are (the engine
    reads the catalog and records the changes with one admin)."""
    catalog = await now.catalog()
    recorded = {
        way: await admin.record_file_changes(catalog)
        for way, admin in (("before", before), ("now", now))
    }
    assert recorded == {"before": 0, "now": 0}, recorded

    async def reload(way: str) -> None:
        await (before if way == "before" else now).record_file_changes(catalog)

    median = await timed_alternately({"before": reload, "now": reload}, rounds)
    print(f"record_file_changes, nothing changed; median of {rounds} (ms)")
    for way, ms in median.items():
        print(f"  {way:14} {ms:8.1f}   before / this: {median['before'] / ms:5.2f}x")


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        if not args.postgres:
            settings = settings_for(Path(folder), search_key="a-bench-search-key")
            asyncio.run(main(settings, args))
            return
        asyncio.run(on_postgres(Path(folder), args))


async def on_postgres(folder: Path, args: argparse.Namespace) -> None:
    """In a schema of its own in the ``test`` database, dropped afterwards."""
    from tests.store.conftest import postgres_site

    async with postgres_site() as site:
        settings = settings_for(folder, search_key="a-bench-search-key", database_url=site.url)
        await main(settings, args, site.schema)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--destinations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--postgres", action="store_true")
    run(parser.parse_args())
