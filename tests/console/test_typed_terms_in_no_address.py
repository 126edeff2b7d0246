"""Nothing typed into a console search form reaches an address, request by request against a
real engine: each of the five forms (messages, events, rejected input, the audit trail, dead
letters) posted without a BSN is kept and redirected to ``?search=<handle>``, never to its
terms. Free text the listing takes as it is (the audit trail's action and target, a provider;
its message id, taken whole, too) once went into the Location as typed, and so into the
browser's history and proxy logs: a patient's name and birth date typed as an audit target
among them.

The listing shows what the terms find; its pager and CSV export name the handle only; the
handle is the searcher's own (another person's is refused as unknown); and a search without a
BSN records no view of patient data, as before."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from tests.conftest import load_sample
from tests.console.started import started_engine
from tests.console.test_saved_searches import START, post, signed_in
from tests.store.factories import make_event, make_message

NAME = "Jan van der Berg geb. 12-04-1961"
UNKNOWN_MESSAGE = "0a1b2c3d-4e5f-4a6b-8c7d-9e8f7a6b5c4d"
"""A patient's name and birth date, typed into a free-text term."""
PAGED_ZD = "ZD100000003"
PAGED_ACTION = "destination.test"  # a search by action takes only the engine's own
REFUSED_PROVIDER = "huisarts-de-linde"
REFUSED_ZD = "ZD100000005"


class Form(NamedTuple):
    path: str  # the form's action
    listing: str  # the listing's GET
    terms: dict[str, str]  # what is typed: each value must stay out of every address
    finds: str  # a mark of the page when it shows what the terms find
    csv: str | None  # the listing's CSV export, if it has one


FORMS = {
    # A period typed as a birth date takes every message since; the ZD number finds one.
    "messages": Form(
        "/messages/search",
        "/messages",
        {"zd_number": "ZD100000002", "since": "1961-04-12"},
        "ZD100000002",
        "/messages.csv",
    ),
    "events": Form("/events/search", "/events", {"provider": NAME}, 'id="no-events"', None),
    "events-found": Form(
        "/events/search",
        "/events",
        {"provider": "ziekenhuis-noord", "zd_number": "ZD100000002"},
        "ZD100000002",
        None,
    ),
    "rejected": Form(
        "/rejected/search", "/rejected", {"provider": NAME}, 'id="rejected-empty"', None
    ),
    "rejected-found": Form(
        "/rejected/search", "/rejected", {"provider": REFUSED_PROVIDER}, REFUSED_ZD, None
    ),
    "audit": Form(
        "/audit",
        "/audit",
        # A message id is taken whole (``search.whole_id``): one nothing names.
        {"action": "destination.try_now", "target": NAME, "message": UNKNOWN_MESSAGE},
        'id="audit-empty"',
        "/audit.csv",
    ),
    "audit-found": Form("/audit", "/audit", {"target": NAME}, "note.added", "/audit.csv"),
    "deadletters": Form(
        "/deadletters/search",
        "/deadletters",
        {"destination": "ziekenhuis-noord", "since": "1961-04-12"},
        "AR from the receiver",
        None,
    ),
}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with started_engine(tmp_path, START) as started:
        store = started.store
        for zd_number in ("ZD100000001", "ZD100000002"):
            event = make_event(zd_number=zd_number, received_at=START)
            assert await store.accept_event(event, [make_message()])
        # 51 messages of one ZD number: two pages of the messages listing.
        paged = make_event(zd_number=PAGED_ZD, received_at=START)
        assert await store.accept_event(paged, [make_message() for _ in range(51)])
        dead = make_message()
        assert await store.accept_event(make_event(zd_number="ZD100000004"), [dead])
        await store.set_status(dead.id, "dead", last_error="AR from the receiver")
        # 101 entries of one action: two pages of the audit trail; one naming the patient.
        for n in range(101):
            await store.add_audit("local:piet", PAGED_ACTION, f"thing-{n}")
        await store.add_audit("local:piet", "note.added", NAME)
        referral: dict[str, Any] = load_sample("referral")
        referral.update(event_id="not-a-uuid", zd_number=REFUSED_ZD)
        referral["provider"]["id"] = REFUSED_PROVIDER
        with pytest.raises(InvalidEvent):
            await started.intake.submit(json.dumps(referral), source="http")
        yield started


def spellings(value: str) -> list[str]:
    """``value`` as it could stand in an address: as typed, form-encoded, quoted, in parts."""
    return [value, value.replace(" ", "+"), value.replace(" ", "%20"), *value.split()]


def addresses(page: str) -> list[str]:
    """Every address a page holds: its links, its forms' actions, the language switch's
    return (``next``)."""
    found = re.findall(r'(?:href|action)="([^"]*)"', page)
    found += re.findall(r'name="next" value="([^"]*)"', page)
    return [html.unescape(a) for a in found]


def assert_in_no_address(typed: dict[str, str], *where: str) -> None:
    for value in typed.values():
        for address in where:
            if value in ("ziekenhuis-noord",):  # a destination shown is the console's own
                continue
            held = [s for s in spellings(value) if len(s) > 3 and s in address]
            assert not held, (value, address)


def handle_of(location: str) -> str:
    query = dict(parse_qsl(urlsplit(location).query))
    assert set(query) == {"search"}, location
    return query["search"]


async def views(engine: Engine) -> int:
    entries = await engine.store.list_audit(limit=5000)
    return sum(1 for e in entries if e.action == "patient_data.view")


def people() -> tuple[Grant, ...]:
    return (Grant(Role.RESEND), Grant(Role.ADMIN), Grant(Role.REPORTS))


