"""Why a console session looks at patient data (docs/product.md §8): stated once on
``/reason``, kept with the session, recorded with every view and export the session makes,
shown under the header.

Request by request against a real engine (httpx, no browser): a stated reason is the
``reason`` of a message page's, an event page's and a search by BSN's ``patient_data.view``,
and of each CSV export's entry; a session without one records none, whatever another session
stated; a cleared one is gone; a reason with a BSN or over 1000 characters is refused with the
rule and nothing kept; and the way back never leaves the console nor names a BSN. Where the
engine requires a reason (``INTEGRATOR_REASON_REQUIRED``), a page that would show patient data
without one sends the person to give it, and back.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.patient_views import PATIENT_DATA_VIEW
from integrator.store.records import AuditRecord
from tests.console.started import noord_engine
from tests.console.test_saved_searches import ORIGIN, csrf, post, signed_in
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message

BSN = "999990019"  # passes the eleven-test
EVERYTHING = (Grant(Role.RESEND), Grant(Role.REPORTS), Grant(Role.ADMIN))
GP = "A question from the referrer (GP) about a referral"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """One patient's referral with its message to ``noord``."""
    async with noord_engine(tmp_path) as started:
        event = make_event(bsn_hash=started.settings.bsn_hash(BSN))
        assert await started.store.accept_event(event, [make_message(destination_id="noord")])
        yield started


async def _ids(engine: Engine) -> tuple[str, str]:
    [message] = await engine.store.list_messages(limit=10)
    return message.id, message.event_id


async def _state(browser: httpx.AsyncClient, **data: str) -> httpx.Response:
    form = await browser.get("/reason")
    assert form.status_code == 200, form.text
    return await browser.post("/reason", data={"csrf": csrf(form.text), **data}, headers=ORIGIN)


async def _entries(engine: Engine, email: str) -> list[AuditRecord]:
    """The views and exports ``email`` made, oldest first."""
    trail = await engine.store.list_audit(limit=1000)
    return [
        e
        for e in reversed(trail)
        if e.actor == f"person:{email}" and (e.action == PATIENT_DATA_VIEW or ".export" in e.action)
    ]


async def _look(browser: httpx.AsyncClient, engine: Engine) -> None:
    """A message page, an event page, a search by BSN and the three CSV exports."""
    message_id, event_id = await _ids(engine)
    for path in (f"/messages/{message_id}", f"/events/{event_id}"):
        assert (await browser.get(path)).status_code == 200, path
    searched = await post(browser, "/messages/search", {"bsn": BSN})
    assert searched.status_code == 303, searched.text
    assert (await browser.get(searched.headers["location"])).status_code == 200
    for path in ("/messages.csv", "/events/unrouted.csv", "/audit.csv"):
        assert (await browser.get(path)).status_code == 200, path


async def test_a_stated_reason_is_recorded_with_each_view_and_export(engine: Engine) -> None:
    message_id, _ = await _ids(engine)
    async with signed_in(engine, "sam@example.org", *EVERYTHING) as sam:
        before = await sam.get(f"/messages/{message_id}")
        assert "No reason given for this session." in before.text
        saved = await _state(
            sam,
            choice="referrer",
            reason="ZD100000001 not received",
            next=f"/messages/{message_id}",
        )
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == f"/messages/{message_id}"  # back where they were
        shown = await sam.get(saved.headers["location"])
        assert f"{GP}: ZD100000001 not received" in shown.text  # under the header
        assert 'id="session-reason"' in shown.text
        await _look(sam, engine)
    why = f"{GP}: ZD100000001 not received"
    recorded = [(e.action, e.reason) for e in await _entries(engine, "sam@example.org")]
    assert recorded[0] == (PATIENT_DATA_VIEW, None)  # the page before it was stated
    assert recorded[1:] == [
        (PATIENT_DATA_VIEW, why),  # the page it returned to
        (PATIENT_DATA_VIEW, why),
        (PATIENT_DATA_VIEW, why),
        (PATIENT_DATA_VIEW, why),  # the search by BSN
        ("messages.export", why),
        ("events.export", why),
        ("audit.export", why),
    ]


