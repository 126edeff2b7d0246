"""The console's dead-letter page takes a period on when they died, as ``deadletter list
--since/--until`` does: the groups show only what died in it, and the period travels with the
ticked ones into the confirmation and the resend, which count and resend only those (a page
posted again after one died anew, outside the period, leaves it out in words). Request by
request against a real engine; the refusals beside the fields are in
``tests/console/test_period_refusals.py``."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from integrator import kept_searches
from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_saved_searches import post, signed_in
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def _died_now(engine: Engine) -> str:
    """A dead letter to noord that died just now (never delivered); its id."""
    message = make_message(destination_id="noord", status="dead")
    await engine.store.accept_event(make_event(), [message])
    await engine.store.set_status(message.id, "dead", last_error="AR from the receiver")
    return message.id


def _carried(answer: str) -> dict[str, datetime]:
    """The period the confirmation's form carries to the resend, as the moments it names."""
    found = re.findall(r'<input type="hidden" name="(since|until)" value="([^"]*)">', answer)
    moments = {name: datetime.fromisoformat(value) for name, value in found}
    for value in moments.values():
        assert value.utcoffset() is not None  # with its offset: one instant, wherever read
    return moments


def _count(answer: str) -> str:
    found = re.search(r'<p id="confirm-count" role="status">(.*?)</p>', answer, re.S)
    assert found, answer
    return html.unescape(found.group(1))


async def test_the_period_narrows_the_groups_and_is_carried_into_the_confirmation(
    engine: Engine,
) -> None:
    message_id = await _died_now(engine)
    async with signed_in(engine, "sanne@example.org", Grant(Role.RESEND), lang="nl") as sanne:
        page = await sanne.get("/deadletters", params={"since": "1h"})
        assert page.status_code == 200, page.text
        assert f'id="pick-{message_id}"' in page.text
        assert '<label for="d-since">Onbestelbaar vanaf</label>' in page.text
        assert 'value="1h"' in page.text  # the period stays in its field...
        assert '<input type="hidden" name="since" value="1h">' in page.text  # ...and its forms
        earlier = await sanne.get("/deadletters", params={"until": "1h"})
        assert earlier.status_code == 200, earlier.text
        assert f'id="pick-{message_id}"' not in earlier.text
        assert 'id="dead-empty"' in earlier.text

        # Ticked in the period it died in: counted, and the resend form carries the period.
        shown = await post(
            sanne, "/deadletters/confirm", {"action": "resend", "ids": message_id, "since": "1h"}
        )
        assert shown.status_code == 200, shown.text
        assert _count(shown.text).startswith("1 bericht gekozen; 1 zou herzonden")
        carried = _carried(shown.text)  # read once: a moment with its offset, not "1h"
        assert set(carried) == {"since"}
        ago = datetime.now(UTC) - carried["since"]
        assert timedelta(hours=1) <= ago < timedelta(hours=1, minutes=1)
        assert '<input type="hidden" name="list_since" value="1h">' in shown.text  # for Cancel
        assert '<a href="/deadletters?since=1h" id="confirm-cancel">' in shown.text

        # The same tick posted with a period it did not die in (a stale page): left out, said.
        stale = await post(
            sanne, "/deadletters/confirm", {"action": "resend", "ids": message_id, "until": "1h"}
        )
        assert stale.status_code == 200, stale.text
        assert "1 bericht gekozen; 0 zouden herzonden" in _count(stale.text)
        said = html.unescape(stale.text)
        assert "buiten de getoonde periode onbestelbaar geworden; niet herzonden" in said
        assert 'id="confirm-nothing"' in stale.text
    assert await engine.store.list_resends(message_id) == (None, [])


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[Engine]:
    """As ``engine``, with a clock the test sets: when a letter dies is the store's clock."""
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    started = Engine(
        settings_for(tmp_path, search_key="a-console-test-search-key"),
        catalog=build_catalog([("noord.yaml", config)], today=date(2026, 11, 27)),
        clock=ManualClock(datetime.now(UTC)),
    )
    await started.start()
    yield started
    await started.stop()


