"""The access-log review (NEN 7513) in the console (``/audit/summary``), request by request
against a real engine: the service's summary per actor with its total, for who holds
``audit.read`` for all clusters only; a refused period said beside its field in either
language; each actor a way into the trail of that actor, period and action; and a summary
recorded each time one is made, never for opening the page (as the trail's plain listing
records nothing). In a browser: ``test_audit_summary_browser``."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.console.answered import NOT_FOLLOWED
from tests.console.test_saved_searches import ORIGIN, csrf, signed_in
from tests.integrator.support import destination, settings_for

ANNA, BERT = "person:anna@example.nl", "token:lab-desk"
BSNS = ("999999990", "999999990", "111222333")
OFFICER = "privacy@example.org"
TYPED = "Jan van der Berg 12-04-1961"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine on the real clock (a summary's period ends now, not included: entries made
    at the very moment of a manual clock's now would fall outside it), with a trail of views
    and two exports (one by BSN, one not) by two actors, and an entry of another action."""
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])  # cluster CARD
    (settings.destinations_dir / "lab-west.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    started = Engine(settings)
    await started.start()
    key = started.settings.bsn_hash
    for bsn in BSNS:
        await started.store.add_audit(
            ANNA, "patient_data.view", "m-1", details={"view": "message", "bsn_hash": key(bsn)}
        )
    await started.store.add_audit(
        BERT, "patient_data.view", "m-2", details={"view": "event", "bsn_hash": key("123456782")}
    )
    await started.store.add_audit(
        BERT, "messages.export", "messages.csv", reason="maandrapport", details={"terms": {}}
    )
    # An export by BSN (the patient's data), of the patient Bert viewed: told from the listing.
    await started.store.add_audit(
        BERT, "events.export", "events.csv", details={"terms": {"bsn_hash": key("123456782")}}
    )
    await started.store.add_audit(BERT, "destination.update", "noord")
    yield started
    await started.stop()


async def _summaries(engine: Engine) -> int:
    return len(await engine.store.list_audit(AuditFilter(action="audit.summary")))


async def _asked(client: httpx.AsyncClient, **terms: str) -> httpx.Response:
    """The summary's form posted with ``terms``, its redirect not followed."""
    token = csrf((await client.get("/audit/summary")).text)
    return await client.post(
        "/audit/summary",
        data={"csrf": token, **terms},
        headers=ORIGIN,
        extensions=NOT_FOLLOWED,
    )


def _rows(page: str) -> list[list[str]]:
    """The summary table's rows (the total's last), each cell's text."""
    table = page.split('id="summary-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]  # after the header row
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        for cells in (re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows)
    ]


def _link(page: str, text: str) -> str:
    found = re.search(rf'<a href="([^"]+)">{re.escape(text)}</a>', page)
    assert found, text
    return html.unescape(found.group(1))


async def test_the_summary_shows_each_actor_and_the_total(engine: Engine) -> None:
    async with signed_in(engine, OFFICER, Grant(Role.ADMIN)) as officer:
        trail = await officer.get("/audit")
        assert 'href="/audit/summary"' in trail.text
        asked = await _asked(officer)
        assert asked.status_code == 303
        where = asked.headers["location"]
        shown = await officer.get(where)
    assert shown.status_code == 200, shown.text
    rows = _rows(shown.text)
    # Actor, views, exports by BSN, other exports, distinct patients, without a reason.
    assert [row[:6] for row in rows] == [
        [ANNA, "3", "0", "0", "2", "3"],  # most views first
        [BERT, "1", "1", "1", "1", "2"],  # his listing's export said why, nothing else did
        ["Total (2 actors)", "4", "1", "1", "3", "5"],  # a patient two looked at is one
    ]
    assert '<th scope="col">Without a reason</th>' in shown.text
    # Only an export by BSN holds patient data: the two are apart, each saying which it is.
    assert '<th scope="col">Exports by BSN (patient data)</th>' in shown.text
    assert '<th scope="col">Other exports (no patient data)</th>' in shown.text
    first, last = rows[2][6:]
    assert first <= last and first[:4] == last[:4] == str(engine.clock.now().year)
    # The default period, said, with what it counts; the page names no patient's BSN.
    assert (
        "Without ‘From’ the summary counts the 30 days up to ‘Until’, or up to now." in shown.text
    )
    assert "Counted: patient_data.view, messages.export, events.export" in shown.text
    # A listing's export holds no patient data: the page does not say it did.
    assert "Who viewed patient data or exported listings in a period" in shown.text
    assert "exported patient data" not in shown.text
    assert not any(bsn in shown.text for bsn in (*BSNS, "123456782"))
    # The address holds the period as read, to the microsecond, and nothing else.
    query = parse_qs(urlsplit(where).query)
    assert set(query) == {"since", "until"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d", query["until"][0])


async def test_opening_the_page_records_nothing_each_summary_once(engine: Engine) -> None:
    """As the trail's plain listing records nothing, opening the page counts and records
    nothing; each summary shown is recorded (``audit.summary``), a reload too, a HEAD not."""
    async with signed_in(engine, OFFICER, Grant(Role.ADMIN)) as officer:
        opened = await officer.get("/audit/summary")
        assert opened.status_code == 200
        assert 'id="summary-table"' not in opened.text and 'id="summary-default"' in opened.text
        assert await _summaries(engine) == 0
        where = (await _asked(officer)).headers["location"]
        assert await _summaries(engine) == 0  # the POST only read the terms
        await officer.get(where)
        assert await _summaries(engine) == 1
        await officer.get(where)  # a reload: the summary made again
        assert await _summaries(engine) == 2
        head = await officer.head(where)
        assert head.status_code == 200
        assert await _summaries(engine) == 2
    [entry, _] = await engine.store.list_audit(AuditFilter(action="audit.summary"))
    assert entry.actor == f"person:{OFFICER}"
    assert entry.details["actors"] == 2 and "source" in entry.details


async def test_a_refused_period_is_said_beside_its_field(engine: Engine) -> None:
    async with signed_in(engine, OFFICER, Grant(Role.ADMIN)) as officer:
        posted = await _asked(officer, since=TYPED, until="later")
        followed = await officer.get(posted.headers["location"])
        addressed = await officer.get("/audit/summary", params={"since": "soon"})
        backwards = await officer.get(
            "/audit/summary", params={"since": "2026-11-02", "until": "2026-11-01"}
        )
        wrong_action = await officer.get("/audit/summary", params={"action": "herzonden"})
    assert posted.status_code == 303 and "answer=" in posted.headers["location"]
    assert "12-04-1961" not in posted.headers["location"]
    for answer, fields in (
        (followed, {"since", "until"}),
        (addressed, {"since"}),
        (backwards, {"until"}),
        (wrong_action, {"action"}),
    ):
        assert answer.status_code == 422, answer.text
        errors = _errors(answer.text)
        assert set(errors) == fields, errors
        for name in fields:
            assert re.search(rf'id="s-{name}"[^>]*aria-invalid="true"', answer.text), name
        assert 'id="summary-table"' not in answer.text
    assert _errors(followed.text)["since"].startswith("not an ISO date or date-time")
    assert TYPED not in _errors(followed.text)["since"]
    assert _errors(wrong_action.text)["action"].startswith("not an audit action")
    assert await _summaries(engine) == 0


async def test_the_summary_tells_the_exports_apart_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, OFFICER, Grant(Role.ADMIN), lang="nl") as officer:
        shown = await officer.get((await _asked(officer)).headers["location"])
    assert shown.status_code == 200, shown.text
    assert '<th scope="col">Exports op BSN (patiëntgegevens)</th>' in shown.text
    assert '<th scope="col">Andere exports (geen patiëntgegevens)</th>' in shown.text
    assert [row[:4] for row in _rows(shown.text)][1:] == [
        [BERT, "1", "1", "1"],
        ["Totaal (2 gebruikers)", "4", "1", "1"],
    ]


async def test_a_refused_period_is_said_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, OFFICER, Grant(Role.ADMIN), lang="nl") as officer:
        posted = await _asked(officer, since=TYPED)
        answer = await officer.get(posted.headers["location"])
        opened = await officer.get("/audit/summary")
    assert answer.status_code == 422
    said = _errors(answer.text)["since"]
    assert said.startswith("geen geldige datum of datum-tijd"), said
    assert "Overzicht van de audittrail" in opened.text
    assert (
        "Zonder ‘Vanaf’ telt het overzicht de 30 dagen vóór ‘Tot en met’, of vóór nu."
        in opened.text
    )