async def test_a_dutch_preset_is_recorded_in_the_words_shown(engine: Engine) -> None:
    message_id, _ = await _ids(engine)
    async with signed_in(engine, "anna@example.org", Grant(Role.RESEND), lang="nl") as anna:
        form = await anna.get("/reason")
        assert "Vraag van het ziekenhuis" in form.text and "Reden opslaan" in form.text
        assert (await _state(anna, choice="hospital")).status_code == 303
        page = await anna.get(f"/messages/{message_id}")
        assert "Reden voor deze sessie:" in page.text and "Reden wijzigen" in page.text
    [view] = await _entries(engine, "anna@example.org")
    assert view.reason == "Vraag van het ziekenhuis"


async def test_another_session_records_none_and_a_cleared_reason_is_gone(engine: Engine) -> None:
    """One person's reason is their session's: a second person at the same engine (and the
    same person's next request after clearing it) records none."""
    message_id, _ = await _ids(engine)
    page = f"/messages/{message_id}"
    async with signed_in(engine, "sam@example.org", *EVERYTHING) as sam:
        assert (await _state(sam, choice="own", reason="storing bij noord")).status_code == 303
        assert (await sam.get(page)).status_code == 200
        async with signed_in(engine, "kim@example.org", *EVERYTHING) as kim:
            other = await kim.get(page)
            assert "storing bij noord" not in other.text
            assert "No reason given for this session." in other.text
            assert (await kim.get("/messages.csv")).status_code == 200
        cleared = await _state(sam, action="clear", next=page)
        assert cleared.status_code == 303 and cleared.headers["location"] == page
        after = await sam.get(page)
        assert "No reason given for this session." in after.text
        assert "storing bij noord" not in after.text
    sams = [(e.action, e.reason) for e in await _entries(engine, "sam@example.org")]
    assert sams == [(PATIENT_DATA_VIEW, "storing bij noord"), (PATIENT_DATA_VIEW, None)]
    kims = [(e.action, e.reason) for e in await _entries(engine, "kim@example.org")]
    assert kims == [(PATIENT_DATA_VIEW, None), ("messages.export", None)]


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_a_reason_with_a_bsn_or_too_long_is_refused_and_nothing_kept(
    engine: Engine, lang: str
) -> None:
    message_id, _ = await _ids(engine)
    rules = {
        "en": (
            "this looks like a BSN: leave it out",
            "at most 1000 characters",
            "at most 966 characters of your own words",  # 1000 less the choice and ": "
        ),
        "nl": (
            "dit lijkt op een BSN: laat het weg",
            "hoogstens 1000 tekens",
            "hoogstens 964 tekens in je eigen woorden",  # a longer choice in Dutch
        ),
    }[lang]
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang=lang) as sam:
        assert (await _state(sam, reason="eerste vraag")).status_code == 303
        for data, rule in (
            ({"choice": "own", "reason": f"mevrouw belde, bsn {BSN}"}, rules[0]),
            ({"choice": "own", "reason": "999 990 019"}, rules[0]),
            ({"choice": "own", "reason": "Jan van der Berg " + "x" * 984}, rules[1]),
            # A preset and the 1000 characters the field takes: longer than a reason may be,
            # said as how much of the person's own words fits.
            ({"choice": "failure", "reason": "Jan van der Berg " + "x" * 983}, rules[2]),
        ):
            refused = await _state(sam, **data)
            assert refused.status_code == 422, refused.text
            assert rule in refused.text
            for withheld in (BSN, "999 990 019", "Jan van der Berg", "xxxx"):
                assert withheld not in refused.text
        page = await sam.get(f"/messages/{message_id}")
        assert "eerste vraag" in page.text  # the reason stated before stays as it was
    [view] = await _entries(engine, "sam@example.org")
    assert view.reason == "eerste vraag"
    assert BSN not in repr(await engine.store.list_audit(limit=1000))