@pytest.mark.parametrize("name", list(FORMS))
async def test_a_search_is_kept_and_shown_by_its_handle_never_its_terms(
    engine: Engine, name: str
) -> None:
    form = FORMS[name]
    async with signed_in(engine, "sam@example.org", *people()) as sam:
        before = await views(engine)
        answer = await post(sam, form.path, form.terms)
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(f"{form.listing}?search="), location
        handle_of(location)
        assert_in_no_address(form.terms, *answer.headers.values())
        shown = await sam.get(location)
        assert shown.status_code == 200, shown.text
        assert form.finds in html.unescape(shown.text), shown.text
        assert_in_no_address(form.terms, str(shown.url), *addresses(shown.text))
        if form.csv is not None:
            export = f"{form.csv}?search={handle_of(location)}"
            assert f'href="{export}"' in shown.text
            exported = await sam.get(export)
            assert exported.status_code == 200, exported.text
            assert exported.headers["content-type"].startswith("text/csv")
            if 'id="' not in form.finds:  # it finds rows: they are exported
                assert form.finds in exported.text
        assert await views(engine) == before  # no BSN: no view of patient data recorded

    # Another person's handle is unknown to them, the listing's and the export's alike.
    async with signed_in(engine, "vera@example.org", *people()) as vera:
        assert (await vera.get(location)).status_code == 404
        if form.csv is not None:
            export = f"{form.csv}?search={handle_of(location)}"
            assert (await vera.get(export)).status_code == 404


@pytest.mark.parametrize(
    ("path", "terms", "rows"),
    [
        ("/messages/search", {"zd_number": PAGED_ZD}, r'<a href="/messages/[0-9a-f-]{36}"'),
        ("/audit", {"action": PAGED_ACTION}, r"thing-\d+"),
    ],
)
async def test_the_pages_of_a_kept_search_name_its_handle(
    engine: Engine, path: str, terms: dict[str, str], rows: str
) -> None:
    async with signed_in(engine, "sam@example.org", *people()) as sam:
        location = (await post(sam, path, terms)).headers["location"]
        handle = handle_of(location)
        first = await sam.get(location)
        pages = [a for a in addresses(first.text) if "offset=" in a and urlsplit(a).path in path]
        assert pages, first.text
        [following] = {a for a in pages if "offset=0" not in a}
        assert dict(parse_qsl(urlsplit(following).query)).keys() == {"search", "offset"}
        assert handle in following
        second = await sam.get(following)
        assert second.status_code == 200
        shown = len(re.findall(rows, first.text)), len(re.findall(rows, second.text))
    assert shown in ((50, 1), (100, 1)), shown


async def test_a_message_id_with_nine_digits_is_kept_as_a_term(engine: Engine) -> None:
    """The audit trail's message id is the engine's own (a UUID) whatever digits it holds: it
    is no BSN typed in the wrong field, and the search is kept with it."""
    message_id = "0a1b2c3d-4e5f-4a6b-8c7d-123456782000"
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        answer = await post(ada, "/audit", {"message": message_id})
        assert answer.status_code == 303
        assert message_id not in answer.headers["location"]
        shown = await ada.get(answer.headers["location"])
    assert shown.status_code == 200 and f'value="{message_id}"' in shown.text


async def test_a_dead_letter_confirmation_cancels_to_the_handle(engine: Engine) -> None:
    """The confirmation's *Cancel* leads back to the list it came from: by its handle, never
    by its period as typed (a birth date)."""
    typed = {"since": "1961-04-12"}
    async with signed_in(engine, "sam@example.org", *people()) as sam:
        location = (await post(sam, "/deadletters/search", typed)).headers["location"]
        listing = await sam.get(location)
        [dead] = re.findall(r'id="pick-([0-9a-f-]{36})"', listing.text)
        assert f'name="search" value="{handle_of(location)}"' in listing.text
        confirm = await post(
            sam,
            "/deadletters/confirm",
            {"action": "discard", "ids": dead, **typed, "search": handle_of(location)},
        )
        assert confirm.status_code == 200, confirm.text
        assert f'href="{location}"' in confirm.text
        assert_in_no_address(typed, *addresses(confirm.text))
        back = await sam.get(location)
        assert back.status_code == 200 and f'id="pick-{dead}"' in back.text


async def test_a_batch_resend_cancels_to_the_handle(engine: Engine) -> None:
    """*Resend these messages…* of a kept search: its confirmation's *Cancel* names the handle,
    never the terms as typed (a period typed as a birth date)."""
    typed = {"zd_number": "ZD100000002", "since": "1961-04-12"}
    async with signed_in(engine, "sam@example.org", *people()) as sam:
        location = (await post(sam, "/messages/search", typed)).headers["location"]
        shown = await sam.get(location)
        assert f'name="search" value="{handle_of(location)}"' in shown.text
        confirm = await post(
            sam, "/messages/resend/confirm", {**typed, "search": handle_of(location)}
        )
        assert confirm.status_code == 200, confirm.text
        assert f'<a href="{location}" id="confirm-cancel">' in confirm.text
        assert_in_no_address(typed, *addresses(confirm.text))


async def test_an_empty_form_is_the_listing_itself(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", *people()) as sam:
        for path, listing in (("/messages/search", "/messages"), ("/audit", "/audit")):
            answer = await post(sam, path, {})
            assert (answer.status_code, answer.headers["location"]) == (303, listing)


async def test_an_address_typed_by_hand_is_still_read_by_its_rules(engine: Engine) -> None:
    """A person may type a GET's address: its terms are searched (or refused) as before."""
    async with signed_in(engine, "sam@example.org", *people()) as sam:
        found = await sam.get("/audit", params={"target": NAME})
        assert found.status_code == 200 and "note.added" in found.text
        refused = await sam.get("/messages", params={"zd_number": NAME})
        assert refused.status_code == 422
