"""Removing a destination from the console, request by request against a real engine: offered
on its page to who may change it (``destinations.write`` in its cluster, as ``DELETE
/api/v1/destinations/{id}``), through a page that says how many messages wait and what
ticking *force* does; the service's refusals (messages waiting, a destination gone) said beside
the form in the person's language; the removal audited under the person, acting once.

The world: ``noord`` in CARD, paused, so a referral for its provider waits for it (queued);
``zuid`` in LAB.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.conftest import load_sample
from tests.console.answered import NOT_FOLLOWED
from tests.console.test_saved_searches import ORIGIN, csrf, signed_in
from tests.integrator.support import destination, settings_for

REASON = "ziekenhuis noord left the platform"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    for config in (
        destination("noord", 2599, providers=["ziekenhuis-noord"], enabled=False),
        destination("zuid", 2599, providers=["lab-zuid"], cluster="LAB"),
    ):
        path = settings.destinations_dir / f"{config.id}.yaml"
        path.write_text(dump_destination(config), encoding="utf-8")
    started = Engine(settings)
    await started.start()
    yield started
    await started.stop()


async def _waiting_referral(engine: Engine) -> str:
    """A referral for ``noord``'s provider: it waits, as ``noord`` is paused."""
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    result = await engine.intake.submit(json.dumps(event), source="http")
    [message] = result.messages
    return message.message_id


def _form(page: httpx.Response) -> dict[str, str]:
    """The removal form's hidden fields as the page holds them."""
    once = re.search(r'name="once" value="([^"]+)"', page.text)
    assert once is not None, page.text
    return {"csrf": csrf(page.text), "once": once.group(1)}


def _refusal(page: httpx.Response) -> str:
    found = re.search(r'id="remove-refused"[^>]*>(.*?)</p>', page.text, re.S)
    assert found, page.text
    return html.unescape(found.group(1))


def _text(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.text))


async def test_a_destination_is_removed_after_a_page_that_says_what_waits(
    engine: Engine,
) -> None:
    message_id = await _waiting_referral(engine)
    async with signed_in(engine, "olga@example.org", Grant(Role.DESTINATIONS, "CARD")) as olga:
        shown = await olga.get("/destinations/noord")
        assert 'action="/destinations/noord/remove"' in shown.text
        confirm = await olga.get("/destinations/noord/remove")
        assert confirm.status_code == 200, confirm.text
        said = _text(confirm)
        assert "1 message is waiting for it now (queued, retrying or held)." in said
        assert "they become dead letters, with your reason" in said
        form = _form(confirm)

        # A blank reason: refused beside it, nothing removed.
        blank = await olga.post(
            "/destinations/noord/remove", data={**form, "reason": "  "}, headers=ORIGIN
        )
        assert blank.status_code == 422, blank.text
        assert 'id="remove-reason-error"' in blank.text
        # Messages wait and the box is not ticked: the service's refusal, beside the form,
        # the box marked; nothing removed.
        busy = await olga.post(
            "/destinations/noord/remove", data={**_form(blank), "reason": REASON}, headers=ORIGIN
        )
        assert busy.status_code == 409, busy.text
        assert _refusal(busy) == (
            "1 message still waits for this destination, so nothing was removed: deliver it "
            "first, or tick the box above to make it a dead letter"
        )
        assert re.search(r'id="remove-force"[^>]*aria-invalid="true"', busy.text), busy.text
        assert f'value="{REASON}"' in busy.text  # what was typed is kept
        assert "noord" in engine.catalog.destinations

        form = _form(busy)
        data = {**form, "reason": REASON, "force": "true"}
        done = await olga.post(
            "/destinations/noord/remove", data=data, headers=ORIGIN, extensions=NOT_FOLLOWED
        )
        assert done.status_code == 303, done.text
        result_at = done.headers["location"]
        assert re.fullmatch(r"/destinations/noord/removed/[0-9a-f]+", result_at), result_at
        result = _text(await olga.get(result_at))
        assert "Destination noord removed, as revision" in result
        assert "1 waiting message is a dead letter now, with your reason." in result
        assert "/deadletters?destination=noord" not in result  # not theirs to read

        # The same form again (a second click, Back and submit): its result, nothing more.
        again = await olga.post(
            "/destinations/noord/remove", data=data, headers=ORIGIN, extensions=NOT_FOLLOWED
        )
        assert again.headers["location"] == f"{result_at}?again=1"
        assert "nothing was removed again" in _text(await olga.get(again.headers["location"]))

    assert "noord" not in engine.catalog.destinations
    message = await engine.store.get_message(message_id)
    assert message is not None and message.status == "dead"
    removals = [
        e
        for e in await engine.store.list_audit(target="noord", limit=100)
        if e.action == "destination.remove"
    ]
    assert [(e.actor, e.reason) for e in removals] == [("person:olga@example.org", REASON)]
    revisions = await engine.store.list_destination_revisions("noord")
    assert revisions[-1].action == "remove" and revisions[-1].actor == "person:olga@example.org"


