"""A console page the store cannot answer is a page, not the API's JSON: a value sealed with a
data key the engine was not started with (a rotation behind its back) is a 503 in the
person's language that says what to do, and so is a store that is gone (a 503 that says to
try again, with Retry-After), while the API's own routes still answer JSON."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from integrator.clock import ManualClock
from integrator.datakeys import sealer_for
from integrator.engine import Engine
from integrator.store import Store
from tests.console.test_session import START, accepted, client, sign_in
from tests.deploy.conftest import pg_database  # noqa: F401  (a fresh PostgreSQL database)
from tests.deploy.proxy import CuttableProxy
from tests.http.support import api_client
from tests.integrator.support import settings_for
from tests.integrator.test_data_keys import SEARCH_KEY, entry, fill
from tests.services import POSTGRES_HOST, POSTGRES_PORT

OLD, NEW = entry("kid1"), entry("kid2")


async def test_a_missing_data_key_is_a_dutch_page_on_the_console_and_json_on_the_api(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, data_keys=OLD, search_key=SEARCH_KEY)
    settings.destinations_dir.mkdir()
    [message_id] = await asyncio.to_thread(fill, tmp_path, OLD, 1)
    engine = Engine(settings)
    await engine.start()
    try:
        # Rotated behind its back: the engine lacks kid2, which now seals the message.
        async with await Store.open(settings.database_url, sealer=sealer_for(f"{NEW},{OLD}")) as s:
            await s.rotate_data_keys(actor="local:test")

        totp = await accepted(engine)
        async with client(engine) as browser:
            await sign_in(browser, engine, totp)
            browser.cookies.set("integrator-lang", "nl")
            answer = await browser.get(f"/messages/{message_id}")
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("text/html")
        assert "<h1>Tijdelijk niet beschikbaar</h1>" in answer.text
        assert "versleuteld met datasleutel kid2" in answer.text
        assert "INTEGRATOR_DATA_KEYS" in answer.text
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")

        async with api_client(engine) as api:
            json_answer = await api.get(f"/api/v1/messages/{message_id}")
        assert json_answer.status_code == 503
        assert "sealed with data key 'kid2'" in json_answer.json()["detail"]
    finally:
        await engine.stop()


@pytest.mark.postgres
async def test_a_store_that_is_gone_is_a_dutch_page_on_the_console_and_json_on_the_api(
    tmp_path: Path,
    pg_database: str,  # noqa: F811  (the fixture imported above)
) -> None:
    """PostgreSQL reached through a proxy the test cuts once the person is signed in: the
    engine sees a server that went away (connections dropped, the port refusing), which the
    store raises as ``StoreUnavailable``."""
    proxy = CuttableProxy(POSTGRES_HOST, POSTGRES_PORT)
    port = await proxy.start()
    settings = settings_for(
        tmp_path,
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{pg_database}",
        search_key="a-console-test-search-key",
    )
    settings.destinations_dir.mkdir()
    engine = Engine(settings, clock=ManualClock(START))  # the codes of ``accepted``'s time
    await engine.start()
    try:
        totp = await accepted(engine)
        async with client(engine) as browser, api_client(engine) as api:
            await sign_in(browser, engine, totp)
            browser.cookies.set("integrator-lang", "nl")
            assert (await browser.get("/messages")).status_code == 200
            await proxy.cut()

            answer = await browser.get("/messages")
            json_answer = await api.get("/api/v1/messages")
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["retry-after"] == "5"
        assert "<h1>Tijdelijk niet beschikbaar</h1>" in answer.text
        assert "De opslag is op dit moment niet bereikbaar" in answer.text
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")

        assert json_answer.status_code == 503
        assert json_answer.headers["content-type"] == "application/json"
        assert json_answer.headers["retry-after"] == "5"
        assert json_answer.json() == {"detail": "the store is unavailable; try again later"}
    finally:
        await proxy.restore_if_cut()
        await engine.stop()
        await proxy.close()
