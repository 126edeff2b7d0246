"""Saved searches and the CSV export on the Messages page, request by request against a real
engine: each person sees and deletes only their own saved searches, a BSN is never saved, the
limits are refused naming the field and the rule, and the export is for ``reports.export``
only, audited, with a BSN in a POST body and in the audit as its keyed hash only."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from integrator import saved_searches
from integrator.access import Grant, Role
from integrator.access.totp import code_at
from integrator.engine import Engine
from integrator.http import create_app
from integrator.search import CSV_COLUMNS, build_filter, to_csv
from tests.console import answered
from tests.console.live import PASSWORD
from tests.console.started import started_engine
from tests.console.test_session import accepted
from tests.store.factories import make_event, make_message

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BASE = "http://console.test"
ORIGIN = {"origin": BASE}
BSN = "123456782"  # passes the eleven-test
IDENTIFIERS = {"destination": "ziekenhuis-noord", "status": "queued"}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        # Two queued messages for ziekenhuis-noord: one for the patient with BSN, one for another.
        patient = make_event(bsn_hash=started.settings.bsn_hash(BSN), received_at=START)
        other = make_event(zd_number="ZD100000002", received_at=START)
        assert await started.store.accept_event(patient, [make_message()])
        assert await started.store.accept_event(other, [make_message()])
        yield started


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, html
    return found.group(1)


def cells_saying(text: str, value: str) -> int:
    """How many table cells of a page say ``value`` and nothing else, whatever their attributes
    (a narrow layout names each cell by its column: ``data-label``)."""
    return len(re.findall(rf"<td(?: [^>]*)?>{re.escape(value)}</td>", text))


@asynccontextmanager
async def signed_in(
    engine: Engine, email: str, *grants: Grant, lang: str = "en"
) -> AsyncIterator[httpx.AsyncClient]:
    """A console client for a new active person with ``grants``, signed in, in ``lang``."""
    totp = await accepted(engine, email, grants)
    transport = answered.transport(create_app(engine))
    cookies = {"integrator-lang": lang}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies) as browser:
        form = await browser.get("/login")
        answer = await browser.post(
            "/login",
            data={
                "csrf": csrf(form.text),
                "email": email,
                "password": PASSWORD,
                "code": code_at(totp, engine.clock.now()),
            },
            headers=ORIGIN,
        )
        assert answer.status_code == 303, answer.text
        yield browser


async def post(
    browser: httpx.AsyncClient, url: str, data: Mapping[str, str | list[str]]
) -> httpx.Response:
    token = csrf((await browser.get("/messages")).text)
    return await browser.post(url, data={"csrf": token, **data}, headers=ORIGIN)


async def person_id(engine: Engine, email: str) -> str:
    found = await engine.store.get_person(email=email)
    assert found is not None
    return found.id


# -- saved searches -------------------------------------------------------------------------------


async def test_a_search_is_saved_listed_run_and_deleted(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await sam.get("/messages?" + urlencode(IDENTIFIERS))
        assert 'action="/messages/saved"' in shown.text
        assert 'id="no-saved"' in shown.text

        saved = await post(sam, "/messages/saved", {"name": "  Noord   wacht ", **IDENTIFIERS})
        assert saved.status_code == 303
        run = saved.headers["location"]
        assert run == "/messages?" + urlencode(IDENTIFIERS)

        [kept] = await engine.store.list_saved_searches(await person_id(engine, "sam@example.org"))
        assert (kept.name, kept.terms) == ("Noord wacht", IDENTIFIERS)
        page = await sam.get("/messages")
        assert f'<a href="{run.replace("&", "&amp;")}">Noord wacht</a>' in page.text

        results = await sam.get(run)  # running it: the link
        assert cells_saying(results.text, "ziekenhuis-noord") == 2

        deleted = await post(sam, f"/messages/saved/{kept.id}/delete", {})
        assert deleted.status_code == 303 and deleted.headers["location"] == "/messages"
        assert await engine.store.list_saved_searches(kept.person_id) == []
        # A second post (a double click, another tab): back to the list, as the first.
        again = await post(sam, f"/messages/saved/{kept.id}/delete", {})
        assert again.status_code == 303 and again.headers["location"] == "/messages"
        assert "Noord wacht" not in (await sam.get("/messages")).text


async def test_another_person_neither_sees_nor_deletes_them(engine: Engine) -> None:
    async with (
        signed_in(engine, "anna@example.org", Grant(Role.RESEND)) as anna,
        signed_in(engine, "bert@example.org", Grant(Role.RESEND)) as bert,
    ):
        assert (
            await post(anna, "/messages/saved", {"name": "Anna's", **IDENTIFIERS})
        ).status_code == 303
        [kept] = await engine.store.list_saved_searches(await person_id(engine, "anna@example.org"))

        assert "Anna&#39;s" not in (await bert.get("/messages")).text
        assert "Anna&#39;s" in (await anna.get("/messages")).text
        # Someone else's, or none: nothing deleted, back to the list as for one gone already.
        refused = await post(bert, f"/messages/saved/{kept.id}/delete", {})
        assert refused.status_code == 303 and refused.headers["location"] == "/messages"
        unknown = await post(bert, "/messages/saved/no-such-id/delete", {})
        assert unknown.status_code == 303

    assert await engine.store.get_saved_search(kept.person_id, kept.id) == kept


async def test_a_bsn_is_never_saved(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        # A search by BSN offers to save the other terms only, and says so.
        searched = await post(sam, "/messages/search", {"bsn": BSN, **IDENTIFIERS})
        shown = await sam.get(searched.headers["location"])  # the kept search, by GET
        save_form = shown.text.split('action="/messages/saved"', 1)[1].split("</form>", 1)[0]
        assert 'name="bsn"' not in save_form and BSN not in save_form
        assert 'id="bsn-not-saved"' in shown.text

        forged = await post(sam, "/messages/saved", {"name": "x", "bsn": BSN, **IDENTIFIERS})
        assert forged.status_code == 422
        assert "BSN: a BSN is patient data and is never saved" in forged.text

        pasted = await post(sam, "/messages/saved", {"name": "x", "zd_number": "123 456 782"})
        assert pasted.status_code == 422
        assert "ZD number: a BSN is patient data and is never saved" in pasted.text
        assert "123 456 782" not in pasted.text  # a refused term is not shown back

        named = await post(sam, "/messages/saved", {"name": f"patient {BSN}", **IDENTIFIERS})
        assert named.status_code == 422
        assert "Name: a BSN is patient data and is never saved" in named.text
        assert BSN not in named.text

        # A ZD number's nine digits are an identifier, whatever their checksum.
        zd = await post(sam, "/messages/saved", {"name": "zd", "zd_number": "ZD123456782"})
        assert zd.status_code == 303

    [kept] = await engine.store.list_saved_searches(await person_id(engine, "sam@example.org"))
    assert kept.terms == {"zd_number": "ZD123456782"}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "   ", **IDENTIFIERS}, "Name: give the saved search a name"),
        ({"name": "n" * 101, **IDENTIFIERS}, "Name: at most 100 characters"),
        ({"name": "nothing"}, 'role="alert">give at least one search term to save'),
        ({"name": "bad", "status": "lost"}, "Status: not a message status"),
        ({"name": "bad", "since": "yesterday-ish"}, "From: not an ISO date or date-time"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_the_rule(
    engine: Engine, form: dict[str, str], message: str
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        answer = await post(sam, "/messages/saved", form)
    assert answer.status_code == 422
    assert message in answer.text
    assert await engine.store.list_saved_searches(await person_id(engine, "sam@example.org")) == []


def save_error(page: str) -> str:
    found = re.search(r'<p class="field-error" id="save-error" role="alert">([^<]*)</p>', page)
    assert found, page
    return found.group(1)


@pytest.mark.parametrize(
    ("lang", "form", "said"),
    [
        ("nl", {"bsn": BSN}, "BSN: een BSN is een patiëntgegeven en wordt nooit bewaard"),
        ("nl", {"since": "gisteren"}, "Vanaf: geen geldige datum of datum-tijd; geef een datum"),
        ("nl", {"status": "kwijt"}, "Status: geen berichtstatus; kies uit "),
        ("nl", {"zd_number": "123 456 782"}, "ZD-nummer: een BSN is een patiëntgegeven"),
        ("nl", {"name": " ", "until": "2h"}, "Naam: geef de zoekopdracht een naam"),
        ("nl", {}, "geef minstens één zoekterm om te bewaren"),
        ("en", {"since": "yesterday"}, "From: not an ISO date or date-time; give a date"),
        ("en", {"event_type": "x"}, "Event type: "),
        ("en", {}, "give at least one search term to save"),
    ],
)
async def test_a_refusal_names_the_field_as_the_form_does_in_the_persons_language(
    engine: Engine, lang: str, form: dict[str, str], said: str
) -> None:
    """The field as the Messages form labels it, never its code (``since: …``), which in
    Dutch was an English word before a Dutch sentence."""
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang=lang) as sam:
        answer = await post(sam, "/messages/saved", {"name": "x", **form})
    assert answer.status_code == 422
    assert save_error(answer.text).startswith(said)
    assert await engine.store.list_saved_searches(await person_id(engine, "sam@example.org")) == []


async def test_a_name_once_and_at_most_the_limit_per_person(engine: Engine) -> None:
    most = saved_searches.MAX_PER_PERSON
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        again = await post(sam, "/messages/saved", {"name": "search 0", "status": "dead"})
        assert again.status_code == 303
        again = await post(sam, "/messages/saved", {"name": "search 0", "status": "dead"})
        assert again.status_code == 422
        assert "Name: you have a saved search by that name already" in again.text
        assert 'id="save-name" name="name" type="text"' in again.text
        assert 'required value="search 0"' in again.text  # kept, to be changed, not retyped
        pasted = await post(sam, "/messages/saved", {"name": "bsn 123456782", "status": "dead"})
        assert pasted.status_code == 422 and "123456782" not in pasted.text  # never shown back
        token = csrf((await sam.get("/messages")).text)
        for n in range(1, most):
            answer = await sam.post(
                "/messages/saved",
                data={"csrf": token, "name": f"search {n}", "zd_number": f"ZD1000000{n:02d}"},
                headers=ORIGIN,
            )
            assert answer.status_code == 303
        over = await post(sam, "/messages/saved", {"name": "one more", "status": "dead"})
        assert over.status_code == 422
        assert f"Name: at most {most} saved searches per person" in over.text
    listed = await engine.store.list_saved_searches(await person_id(engine, "sam@example.org"))
    assert len(listed) == most


# -- the CSV export -------------------------------------------------------------------------------


async def exports(engine: Engine) -> list[dict[str, object]]:
    entries = await engine.store.list_audit(limit=100)
    return [
        {"actor": e.actor, "target": e.target, **(e.details or {})}
        for e in entries
        if e.action == "messages.export"
    ]


async def test_reports_downloads_the_cli_csv_and_the_export_is_audited(engine: Engine) -> None:
    async with signed_in(engine, "rita@example.org", Grant(Role.REPORTS)) as rita:
        shown = await rita.get("/messages?" + urlencode(IDENTIFIERS))
        link = "/messages.csv?" + urlencode(IDENTIFIERS)
        assert f'href="{link.replace("&", "&amp;")}"' in shown.text
        answer = await rita.get(link)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="messages.csv"'
    lines = answer.text.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS) and len(lines) == 3
    # The same CSV as `integrator messages list --csv` makes of the same terms.
    flt = build_filter(engine.settings, **IDENTIFIERS)
    found = await engine.store.list_messages(flt, limit=1000)
    assert answer.text == to_csv(found, engine.settings.zone)  # times local, as listings show

    [entry] = await exports(engine)
    assert entry["actor"] == "person:rita@example.org" and entry["target"] == "messages.csv"
    assert entry["terms"] == IDENTIFIERS and entry["rows"] == 2 and entry["limit"] == 1000
    assert entry["source"] == "127.0.0.1"


async def test_a_viewer_sees_no_export_and_is_refused_it(engine: Engine) -> None:
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as vera:
        shown = await vera.get("/messages?" + urlencode(IDENTIFIERS))
        assert shown.status_code == 200 and "export-csv" not in shown.text
        assert "/messages.csv" not in shown.text
        assert (await vera.get("/messages.csv?" + urlencode(IDENTIFIERS))).status_code == 403
        assert (await vera.get("/messages.csv?search=any")).status_code == 403
    assert await exports(engine) == []


async def test_an_export_by_bsn_names_the_kept_search_and_audits_the_hash_only(
    engine: Engine,
) -> None:
    grants = (Grant(Role.REPORTS), Grant(Role.RESEND))
    async with signed_in(engine, "sam@example.org", *grants) as sam:
        searched = await post(sam, "/messages/search", {"bsn": "123.456.782", **IDENTIFIERS})
        shown = await sam.get(searched.headers["location"])
        [link] = re.findall(r'id="export-csv" href="([^"]*)"', shown.text)
        assert re.fullmatch(r"/messages\.csv\?search=[\w-]+", link)
        assert BSN not in shown.text and "123.456.782" not in shown.text

        answer = await sam.get(link)
        assert answer.status_code == 200
        assert BSN not in str(answer.request.url) and BSN not in answer.text
        assert len(answer.text.splitlines()) == 2  # the header and the patient's one message

        in_url = await sam.get("/messages.csv?" + urlencode({"bsn": BSN}))
        assert in_url.status_code == 422
        assert "bsn: a BSN goes in the search form" in in_url.text

    [entry] = await exports(engine)
    assert entry["terms"] == {**IDENTIFIERS, "bsn_hash": engine.settings.bsn_hash(BSN)}
    audit = json.dumps([e.details for e in await engine.store.list_audit(limit=100)])
    assert BSN not in audit and "123.456.782" not in audit


async def test_an_export_for_a_destination_nobody_has_is_refused_not_empty(
    engine: Engine,
) -> None:
    unknown = {"destination": "nosuch", "status": "queued"}
    grants = (Grant(Role.REPORTS), Grant(Role.RESEND))
    async with signed_in(engine, "sam@example.org", *grants) as sam:
        by_link = await sam.get("/messages.csv?" + urlencode(unknown))
        by_post = await post(sam, "/messages/search", {"bsn": BSN, **unknown})
        resend = await post(sam, "/messages/resend/confirm", unknown)
        # The page's own search says the same (it did before): one check for all three.
        shown = await sam.get("/messages?" + urlencode(unknown))
    for answer in (by_link, by_post, resend, shown):
        # The page's form says it beside its field, the others name the field.
        named = "" if answer in (by_post, shown) else "destination: "
        assert f"{named}no destination has that id" in answer.text, answer.text
        assert "configured: none" in answer.text  # no destination file; only stored messages
        assert BSN not in answer.text
    for answer in (by_post, shown):
        assert '<p class="field-error" id="destination-error">no destination' in answer.text
    assert by_link.status_code == by_post.status_code == resend.status_code == 422
    assert await exports(engine) == []


async def test_a_malformed_zd_number_is_refused_beside_the_field_not_empty(
    engine: Engine,
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.REPORTS)) as sam:
        shown = await sam.get("/messages?" + urlencode({"zd_number": "ZD12"}))
        by_link = await sam.get("/messages.csv?" + urlencode({"zd_number": "ZD12"}))
    for answer, named in ((shown, ""), (by_link, "zd_number: ")):  # the page's: beside it
        assert f"{named}a ZD number is ZD and 9 digits" in answer.text, answer.text
    assert '<p class="field-error" id="zd_number-error">a ZD number' in shown.text
    assert by_link.status_code == 422
    assert await exports(engine) == []


async def test_an_export_with_a_bsn_in_another_term_is_refused_not_shown_back(
    engine: Engine,
) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.REPORTS)) as sam:
        answer = await sam.get("/messages.csv?" + urlencode({"zd_number": "123 456 782"}))
    assert answer.status_code == 422
    assert "zd_number: this looks like a BSN: search by BSN instead" in answer.text, answer.text
    assert "123 456 782" not in answer.text and "123+456+782" not in answer.text
    assert await exports(engine) == []


async def test_reports_without_patient_data_cannot_export_by_bsn(engine: Engine) -> None:
    async with signed_in(engine, "rita@example.org", Grant(Role.REPORTS)) as rita:
        answer = await post(rita, "/messages/search", {"bsn": BSN})
        assert answer.status_code == 403
        assert (await rita.get("/messages.csv?search=any")).status_code == 404
    assert await exports(engine) == []
