"""Which schema revision a store holds, read with plain SQL instead of Alembic.

Nearly every open finds the store at the newest revision: every command that reads the store,
every engine start, every test. Alembic's upgrade (its import, its script directory, its
environment) is only needed when the revision differs, so the open first reads the version
table and compares it with ``HEAD_REVISION``; ``integrator.store.migrate`` runs only for a new
store, an older one, or one it does not know (newer code migrated it: Alembic refuses it).
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store.errors import StoreError
from integrator.store.failures import diagnose, translate
from integrator.store.url import NoStore
from integrator.store_head import HEAD_REVISION as HEAD_REVISION  # where a revision moves it

assert HEAD_REVISION.isdigit()
HEAD_VERSION_ROW = f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD_REVISION}')"  # noqa: S608
"""The head revision as a literal, for a new store's schema sent as one script (no parameters)."""

MISSING_DATABASE = "3D000"
"""PostgreSQL's SQLSTATE for "database does not exist"."""

# Alembic's default version table, unqualified as Alembic uses it: on PostgreSQL the schema is
# the one on the connection's search path (``integrator.store.engine``), as for every table.
_TABLE_EXISTS = {
    "postgresql": "SELECT to_regclass('alembic_version') IS NOT NULL",
    "sqlite": "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' "
    "AND name = 'alembic_version'",
}


async def stored_revision(conn: AsyncConnection) -> str | None:
    """The store's revision; None without a version table or with an empty one (no store).

    Several rows (Alembic branches, which this project has none of) come back joined, so they
    never equal ``HEAD_REVISION`` and the open leaves them to Alembic as before.
    """
    exists = (await conn.exec_driver_sql(_TABLE_EXISTS[conn.dialect.name])).scalar()
    if not exists:
        return None
    result = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
    revisions = sorted(result.scalars())
    return ",".join(revisions) if revisions else None


async def require_store(engine: AsyncEngine, display: str) -> str:
    """The revision of the store the engine points at; ``NoStore`` naming ``display`` if none.

    No store: a PostgreSQL database that does not exist, or no Alembic version table in the
    database (on PostgreSQL: in the schema on the search path). Any other failure is the store's
    usual error, without the driver's text.
    """
    failure: StoreError
    try:
        async with engine.connect() as conn:
            revision = await stored_revision(conn)
        if revision is not None:
            return revision
        failure = NoStore(display, "it holds no Integrator store")
    except (sa_exc.SQLAlchemyError, OSError) as error:
        # Raised below, outside this block, so the driver's text is not kept as the context.
        if diagnose(error).code == MISSING_DATABASE:
            failure = NoStore(display, "the database does not exist", missing_database=True)
        else:
            failure = translate("open the store", error, engine.url)
    raise failure
