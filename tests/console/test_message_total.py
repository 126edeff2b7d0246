"""The console's message search says which of how many messages it shows, as the CLI's
listings say "N of M": counted (one count) only when the results fill more than a page.
Request by request against a real engine."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.console.pages import messages as messages_page
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        for n in range(3):
            message = make_message(destination_id="noord", status="dead")
            await started.store.accept_event(make_event(zd_number=f"ZD{n + 1:09d}"), [message])
        other = make_message(destination_id="noord", status="delivered")
        await started.store.accept_event(make_event(zd_number="ZD000000009"), [other])
        yield started


def _total(page: str) -> str:
    found = re.search(r'<p id="message-total" role="status">(.*?)</p>', page, re.S)
    assert found, page
    return html.unescape(found[1])


async def test_the_search_says_which_of_how_many_it_shows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messages_page, "PAGE_SIZE", 2)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        first = await sam.get("/messages", params={"destination": "noord", "status": "dead"})
        second = await sam.get(
            "/messages", params={"destination": "noord", "status": "dead", "offset": "2"}
        )
        one = await sam.get("/messages", params={"zd_number": "ZD000000009"})
    assert _total(first.text) == "1–2 of 3 messages found"
    assert _total(second.text) == "3–3 of 3 messages found"
    assert _total(one.text) == "1–1 of 1 message found"
    async with signed_in(engine, "anna@example.org", Grant(Role.RESEND), lang="nl") as anna:
        dutch = await anna.get("/messages", params={"destination": "noord"})
    assert _total(dutch.text) == "1–2 van 4 gevonden berichten"
