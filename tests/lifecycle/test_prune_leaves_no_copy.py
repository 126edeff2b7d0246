"""What ``integrator prune`` removes is gone from the store's files too, not only from its rows.

A SQLite store in WAL mode keeps the pages a prune rewrote in ``<database>-wal`` and the pages
as they were in the database file until a checkpoint copies the new ones back, and the WAL file
is never shortened: frames past the point where the next writes end keep their old pages. With
an engine running (here: a connection left open, as the engine's are), nothing closes the last
connection to checkpoint the file, so a patient's name the prune emptied stayed readable in
both files, for anyone who copies them (a file-level backup, a disk image) or reads the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from integrator.cli import app
from integrator.searchkey import resolve_search_key
from integrator.settings import Settings
from integrator.store import Store
from tests.store.factories import make_event, make_message

NAME = "Zwanenburgh-Oudkerk"
"""A patient's family name no other value in the store holds."""

HL7 = (
    "MSH|^~\\&|INTEGRATOR||HIS|ZNOORD|20261120091500+0100||REF^I12^REF_I12|x|P|2.5.1\r"
    f"PID|1||999990019^^^NLMINBIZA^NNNLD||{NAME}^Jan\r"
)


async def fill(url: str, *, at: datetime) -> None:
    """Delivered messages of a patient called ``NAME``, written ``at`` (past their period)."""
    resolve_search_key(Settings(database_url=url), create=True)
    store = await Store.open(url, clock=lambda: at)
    try:
        for _ in range(20):
            event = make_event(
                received_at=at, payload={"patient": {"name": {"family": NAME}}, "note": "x" * 500}
            )
            message = make_message(payload=HL7.encode())
            assert await store.accept_event(event, [message])
            await store.set_status(message.id, "delivered")
    finally:
        await store.close()


def copies(database: Path) -> dict[str, int]:
    """How often the name is in each of the store's files that exist."""
    found = {}
    for path in (database, Path(f"{database}-wal")):
        if path.exists():
            found[path.name] = path.read_bytes().count(NAME.encode())
    return found


def test_a_prune_beside_an_open_connection_leaves_no_copy_of_what_it_pruned(
    tmp_path: Path,
) -> None:
    database = tmp_path / "integrator.db"
    url = f"sqlite:///{database}"
    asyncio.run(fill(url, at=datetime.now(UTC) - timedelta(days=200)))
    assert sum(copies(database).values()) > 0  # the test can see the name where it is
    # An engine's connection: open, in no transaction, so the prune's is never the last.
    with contextlib.closing(sqlite3.connect(database)) as engine_connection:
        engine_connection.execute("SELECT count(*) FROM events").fetchone()
        result = CliRunner().invoke(
            app, ["prune", "--quiet"], env={"INTEGRATOR_DATABASE_URL": url, "USER": "tester"}
        )
        assert result.exit_code == 0, result.output
        assert "message payloads" in result.stdout
        pruned = engine_connection.execute(
            "SELECT count(*) FROM messages WHERE pruned_at IS NOT NULL"
        ).fetchone()[0]
        assert pruned == 20
        assert set(copies(database).values()) == {0}, copies(database)