async def test_a_period_back_from_now_is_read_once_when_the_confirmation_is_drawn(
    clocked: Engine,
) -> None:
    """``since=1m`` on a letter that died 58.5 seconds ago: counted when the confirmation is
    drawn; confirmed two seconds later, when ``1m`` read again would no longer hold it, it is
    resent all the same, as the confirmation promised (the moments it shows are carried)."""
    clock = clocked.clock
    assert isinstance(clock, ManualClock)
    async with signed_in(clocked, "sanne@example.org", Grant(Role.RESEND)) as sanne:
        died = datetime.now(UTC) - timedelta(seconds=58.5)
        clock.set(died)
        message_id = await _died_now(clocked)
        clock.set(datetime.now(UTC))
        shown = await post(
            sanne, "/deadletters/confirm", {"action": "resend", "ids": message_id, "since": "1m"}
        )
        assert shown.status_code == 200, shown.text
        assert _count(shown.text).startswith("1 message selected; 1 would be resent")
        once = re.search(r'name="once" value="([^"]+)"', shown.text)
        assert once is not None

        # Time moves on: "1m" read now would start after the letter died.
        later = died + timedelta(minutes=1, seconds=0.2)
        await asyncio.sleep(max(0.0, (later - datetime.now(UTC)).total_seconds()))
        clock.set(datetime.now(UTC))
        sent = await post(
            sanne,
            "/deadletters/resend",
            {
                "ids": message_id,
                "since": html.unescape(carried_value(shown.text, "since")),
                "reason": "GP called",
                "once": once[1],
            },
        )
        assert sent.status_code == 303, sent.text
        done = await sanne.get(sent.headers["location"])
    assert "left out" not in done.text, done.text
    [resent] = (await clocked.store.list_resends(message_id))[1]
    assert resent.original_id == message_id

    # What it carried, and said: the moment "1m" was read as, with its offset.
    carried = _carried(shown.text)
    assert carried["since"] <= died
    period = re.search(r'<p class="notice" id="confirm-period">(.*?)</p>', shown.text)
    assert period is not None, shown.text
    local = carried["since"].astimezone(clocked.settings.zone).replace(microsecond=0)
    assert local.isoformat().replace("T", " ") in html.unescape(period[1])  # as pages show it


def carried_value(answer: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', answer)
    assert found is not None, answer
    return found[1]


async def test_back_from_a_result_keeps_the_filter_when_its_kept_search_expired(
    clocked: Engine,
) -> None:
    """A confirmation may stay open longer than the list's kept search lasts (a reason to agree
    on with the GP first): its result's *Back* is still the list as it was filtered, read from
    the terms the form carried, not the whole list."""
    clock = clocked.clock
    assert isinstance(clock, ManualClock)
    message_id = await _died_now(clocked)
    async with signed_in(clocked, "sanne@example.org", Grant(Role.RESEND)) as sanne:
        listed = await post(sanne, "/deadletters/search", {"destination": "noord"})
        assert listed.status_code == 303, listed.text
        handle = listed.headers["location"].split("search=", 1)[1]
        shown = await post(
            sanne,
            "/deadletters/confirm",
            {"action": "discard", "ids": message_id, "destination": "noord", "search": handle},
        )
        assert shown.status_code == 200, shown.text
        form = {
            name: html.unescape(carried_value(shown.text, name))
            for name in ("once", "list_destination", "list_search")
        }
        clock.set(clock.now() + kept_searches.LASTS + timedelta(minutes=1))
        sent = await post(
            sanne, "/deadletters/discard", {**form, "ids": message_id, "reason": "GP withdrew"}
        )
        assert sent.status_code == 303, sent.text
        done = await sanne.get(sent.headers["location"])
    back = re.search(r'<a id="done-back" href="([^"]*)">', done.text)
    assert back is not None, done.text
    assert html.unescape(back[1]) == "/deadletters?destination=noord"