async def test_a_destination_gone_meanwhile_is_said_beside_the_form_in_dutch(
    engine: Engine,
) -> None:
    """Two tabs: the first removes it; the second, posted after, is told it is gone. The
    result links the dead letters for who may read them (all clusters: a removed destination
    lies in none)."""
    message_id = await _waiting_referral(engine)
    grants = (Grant(Role.DESTINATIONS), Grant(Role.RESEND))  # all clusters
    async with signed_in(engine, "wim@example.org", *grants, lang="nl") as wim:
        first = await wim.get("/destinations/noord/remove")
        assert "Er wacht nu 1 bericht op deze bestemming" in _text(first)
        second = await wim.get("/destinations/noord/remove")
        removed = await wim.post(
            "/destinations/noord/remove",
            data={**_form(first), "reason": REASON, "force": "true"},
            headers=ORIGIN,
        )
        assert removed.status_code == 303, removed.text
        removed = await wim.get(removed.headers["location"])
        said = _text(removed)
        assert "1 wachtend bericht is nu onbestelbaar, met jouw reden." in said
        dead_letters = await wim.get("/deadletters?destination=noord")
        assert 'href="/deadletters?destination=noord"' in removed.text
        assert dead_letters.status_code == 200 and message_id[:8] in dead_letters.text
        gone = await wim.post(
            "/destinations/noord/remove",
            data={**_form(second), "reason": REASON, "force": "true"},
            headers=ORIGIN,
        )
    # Said as removed already (``test_destination_gone``), the form not offered again.
    assert gone.status_code == 410, gone.text
    assert "Er is niets gedaan: bestemming noord was al verwijderd" in _text(gone)
    assert 'name="once"' not in gone.text
    entries = await engine.store.list_audit(target="noord", limit=100)
    assert [e.action for e in entries].count("destination.remove") == 1


async def test_who_may_not_change_it_is_offered_nothing_and_refused(engine: Engine) -> None:
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER, "CARD")) as vera:
        shown = await vera.get("/destinations/noord")
        assert shown.status_code == 200
        assert "/destinations/noord/remove" not in shown.text
        assert (await vera.get("/destinations/noord/remove")).status_code == 403
        forged = await vera.post(
            "/destinations/noord/remove",
            data={"csrf": csrf(shown.text), "reason": REASON, "force": "true"},
            headers=ORIGIN,
        )
        assert forged.status_code == 403
    async with signed_in(engine, "olga@example.org", Grant(Role.DESTINATIONS, "CARD")) as olga:
        form = _form(await olga.get("/destinations/noord/remove"))
        data = {"once": form["once"], "reason": REASON, "force": "true"}
        no_token = await olga.post("/destinations/noord/remove", data=data, headers=ORIGIN)
        assert no_token.status_code == 403  # no CSRF token: refused before the page runs
    async with signed_in(engine, "lars@example.org", Grant(Role.DESTINATIONS, "LAB")) as lars:
        page = await lars.get("/destinations")
        out_of_sight = await lars.post(
            "/destinations/noord/remove",
            data={"csrf": csrf(page.text), "reason": REASON, "force": "true"},
            headers=ORIGIN,
        )
        assert out_of_sight.status_code == 404  # as the API: another cluster's is unknown
    assert "noord" in engine.catalog.destinations
