"""Resending what a search finds keeps the person where they were: *Cancel* goes back to the
search (not to an empty Messages page), a blank reason is refused beside the reason field on
the confirmation itself (its selection and one-time token kept, nothing sent), and a search
that finds more than the console resends at once stays on the search page, saying how many it
finds. Request by request against a real engine."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.console.pages import batch_resend
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_saved_searches import ORIGIN, csrf, post, signed_in
from tests.store.factories import make_event, make_message

SEARCH = {"destination": "noord", "status": "dead"}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def _dead(engine: Engine, count: int) -> list[str]:
    """``count`` dead letters to noord, each of a referral of its own; their ids."""
    ids = []
    for number in range(count):
        message = make_message(destination_id="noord", status="dead")
        await engine.store.accept_event(make_event(zd_number=f"ZD{number + 1:09d}"), [message])
        await engine.store.set_status(message.id, "dead", last_error="AR from the receiver")
        ids.append(message.id)
    return ids


async def _post(
    browser: httpx.AsyncClient, url: str, data: dict[str, str | list[str]]
) -> httpx.Response:
    """``post``, with a field given more than once (the ticked ids)."""
    token = csrf((await browser.get("/messages")).text)
    return await browser.post(url, data={"csrf": token, **data}, headers=ORIGIN)


def _form(answer: str) -> dict[str, list[str]]:
    """The confirmation form's hidden fields, by name."""
    found = re.search(r'<form[^>]*action="/messages/resend"[^>]*>(.*?)</form>', answer, re.S)
    assert found, answer
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', found[1]):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


async def test_cancel_goes_back_to_the_search(engine: Engine) -> None:
    await _dead(engine, 1)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await post(sam, "/messages/resend/confirm", SEARCH)
        assert shown.status_code == 200, shown.text
        back = re.search(r'<a href="([^"]*)" id="confirm-cancel">', shown.text)
        assert back is not None, shown.text
        assert html.unescape(back[1]) == "/messages?destination=noord&status=dead"
        again = await sam.get(html.unescape(back[1]))
        assert again.status_code == 200
        assert 'id="resend-batch"' in again.text  # the search itself, with its results


async def test_a_blank_reason_is_refused_on_the_confirmation_with_its_selection(
    engine: Engine,
) -> None:
    ids = await _dead(engine, 2)
    async with signed_in(engine, "anna@example.org", Grant(Role.RESEND), lang="nl") as anna:
        shown = await post(anna, "/messages/resend/confirm", SEARCH)
        form = _form(shown.text)
        assert sorted(form["ids"]) == sorted(ids)
        refused = await _post(anna, "/messages/resend", {**_flat(form), "reason": "   "})
        assert refused.status_code == 422, refused.text
        said = html.unescape(refused.text)
        assert "een reden is verplicht" in said
        assert 'id="confirm-reason-error"' in refused.text and 'aria-invalid="true"' in said
        assert "2 berichten gevonden; 2 zouden herzonden worden." in said
        again = _form(refused.text)
        assert sorted(again["ids"]) == sorted(ids)
        assert again["once"] == form["once"]  # released by the refusal: still the one token
        assert again["destination"] == ["noord"] and again["status"] == ["dead"]
        for message_id in ids:
            assert (await engine.store.list_resends(message_id))[1] == []

        # Now with a reason: sent, once.
        sent = await _post(anna, "/messages/resend", {**_flat(again), "reason": "GP called"})
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].startswith("/messages/resend/done/")
    for message_id in ids:
        assert len((await engine.store.list_resends(message_id))[1]) == 1


def _flat(form: dict[str, list[str]]) -> dict[str, str | list[str]]:
    return {
        name: values if name in ("ids", "named") else values[0] for name, values in form.items()
    }


async def test_more_than_the_console_takes_stays_on_the_search_saying_how_many(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_resend, "RESENT_HERE", 2)
    await _dead(engine, 3)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        refused = await post(sam, "/messages/resend/confirm", SEARCH)
    assert refused.status_code == 422, refused.text
    said = html.unescape(refused.text)
    found = re.search(r'<p class="problem" role="alert" id="resend-refused"[^>]*>(.*?)</p>', said)
    assert found is not None, said
    assert found[1].startswith("the search finds 3 messages, more than 2, the most the console")
    assert 'id="message-list"' in refused.text  # the search's results, not a page of its own
    assert 'id="resend-batch"' in refused.text
    assert 'value="noord" selected' in refused.text  # the terms kept in the form


async def test_back_from_the_result_is_the_search_as_it_was_read(engine: Engine) -> None:
    """The result outlives the kept search (minutes): its *Back* is the search written from
    what was read (a period back from now as the moment it became), not the whole list."""
    await _dead(engine, 1)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await post(sam, "/messages/resend/confirm", {**SEARCH, "since": "2h"})
        sent = await _post(
            sam, "/messages/resend", {**_flat(_form(shown.text)), "reason": "GP called"}
        )
        assert sent.status_code == 303, sent.text
        done = await sam.get(sent.headers["location"])
        back = re.search(r'<a id="done-back" href="([^"]*)">', done.text)
        assert back is not None, done.text
        address = html.unescape(back[1])
        query = parse_qs(urlsplit(address).query)
        assert (query["destination"], query["status"]) == (["noord"], ["dead"]), address
        [since] = query["since"]
        ago = datetime.now(UTC) - datetime.fromisoformat(since)
        assert timedelta(hours=2) <= ago < timedelta(hours=2, minutes=1)  # "2h", as read
        again = await sam.get(address)
        assert again.status_code == 200, again.text
        assert 'id="resend-batch"' in again.text  # the search itself, with its results
