"""Alembic environment, driven from code.

At runtime ``integrator.store.migrate`` passes an open connection in ``config.attributes``; the
upgrade then runs inside the caller's transaction (and lock). For developers writing a new
revision (``alembic -c <ini with script_location and sqlalchemy.url> revision --autogenerate``) the
URL path opens its own async engine.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from integrator.store.engine import create_engine
from integrator.store.tables import metadata
from integrator.store.url import resolve


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite can only change tables by copying them; batch mode writes that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engine = create_engine(resolve(url))
    try:
        async with engine.connect() as conn:
            await conn.run_sync(run_on)
            await conn.commit()
    finally:
        await engine.dispose()


def run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("set sqlalchemy.url, or pass a connection in config.attributes")
    if context.is_offline_mode():
        run_offline(url)
    else:
        asyncio.run(run_from_url(url))


main()