@pytest.mark.parametrize(
    ("given", "back"),
    [
        ("https://elsewhere.example/phish", "/"),
        ("//elsewhere.example/phish", "/"),
        ("/\\elsewhere.example", "/"),
        ("javascript:alert(1)", "/"),
        (f"/messages/{BSN}", "/"),
        (f"/messages?zd_number={BSN}", "/messages"),  # the page, without the BSN
        ("/reason", "/"),
    ],
)
async def test_the_way_back_stays_on_the_console_and_names_no_bsn(
    engine: Engine, given: str, back: str
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        form = await sam.get(f"/reason?next={quote(given, safe='')}")
        assert form.status_code == 200, form.text
        assert "elsewhere" not in form.text and BSN not in form.text
        saved = await _state(sam, reason="een vraag", next=given)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == back


async def test_a_page_s_own_address_is_the_way_back_with_only_what_it_takes(
    engine: Engine,
) -> None:
    """The header's link carries the page it was on (its parameters the page takes); saving
    returns there."""
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        listing = await sam.get("/messages?status=queued&stray=1")
        found = re.search(r'<a href="(/reason\?next=[^"]+)">Give a reason</a>', listing.text)
        assert found is not None, listing.text
        link = found.group(1).replace("&amp;", "&")
        assert link == "/reason?next=" + quote("/messages?status=queued", safe="/")
        form = await sam.get(link)
        assert 'name="next" value="/messages?status=queued"' in form.text
        saved = await _state(sam, reason="een vraag", next="/messages?status=queued&stray=1")
        assert saved.headers["location"] == "/messages?status=queued"


async def test_a_forged_post_states_nothing(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        forged = await sam.post(
            "/reason",
            data={"reason": "forged"},
            headers={"origin": "https://elsewhere.example"},
        )
        assert forged.status_code == 403
        page = await sam.get("/messages")
        assert "forged" not in page.text


async def test_where_a_reason_is_required_the_console_asks_for_it_first(tmp_path: Path) -> None:
    """Nothing is shown or recorded without one: the person is sent to the reason page, told
    why, and back to the page once they gave it; a page without patient data needs none."""
    settings = settings_for(tmp_path, search_key="a-console-test-search-key", reason_required=True)
    catalog = build_catalog(
        [("noord.yaml", destination("noord", 2575, providers=["ziekenhuis-noord"]))],
        today=date(2026, 11, 27),
    )
    engine = Engine(settings, catalog=catalog)
    await engine.start()
    try:
        event = make_event(bsn_hash=engine.settings.bsn_hash(BSN))
        assert await engine.store.accept_event(event, [make_message(destination_id="noord")])
        message_id, _ = await _ids(engine)
        page = f"/messages/{message_id}"
        async with signed_in(engine, "sam@example.org", *EVERYTHING) as sam:
            assert (await sam.get("/messages")).status_code == 200  # no patient data
            for path in (page, "/messages.csv"):
                asked = await sam.get(path)
                assert asked.status_code == 303, asked.text
                assert asked.headers["location"] == f"/reason?next={quote(path)}&needed=1"
            assert await _entries(engine, "sam@example.org") == []
            form = await sam.get(f"/reason?next={quote(page)}&needed=1")
            assert "This engine asks why before it shows patient data" in form.text
            # The page's own refresh (its status, every two seconds) stops and says why, with
            # a link to give one; the rest of the page stays (nothing else is swapped). An
            # htmx action takes the whole page to the question.
            refresh = await sam.get(
                f"{page}/status",
                headers={
                    "hx-request": "true",
                    "x-integrator-background": "1",
                    "hx-current-url": f"http://console.test{page}",
                },
            )
            assert refresh.status_code == 286, refresh.text
            assert refresh.headers["hx-reswap"] == "none"
            assert refresh.text.startswith('<div id="session-ended" hx-swap-oob="innerHTML">')
            assert "This page stopped refreshing: this engine asks why" in refresh.text
            assert f'<a href="/reason?next={quote(page)}&amp;needed=1">' in refresh.text
            action = await sam.get(
                page, headers={"hx-request": "true", "hx-current-url": f"http://console.test{page}"}
            )
            assert action.status_code == 204
            assert action.headers["hx-redirect"] == f"/reason?next={quote(page)}&needed=1"
            assert await _entries(engine, "sam@example.org") == []
            saved = await _state(sam, choice="failure", next=page)
            assert saved.headers["location"] == page
            assert (await sam.get(page)).status_code == 200
        [view] = await _entries(engine, "sam@example.org")
        assert view.reason == "Investigating a failure or error"
    finally:
        await engine.stop()
