"""``/metrics`` while the store is down: the scrape says ``integrator_store_up 0``.

The scrape's token is checked in the store, so with the store down the scrape answered 503 and
``IntegratorStoreDown`` (``integrator_store_up == 0``) could never fire: Prometheus saw only an
engine down. Now a token whose last check (before the outage, at most 15 minutes ago) found it
reading the metrics is taken as it was, for ``/metrics`` only (``integrator.access.remembered``).

The store really goes away: the engine reaches its PostgreSQL database through a proxy the test
cuts, as a server that went away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from integrator.access import Grant, Role
from integrator.access.permissions import Permission
from integrator.access.remembered import REMEMBERED_FOR
from integrator.access.routes import ROUTE_PERMISSIONS
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.http import create_app
from integrator.http.errors import STORE_BACK
from tests.deploy.proxy import CuttableProxy
from tests.http.support import MAKER, bearer
from tests.integrator.support import settings_for
from tests.services import POSTGRES_HOST, POSTGRES_PORT, scratch_database

pytestmark = pytest.mark.postgres

REMEMBERED_LINE = "the store is unavailable; the scrape's token is taken as last checked"


@asynccontextmanager
async def engine_behind_proxy(
    tmp_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[Engine, CuttableProxy]]:
    """An engine on a new PostgreSQL database reached through a proxy the test can cut."""
    async with scratch_database() as (name, _):
        proxy = CuttableProxy(POSTGRES_HOST, POSTGRES_PORT)
        port = await proxy.start()
        settings = settings_for(
            tmp_path,
            database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{name}",
            search_key="a-test-search-key-of-enough-length",
        )
        engine = Engine(settings, clock=clock, catalog=build_catalog([], today=date.today()))
        await engine.start()
        try:
            yield engine, proxy
        finally:
            await proxy.restore_if_cut()
            await engine.stop()
            await proxy.close()


def scrape_says(answer: httpx.Response, line: str) -> bool:
    return answer.status_code == 200 and line in answer.text.splitlines()


async def test_a_token_checked_before_the_outage_scrapes_store_up_0_and_nothing_else_does(
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with engine_behind_proxy(tmp_path, clock) as (engine, proxy):
        made = {
            name: await engine.access.create_token(MAKER, name, grants)
            for name, grants in (
                ("prometheus", [Grant(Role.METRICS)]),
                ("never-used", [Grant(Role.METRICS)]),
                ("revoked", [Grant(Role.METRICS)]),
                ("viewer", [Grant(Role.VIEWER)]),
            )
        }
        app = create_app(engine)
        transport = httpx.ASGITransport(app=app)

        async def get(path: str, token: str) -> httpx.Response:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://api", headers=bearer(made[token].token)
            ) as client:
                return await client.get(path)

        # Before the outage: the scraper's token and the revoked one are checked; the revoked
        # one's last check (after its revocation) refuses it. The viewer's reads messages.
        assert scrape_says(await get("/metrics", "prometheus"), "integrator_store_up 1.0")
        assert (await get("/metrics", "revoked")).status_code == 200
        await engine.access.revoke_token(MAKER, made["revoked"].id)
        assert (await get("/metrics", "revoked")).status_code == 401
        assert (await get("/metrics", "viewer")).status_code == 403
        assert (await get("/api/v1/messages", "viewer")).status_code == 200
        assert (await get("/api/v1/messages", "prometheus")).status_code == 403

        await proxy.cut()
        with capture_logs() as logs:
            down = await get("/metrics", "prometheus")
            again = await get("/metrics", "prometheus")
        assert scrape_says(down, "integrator_store_up 0.0"), down.text
        assert scrape_says(again, "integrator_store_up 0.0"), again.text
        [said] = [e for e in logs if e["event"] == REMEMBERED_LINE]  # once, not per scrape
        assert said["token"] == "token:prometheus"
        assert made["prometheus"].token not in str(logs)

        # Nothing else is answered from memory: a token never checked, one revoked, one that
        # may not read the metrics, and every other route, the scraper's token too.
        for token in ("never-used", "revoked", "viewer"):
            refused = await get("/metrics", token)
            assert refused.status_code == 503, (token, refused.text)
        for token in ("prometheus", "viewer"):
            other = await get("/api/v1/messages", token)
            assert other.status_code == 503, (token, other.text)

        # Remembered for a bounded time after the last check only. A scrape answered from
        # memory after the refusals above does not say that the store is back.
        with capture_logs() as during:
            clock.advance(REMEMBERED_FOR - timedelta(seconds=1))
            assert scrape_says(await get("/metrics", "prometheus"), "integrator_store_up 0.0")
            clock.advance(timedelta(seconds=1))
            assert (await get("/metrics", "prometheus")).status_code == 503
        assert [e for e in during if e["event"] == STORE_BACK] == []

        await proxy.restore()
        with capture_logs() as after:
            back = await get("/metrics", "prometheus")
        assert scrape_says(back, "integrator_store_up 1.0"), back.text
        assert [e["route"] for e in after if e["event"] == STORE_BACK] == ["/metrics"]


async def test_a_token_past_its_expiry_is_not_remembered_beyond_it(tmp_path: Path) -> None:
    """Its expiry is kept with the check: a token that expires during the outage stops there,
    not 15 minutes after its last check."""
    clock = ManualClock(datetime.now(UTC))
    async with engine_behind_proxy(tmp_path, clock) as (engine, proxy):
        made = await engine.access.create_token(
            MAKER, "prometheus", [Grant(Role.METRICS)], expires_in=timedelta(minutes=5)
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(engine)),
            base_url="http://api",
            headers=bearer(made.token),
        ) as client:
            assert scrape_says(await client.get("/metrics"), "integrator_store_up 1.0")
            await proxy.cut()
            clock.advance(timedelta(minutes=4))
            assert scrape_says(await client.get("/metrics"), "integrator_store_up 0.0")
            clock.advance(timedelta(minutes=1))
            assert (await client.get("/metrics")).status_code == 503


def test_only_the_metrics_route_declares_the_permission_answered_from_memory() -> None:
    """A route given ``metrics.read`` later would be answered from memory too: a decision to
    make, not an accident."""
    declaring = [route for route, p in ROUTE_PERMISSIONS.items() if p is Permission.METRICS_READ]
    assert declaring == [("GET", "/metrics")]
