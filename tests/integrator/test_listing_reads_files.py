"""The destinations listing reads the files each time it is asked, though a file unchanged
since the last listing is not parsed again (``destinations.file_reads``): an edit shows in the
next listing, also one that leaves the file's size and modification time as they were, and so
does a file refused since, with its last good definition, exactly as reading every file anew."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

from destinations.config import dump_destination
from integrator.operators import DestinationAdmin
from integrator.store_for import open_store
from tests.integrator.support import destination, settings_for


async def test_an_edit_shows_in_the_next_listing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    path = settings.destinations_dir / "noord.yaml"
    path.write_text(dump_destination(destination("noord", 2575, providers=["p"])))
    store = await open_store(settings)
    try:
        admin = DestinationAdmin(
            store=store,
            settings=settings,
            today=lambda: date(2026, 11, 27),
            now=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        )
        await admin.record_file_changes(await admin.catalog())  # revision 1, as an engine does

        async def listed() -> dict[str, object]:
            # A copy for one caller, as the API and the console make: the same file reads.
            rows, _ = await admin.within(lambda c: True).listing(
                lambda c: True, reads_messages=lambda c: True
            )
            [row] = rows
            return row

        assert (await listed())["address"] == "127.0.0.1:2575"
        before = path.stat()
        path.write_text(dump_destination(destination("noord", 2576, providers=["p"])))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert path.stat().st_size == before.st_size
        row = await listed()
        assert (row["address"], row["state"], row["revision"]) == ("127.0.0.1:2576", "active", None)

        path.write_text(path.read_text().replace("port: 2576", "port: many"))
        row = await listed()
        assert row["state"] == "broken" and row["address"] == "127.0.0.1:2575"  # its last good
        assert row["revision"] == 1
        problem = row["problem"]
        assert isinstance(problem, dict) and problem["key"] == "port"
    finally:
        await store.close()
