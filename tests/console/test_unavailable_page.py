"""A console page the store cannot answer is a page, not the API's JSON: a value sealed with a
data key the engine was not started with (a rotation behind its back) is a 503 in the
person's language that says what to do, while the API's own route still answers JSON."""

from __future__ import annotations

import asyncio
from pathlib import Path

from integrator.datakeys import sealer_for
from integrator.engine import Engine
from integrator.store import Store
from tests.console.test_session import accepted, client, sign_in
from tests.http.support import api_client
from tests.integrator.support import settings_for
from tests.integrator.test_data_keys import SEARCH_KEY, entry, fill

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