def _errors(page: str) -> dict[str, str]:
    found = re.findall(r'<p class="field-error" id="s-([a-z]+)-error">([^<]*)</p>', page)
    return {name: html.unescape(text) for name, text in found}


@pytest.mark.parametrize(
    "grant",
    [Grant(Role.VIEWER), Grant(Role.RESEND), Grant(Role.ADMIN, "CARD")],
    ids=["viewer", "support", "admin-of-one-cluster"],
)
async def test_who_may_not_read_the_whole_trail_gets_403(engine: Engine, grant: Grant) -> None:
    async with signed_in(engine, "vera@example.org", grant) as vera:
        start = await vera.get("/", follow_redirects=True)
        opened = await vera.get("/audit/summary")
        asked = await vera.get("/audit/summary", params={"since": "2026-01-01"})
        token = csrf(start.text)
        posted = await vera.post("/audit/summary", data={"csrf": token}, headers=ORIGIN)
    assert 'href="/audit' not in start.text  # neither the trail nor its summary offered
    for answer in (opened, asked, posted):
        assert answer.status_code == 403
        assert 'id="summary-table"' not in answer.text
    assert await _summaries(engine) == 0


async def test_each_actor_leads_to_the_trail_of_that_actor_and_period(engine: Engine) -> None:
    async with signed_in(engine, OFFICER, Grant(Role.ADMIN)) as officer:
        summary = await officer.get((await _asked(officer)).headers["location"])
        anna = _link(summary.text, ANNA)
        everything = await officer.get(anna)
        views = re.search(r'<a href="([^"]+)" aria-label="3 views by [^"]+">3</a>', summary.text)
        assert views
        viewed = await officer.get(html.unescape(views.group(1)))
        one = await officer.get(
            (await _asked(officer, action="messages.export")).headers["location"]
        )
        bert = _link(one.text, BERT)
        exported = await officer.get(bert)
        login = await officer.get(
            (await _asked(officer, action="destination.update")).headers["location"]
        )
    # Views and exports are to say why; a summary of another action counts none without it.
    assert "Without a reason" in summary.text and "Without a reason" in one.text
    assert "Without a reason" not in login.text
    period = {k: v for k, v in parse_qs(urlsplit(anna).query).items() if k != "actor"}
    assert urlsplit(anna).path == "/audit"
    assert parse_qs(urlsplit(anna).query)["actor"] == [ANNA]
    assert period.keys() == {"since", "until"}
    for trail, action, count in (
        (everything, None, 3),
        (viewed, "patient_data.view", 3),
        (exported, "messages.export", 1),
    ):
        assert trail.status_code == 200, trail.text
        actors = re.findall(r"<tr>\s*<td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td>", trail.text)
        assert len(actors) == count and set(actors) <= {ANNA, BERT}, actors
        if action is not None:
            assert f'name="action" type="text" value="{action}"' in trail.text
    assert parse_qs(urlsplit(bert).query)["action"] == ["messages.export"]
