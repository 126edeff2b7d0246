"""The dead-letter page says when it shows only part of what matches (how many of how many,
each group's count as "shown"), and a confirmation posted with a reason of blanks is the
confirmation again, the refusal beside the reason, its selection, period and one-time token
kept, nothing done. Request by request against a real engine."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.console.pages import deadletters
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_saved_searches import ORIGIN, csrf, post, signed_in
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def _dead(engine: Engine, count: int, why: str) -> list[str]:
    """``count`` dead letters to noord that died of ``why``, each of its own referral."""
    ids = []
    for _ in range(count):
        message = make_message(destination_id="noord", status="dead")
        await engine.store.accept_event(make_event(), [message])
        await engine.store.set_status(message.id, "dead", last_error=why)
        ids.append(message.id)
    return ids


async def test_more_than_it_shows_is_said_with_how_many(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadletters, "SHOWN", 5)
    await _dead(engine, 2, "connection refused")  # older: beyond what the page shows
    await _dead(engine, 5, "AR from the receiver")
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        dutch = await sam.get("/deadletters", params={"destination": "noord"})
    async with signed_in(engine, "sue@example.org", Grant(Role.RESEND)) as sue:
        english = await sue.get("/deadletters")
        whole = await sue.get("/deadletters", params={"since": "1h"})
        monkeypatch.setattr(deadletters, "SHOWN", 7)
        everything = await sue.get("/deadletters")
    assert english.status_code == 200, english.text
    said = html.unescape(english.text)
    assert "5 of 7 shown; narrow by destination or period to see the rest." in said
    assert "5 shown" in said and "5 messages" not in said  # the group's count is of these
    assert "5 van 7 getoond; beperk op bestemming of periode" in html.unescape(dutch.text)
    assert "5 van 7 getoond" in html.unescape(dutch.text) and "5 getoond" in dutch.text
    assert "5 of 7 shown" in html.unescape(whole.text)  # within a period: counted in it too
    # All shown: no notice, and each group's count is all of it.
    assert 'id="dead-cut"' not in everything.text
    assert "5 messages" in everything.text and "2 messages" in everything.text


async def _post(
    browser: httpx.AsyncClient, url: str, data: dict[str, str | list[str]]
) -> httpx.Response:
    token = csrf((await browser.get("/messages")).text)
    return await browser.post(url, data={"csrf": token, **data}, headers=ORIGIN)


def _form(answer: str, action: str) -> dict[str, str | list[str]]:
    """The confirmation form's hidden fields (the ids as a list)."""
    found = re.search(rf'<form[^>]*action="{action}"[^>]*>(.*?)</form>', answer, re.S)
    assert found, answer
    fields: dict[str, str | list[str]] = {}
    ids: list[str] = []
    for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', found[1]):
        if name == "ids":
            ids.append(value)
        else:
            fields[name] = html.unescape(value)
    return {**fields, "ids": ids}


@pytest.mark.parametrize("action", ["resend", "discard"])
async def test_a_reason_of_blanks_is_refused_beside_it_on_the_confirmation(
    engine: Engine, action: str
) -> None:
    ids = await _dead(engine, 2, "AR from the receiver")
    terms = {"destination": "noord", "since": "1h"}
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await _post(sam, "/deadletters/confirm", {"action": action, "ids": ids, **terms})
        assert shown.status_code == 200, shown.text
        form = _form(shown.text, f"/deadletters/{action}")
        refused = await _post(sam, f"/deadletters/{action}", {**form, "reason": "   "})
        assert refused.status_code == 422, refused.text
        said = html.unescape(refused.text)
        error = re.search(r'<p class="field-error" id="confirm-reason-error"[^>]*>(.*?)</p>', said)
        assert error is not None, said
        assert "a reason is required" in error[1]
        assert 'aria-invalid="true"' in refused.text
        assert "2 messages selected" in said  # the selection kept
        again = _form(refused.text, f"/deadletters/{action}")
        assert again == form  # the same ids, period, list and one-time token
        back = re.search(
            r'<p><a href="([^"]*)" id="confirm-cancel">Cancel, back to the dead letters</a></p>',
            said,
        )
        assert back is not None and back[1] == "/deadletters?destination=noord&since=1h"
        for message_id in ids:
            assert (await engine.store.get_message(message_id)).status == "dead"  # type: ignore[union-attr]
            assert (await engine.store.list_resends(message_id))[1] == []

        done = await _post(sam, f"/deadletters/{action}", {**again, "reason": "GP called"})
        assert done.status_code == 303, done.text
    if action == "discard":
        for message_id in ids:
            assert (await engine.store.get_message(message_id)).status == "cancelled"  # type: ignore[union-attr]
    else:
        for message_id in ids:
            assert len((await engine.store.list_resends(message_id))[1]) == 1


async def test_posting_the_list_with_nothing_ticked_is_unchanged(engine: Engine) -> None:
    """The list's own refusal stays where it was (a neighbour of the ones above)."""
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        refused = await post(sam, "/deadletters/confirm", {"action": "resend"})
    assert refused.status_code == 422 and 'id="dead-problem"' in refused.text
