"""The destinations directory gone or unreadable, on the scrape.

While the engine cannot read its destinations directory it keeps delivering with the
destinations in service, so neither delivery nor readiness said anything: no metric, no alert,
``/readyz`` ready. Now ``integrator_destinations_directory_readable`` is 0 meanwhile (its
alert: ``IntegratorDestinationsDirectoryUnreadable``), and readiness stays as it is, since
delivery goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.scrape import directory_readable
from tests.delivery.support import submit
from tests.file_powers import without_file_powers
from tests.http.support import api_client
from tests.integrator.support import destination, engine_on_destinations, settings_for

READABLE = "integrator_destinations_directory_readable"


async def readable(client: httpx.AsyncClient) -> float:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    [line] = [line for line in answer.text.splitlines() if line.startswith(READABLE + " ")]
    return float(line.split()[1])


async def delivered(engine: Engine, referral_data: dict[str, Any]) -> bool:
    [message_id] = await submit(engine, referral_data)
    assert await engine.wait_settled(timeout=20)
    message = await engine.store.get_message(message_id)
    return message is not None and message.status == "delivered"


async def test_a_directory_gone_is_0_on_the_scrape_while_delivery_and_readiness_go_on(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    settings = settings_for(tmp_path)
    async with MllpReceiver() as receiver:
        noord = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
        async with (
            engine_on_destinations(settings, noord) as engine,
            api_client(engine) as client,
        ):
            assert await readable(client) == 1
            away = tmp_path / "unmounted"
            settings.destinations_dir.rename(away)  # a volume not mounted, a swap gone wrong

            assert await readable(client) == 0
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert "noord" in engine.catalog.destinations  # in service as it was
            assert await delivered(engine, referral_data)

            away.rename(settings.destinations_dir)
            assert await readable(client) == 1


def test_a_file_where_the_directory_should_be_is_not_readable(tmp_path: Path) -> None:
    (tmp_path / "destinations").write_text("not a directory")
    assert not directory_readable(tmp_path / "destinations")
    assert not directory_readable(tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    assert directory_readable(tmp_path / "empty")


@without_file_powers
def test_a_directory_the_engine_may_not_list_or_search_is_not_readable(tmp_path: Path) -> None:
    """Without read permission the names cannot be listed; without search (execute) they
    can, but no file in it opens: the engine reads no destination either way."""
    directory = tmp_path / "destinations"
    directory.mkdir()
    (directory / "noord.yaml").write_text("id: noord\n")
    try:
        for mode in (0o300, 0o600):
            directory.chmod(mode)
            assert not directory_readable(directory), oct(mode)
        directory.chmod(0o700)
        assert directory_readable(directory)
    finally:
        directory.chmod(0o700)
