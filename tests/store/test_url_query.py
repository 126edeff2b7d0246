"""A PostgreSQL URL with the libpq keys people paste (``?sslmode=require``) connects as libpq
would, on the real server: those keys used to reach asyncpg as unknown keywords and end in a
``TypeError`` traceback. Keys without an asyncpg equivalent are refused by the settings
(``tests/integrator/test_settings_urls.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.store import Store, StoreConfigError, StoreTlsError
from integrator.store.engine import create_engine
from integrator.store.url import asyncpg_arguments, resolve
from tests.services import require_postgres
from tests.store.conftest import Site, postgres_site

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cr3t-pw"  # trust authentication: the server ignores it, the output must not show it


@pytest.fixture
async def pg() -> AsyncIterator[Site]:
    async with postgres_site() as site:
        yield site


def with_query(url: str, query: str) -> str:
    """The test database's URL with a password (ignored under trust) and ``query``."""
    return url.replace("postgres@", f"postgres:{PASSWORD}@") + f"?{query}"


async def session(url: str) -> tuple[str, bool]:
    """The application name and whether TLS is on, as the server sees a connection of ``url``."""
    engine = create_engine(resolve(url))
    try:
        async with engine.connect() as conn:
            row = (
                await conn.exec_driver_sql(
                    "SELECT current_setting('application_name'), "
                    "coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)"
                )
            ).one()
    finally:
        await engine.dispose()
    name, tls = tuple(row)
    return str(name), bool(tls)


async def server_offers_tls(url: str) -> bool:
    engine = create_engine(resolve(url))
    try:
        async with engine.connect() as conn:
            return (await conn.exec_driver_sql("SHOW ssl")).scalar() == "on"
    finally:
        await engine.dispose()


async def test_sslmode_disable_and_application_name_connect(pg: Site) -> None:
    for query in ("sslmode=disable", "application_name=x", "connect_timeout=5&sslmode=prefer"):
        store = await Store.open(with_query(pg.url, query), schema=pg.schema)
        await store.ping()
        await store.close()
    assert await session(with_query(pg.url, "sslmode=disable")) == ("integrator", False)
    assert (await session(with_query(pg.url, "application_name=x")))[0] == "x"


async def test_sslmode_require_connects_with_tls_or_says_why_in_one_line(pg: Site) -> None:
    url = with_query(pg.url, "sslmode=require")
    if await server_offers_tls(pg.url):
        assert (await session(url))[1] is True
        return
    with pytest.raises(StoreTlsError) as refused:
        await Store.open(url, schema=pg.schema)
    said = str(refused.value)
    assert said.startswith("TLS to the store failed (sslmode=require in INTEGRATOR_DATABASE_URL)")
    assert "rejected SSL upgrade" in said and PASSWORD not in said


def test_sslmode_require_without_tls_is_one_line_from_the_cli() -> None:
    """As people meet it: one line, exit 1 (not bad input: the server has no TLS), no
    traceback, no password."""
    url = with_query(require_postgres(), "sslmode=require")
    env = {
        **os.environ,
        "INTEGRATOR_DATABASE_URL": url,
        "INTEGRATOR_SEARCH_KEY": "url-query-tests-search-key",
    }
    shown = subprocess.run(
        [sys.executable, "-m", "integrator", "messages", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    lines = shown.stderr.strip().splitlines()
    assert PASSWORD not in shown.stderr + shown.stdout
    if lines and lines[-1].startswith("store: "):  # the server has TLS: it connected
        return
    assert shown.returncode == 1, shown.stderr
    assert lines == [lines[0]] and lines[0].startswith("error: TLS to the store failed"), lines
    assert "rejected SSL upgrade" in lines[0]


async def test_a_root_certificate_file_that_is_not_there_is_named(pg: Site) -> None:
    """``sslrootcert`` reaches asyncpg (through a DSN of its own) and a missing file is named."""
    missing = "/nonexistent/root.crt"
    with pytest.raises(StoreTlsError) as refused:
        await Store.open(
            with_query(pg.url, f"sslmode=verify-ca&sslrootcert={missing}"), schema=pg.schema
        )
    assert f"sslrootcert={missing}: No such file or directory" in str(refused.value)


def test_the_libpq_keys_become_asyncpgs_arguments() -> None:
    assert asyncpg_arguments(
        {
            "sslmode": "verify-full",
            "connect_timeout": "7",
            "application_name": "lab",
            "sslrootcert": "/etc/ca.pem",
        }
    ) == {
        "ssl": "verify-full",
        "timeout": 7.0,
        "server_settings": {"application_name": "lab"},
        "dsn": "postgresql://?sslrootcert=%2Fetc%2Fca.pem",
    }


def test_a_key_without_an_equivalent_is_refused_by_the_store_too() -> None:
    """``Store.open`` is also called without settings (tests, tools): the same rule."""
    with pytest.raises(StoreConfigError, match=r"unknown query key 'bogus'"):
        resolve(with_query(require_postgres(), "bogus=1"))
