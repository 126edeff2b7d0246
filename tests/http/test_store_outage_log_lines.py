"""A store outage is told by each route's first failed request, then once a minute, then back.

Found by an on-call review: with PostgreSQL away, every request logged ``http request failed``,
53 lines in two minutes from two pollers. The engine reaches PostgreSQL through a proxy the
test cuts (``tests.deploy.proxy``), which it sees exactly as a server gone away; two routes are
polled as a dashboard and a script poll them. The outage log's clock is the test's, moved a
minute on by hand. An error that is not the store's is still logged every time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from integrator.engine import Engine
from integrator.http import create_app
from integrator.http.errors import (
    STILL_FAILING,
    STORE_BACK,
    StoreOutages,
    log_failure,
    watch_store_outages,
)
from tests.deploy.conftest import pg_database  # noqa: F401  (a fresh PostgreSQL database)
from tests.deploy.proxy import CuttableProxy
from tests.http.support import api_client
from tests.integrator.support import settings_for
from tests.services import POSTGRES_HOST, POSTGRES_PORT

pytestmark = pytest.mark.postgres

FAILED = "http request failed"
POLLED = ("/api/v1/messages", "/api/v1/deadletters")


class Seconds:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(logs: Sequence[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == event]


async def poll(api: httpx.AsyncClient, times: int, status: int) -> None:
    """Both pollers ask ``times`` times; each answer is ``status``."""
    for _ in range(times):
        for path in POLLED:
            answer = await api.get(path)
            assert answer.status_code == status, answer.text


@pytest.fixture
async def proxied(
    tmp_path: Path,
    pg_database: str,  # noqa: F811  (the fixture imported above)
) -> AsyncIterator[tuple[Engine, CuttableProxy]]:
    proxy = CuttableProxy(POSTGRES_HOST, POSTGRES_PORT)
    port = await proxy.start()
    settings = settings_for(
        tmp_path,
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{pg_database}",
        search_key="a-test-search-key-of-enough-length",
    )
    settings.destinations_dir.mkdir()
    engine = Engine(settings)
    await engine.start()
    try:
        yield engine, proxy
    finally:
        await proxy.restore_if_cut()
        await engine.stop()
        await proxy.close()


async def test_a_store_outage_is_told_once_per_route_then_once_a_minute_then_back(
    proxied: tuple[Engine, CuttableProxy],
) -> None:
    engine, proxy = proxied
    clock = Seconds()
    app = create_app(engine)
    watch_store_outages(app.app, StoreOutages(clock=clock))
    async with api_client(engine, app=app) as api:
        await poll(api, 1, 200)
        await proxy.cut()
        # The token's read meets its kept connection closed (08003) once, then the port
        # refusing (08001): a third route takes that first failure, so the polled ones each
        # meet the one cause.
        assert (await api.get("/api/v1/events")).status_code == 503
        with capture_logs() as logs:
            await poll(api, 10, 503)
        told = lines(logs, FAILED)
        assert [e["route"] for e in told] == list(POLLED)  # the first failure of each, in full
        assert all("(ConnectionRefusedError, 08001)" in e["error"] for e in told)
        assert all(e["method"] == "GET" and e["error_type"] == "StoreUnavailable" for e in told)
        assert lines(logs, STILL_FAILING) == []

        clock.now += 60  # a minute on: one line per route counts the requests failed meanwhile
        with capture_logs() as logs:
            await poll(api, 3, 503)
        assert lines(logs, FAILED) == []
        still = lines(logs, STILL_FAILING)
        assert [(e["route"], e["failed"], e["failing_for_s"]) for e in still] == [
            (route, 10, 60) for route in POLLED
        ]  # nine since the first line, and the one now
        assert all("(ConnectionRefusedError, 08001)" in e["error"] for e in still)
        assert all(e["log_level"] == "error" for e in still)

        # An error that is not the store's is told every time, during the outage too.
        with capture_logs() as logs:
            for _ in range(3):
                log_failure({"method": "GET", "route": None, "app": app.app}, RuntimeError("x"))
        assert [e["error_type"] for e in lines(logs, FAILED)] == ["RuntimeError"] * 3
        assert all("error" not in e for e in logs)  # its text is never told

        await proxy.restore()
        with capture_logs() as logs:
            await poll(api, 2, 200)
        back = lines(logs, STORE_BACK)
        assert [(e["route"], e["failed"], e["failed_for_s"]) for e in back] == [
            (route, 13, 60) for route in POLLED
        ]
        assert all(e["log_level"] == "info" for e in back)
        assert lines(logs, FAILED) == lines(logs, STILL_FAILING) == []

        # The next outage is told from its first failure again.
        await proxy.cut()
        assert (await api.get("/api/v1/events")).status_code == 503
        with capture_logs() as logs:
            await poll(api, 3, 503)
        assert [e["route"] for e in lines(logs, FAILED)] == list(POLLED)
        await proxy.restore()
