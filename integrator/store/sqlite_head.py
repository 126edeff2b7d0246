"""A new SQLite store made in one transaction from the head schema, not by replaying migrations.

Replaying every Alembic revision on an empty file (SQLite's batch mode copies a table for each
``ALTER``, and Alembic loads each revision's module) costs about a quarter of a second of CPU
per new store. Every first ``integrator demo``, every new deployment and nearly every test pays
it, for a schema that is always the same. So an **empty** SQLite database gets the statements
the migrations leave in ``sqlite_master`` at head, read from ``migrations/sqlite_head.json``,
and the head revision in Alembic's version table, in one transaction under SQLite's write lock.

The file is written by ``python -m integrator.store.sqlite_head`` (``make schemas``), which
migrates a scratch database with Alembic and reads its ``sqlite_master`` back. A test does the
same and compares, so a new revision without a new file fails there; and a file whose revision
is not ``HEAD_REVISION`` is not used (the store is migrated as before). A database with any
table in it, and every PostgreSQL store, goes through Alembic as before.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from integrator.store.failures import translate
from integrator.store.schema_version import HEAD_REVISION, HEAD_VERSION_ROW

HEAD_FILE = Path(__file__).resolve().parent / "migrations" / "sqlite_head.json"

# Tables before indexes before triggers and views: each may name only what came before it.
_ORDER = {"table": 0, "index": 1, "trigger": 2, "view": 3}

# SQLite's own objects (``sqlite_sequence`` for AUTOINCREMENT, the automatic indexes of UNIQUE
# and PRIMARY KEY constraints) are made by the statements themselves; they have no SQL of
# their own to replay.
_OWN_OBJECTS = (
    "SELECT type, name, sql FROM sqlite_master "
    "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
)


def schema_statements(connection: Connection) -> list[str]:
    """The statements that make this database's schema again, in an order SQLite accepts."""
    rows = connection.exec_driver_sql(_OWN_OBJECTS).all()
    ordered = sorted(enumerate(rows), key=lambda item: (_ORDER.get(item[1][0], 9), item[0]))
    return [row[2] for _, row in ordered]


@cache
def head_statements() -> tuple[str, ...] | None:
    """The head schema's statements, or None when the file is missing or for another revision."""
    try:
        recorded: dict[str, Any] = json.loads(HEAD_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if recorded.get("revision") != HEAD_REVISION:
        return None
    return tuple(recorded["statements"])


async def create_if_empty(engine: AsyncEngine) -> bool:
    """Make the head schema in an empty SQLite database; False, touching nothing, otherwise.

    ``BEGIN IMMEDIATE`` takes SQLite's one write lock first, so of several processes opening
    the same new file one creates the schema and the others, looking again under the lock,
    find tables and leave the rest to the usual revision check.

    The whole transaction is one script (``_script``), run by the driver in one call: sent
    statement by statement, each of the ~60 took a hand-over to aiosqlite's thread and back,
    15 ms of the 19 a new store cost. SQL has no ``IF``, so the check that the file is empty
    is a ``CHECK`` constraint on a temporary table: a file with anything in it fails there,
    before anything is created, and the transaction is rolled back.
    """
    script = _script()
    if script is None:
        return False
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        try:
            await driver.executescript(script)
        except sqlite3.Error as exc:
            # The driver's own error, not SQLAlchemy's: ``translate`` gives it the store's
            # meaning (SQLITE_BUSY is transient, and the open tries again).
            if driver.in_transaction:
                await driver.rollback()
            if getattr(exc, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_CHECK":
                return False  # not empty: only the first check in the script is a CHECK
            raise translate("create the store's schema", exc) from None
    return True


# Objects of the store's own in the file (what ``sqlite_master`` holds besides SQLite's own).
_IN_USE = "SELECT count(*) FROM main.sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"


def _script() -> str | None:
    """The new store's transaction as one script, or None without a usable head file."""
    statements = head_statements()
    if statements is None:
        return None
    return ";\n".join(
        (
            "BEGIN IMMEDIATE",
            "CREATE TEMP TABLE objects_in_a_new_store (n INTEGER CHECK (n = 0))",
            f"INSERT INTO temp.objects_in_a_new_store {_IN_USE}",
            "DROP TABLE temp.objects_in_a_new_store",
            *statements,
            HEAD_VERSION_ROW,
            "COMMIT;",
        )
    )


async def migrated_statements() -> list[str]:
    """The statements of a scratch database that Alembic has migrated to head."""
    from integrator.store.engine import create_engine
    from integrator.store.migrate import upgrade_to_head
    from integrator.store.url import resolve

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(resolve(f"sqlite+aiosqlite:///{scratch}/head.db"))
        try:
            await upgrade_to_head(engine)
            async with engine.connect() as conn:
                return await conn.run_sync(schema_statements)
        finally:
            await engine.dispose()


def render(statements: list[str]) -> str:
    """The file's text: the revision the statements belong to, then the statements."""
    return json.dumps({"revision": HEAD_REVISION, "statements": statements}, indent=1) + "\n"


def main() -> int:
    """Write ``sqlite_head.json`` for the migrations as they are now."""
    HEAD_FILE.write_text(render(asyncio.run(migrated_statements())), encoding="utf-8")
    print(f"wrote {HEAD_FILE.name} for revision {HEAD_REVISION}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
