"""A message search by BSN that finds nothing says when the patient's referral arrived unrouted.

As a search by ZD number says it (``test_unrouted_notice``), for the GP who only has the BSN at
hand. The page never shows the BSN (it has only its keyed hash), and the way to the events is a
form posting the kept search's handle, so no address holds the BSN either: the events page's
search by BSN is made from the kept search's hash, recorded as a search of events, kept and
shown by GET under its own handle. The count itself records nothing more than the search by
BSN did. Only who reads patient data in every cluster is told (an unrouted event lies in none,
and only they could list it by BSN). Request by request against a real engine.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.patient_views import PATIENT_DATA_VIEW
from integrator.store import RejectedKeys
from tests.console.started import noord_engine
from tests.console.test_saved_searches import ORIGIN, csrf, post, signed_in

BSN = "999990019"  # the sample referral's patient
OTHER = "999990020"  # a patient with nothing stored
ZD = "ZD200000019"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    # Cluster CARD's one destination serves another provider: the referral's event is unrouted.
    async with noord_engine(tmp_path, providers=("kliniek-oost",)) as started:
        yield started


async def _unrouted(engine: Engine, referral_data: dict[str, Any]) -> None:
    event = copy.deepcopy(referral_data)
    event["event_id"], event["zd_number"] = str(uuid.uuid4()), ZD
    assert event["patient"]["bsn"] == BSN
    assert not (await engine.intake.submit(json.dumps(event), source="cli")).messages


async def _searched(browser: httpx.AsyncClient, bsn: str) -> httpx.Response:
    """The messages form posted with ``bsn``; the kept search's page its redirect names."""
    made = await post(browser, "/messages/search", {"bsn": bsn})
    assert made.status_code == 303, made.text
    assert BSN not in made.headers["location"]
    shown = await browser.get(made.headers["location"])
    assert shown.status_code == 200, shown.text
    return shown


def _no_bsn(*texts: str) -> None:
    for text in texts:
        assert BSN not in text and "999 990 019" not in text


async def _views(engine: Engine) -> list[dict[str, Any]]:
    entries = await engine.store.list_audit(limit=1000)
    _no_bsn(*(json.dumps([e.target, e.reason, e.details]) for e in entries))
    return [e.details for e in entries if e.action == PATIENT_DATA_VIEW]


async def test_a_bsn_whose_event_arrived_unrouted_is_said_with_a_way_to_it(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _unrouted(engine, referral_data)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        page = await _searched(sam, BSN)
        assert 'id="no-messages"' in page.text
        assert 'id="unrouted-bsn"' in page.text and 'id="bsn-unseen"' not in page.text
        assert "er kwam 1 gebeurtenis van deze patiënt binnen" in page.text
        assert 'action="/events/search/unrouted"' in page.text
        _no_bsn(page.text, str(page.url))
        handle = str(page.url).split("search=", 1)[1]
        assert f'name="search" value="{handle}"' in page.text
        views = await _views(engine)  # the search's own entry: the count adds none
        assert [(v["view"], v["found"]) for v in views] == [("messages.search", 0)]

        shown = await sam.post(
            "/events/search/unrouted",
            data={"csrf": csrf(page.text), "search": handle},
            headers=ORIGIN,
        )
        assert shown.status_code == 303, shown.text
        where = shown.headers["location"]
        assert where.startswith("/events?search=") and handle not in where
        listed = await sam.get(where)
        assert listed.status_code == 200 and ZD in listed.text
        _no_bsn(where, listed.text)
        # Listing them is a search of its own, recorded as the events form's would be.
        views = await _views(engine)
        assert sorted((v["view"], v["found"]) for v in views) == [
            ("events.search", 1),
            ("messages.search", 0),
        ]

        other = await _searched(sam, OTHER)
        assert 'id="no-messages"' in other.text
        assert 'id="unrouted-bsn"' not in other.text and 'id="bsn-unseen"' not in other.text


async def test_who_cannot_read_every_cluster_is_not_told(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    await _unrouted(engine, referral_data)
    # Rejected input of the patient too: not told of either, as of nothing, to either of them.
    await engine.store.reject_event(
        b"{}",
        "http",
        [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}],
        RejectedKeys(bsn_hash=engine.settings.bsn_hash(BSN)),
    )
    held = (Grant(Role.RESEND, "CARD"),), (Grant(Role.VIEWER), Grant(Role.RESEND, "CARD"))
    for n, grants in enumerate(held):
        async with signed_in(engine, f"carla{n}@example.org", *grants) as carla:
            for bsn in (BSN, OTHER):
                page = await _searched(carla, bsn)
                assert 'id="no-messages"' in page.text
                assert 'id="unrouted-bsn"' not in page.text
                assert 'id="rejected-bsn"' not in page.text
                assert 'id="bsn-unseen"' in page.text  # the same whether there is any or none
            handle = str(page.url).split("search=", 1)[1]
            refused = await carla.post(
                "/events/search/unrouted",
                data={"csrf": csrf(page.text), "search": handle},
                headers=ORIGIN,
            )
            assert refused.status_code == 403, refused.text


async def test_the_patient_s_rejected_input_is_said_without_the_bsn(
    engine: Engine,
) -> None:
    await engine.store.reject_event(
        b"{}",
        "http",
        [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}],
        RejectedKeys(bsn_hash=engine.settings.bsn_hash(BSN)),
    )
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        page = await _searched(sam, BSN)
    assert 'id="rejected-bsn"' in page.text and 'id="unrouted-bsn"' not in page.text
    assert "No messages for this BSN; 1 rejected input of this patient" in page.text
    _no_bsn(page.text, str(page.url))


async def test_the_way_to_the_events_takes_only_the_person_s_own_search_by_bsn(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    """``/events/search/unrouted`` searches by the BSN of a kept search: only the person's own,
    only with the form's CSRF token; anything else searches nothing, records nothing and
    names no BSN. The search it makes carries the session's reason (docs/product.md §8)."""
    await _unrouted(engine, referral_data)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        handle = str((await _searched(sam, BSN)).url).split("search=", 1)[1]
        async with signed_in(engine, "kim@example.org", Grant(Role.RESEND)) as kim:
            theirs = await kim.post(
                "/events/search/unrouted",
                data={"csrf": csrf((await kim.get("/messages")).text), "search": handle},
                headers=ORIGIN,
            )
        forged = await sam.post("/events/search/unrouted", data={"search": handle}, headers=ORIGIN)
        token = csrf((await sam.get("/messages")).text)
        unknown = await sam.post(
            "/events/search/unrouted", data={"csrf": token, "search": "x" * 20}, headers=ORIGIN
        )
        for refused in (theirs, forged, unknown):
            assert "/events?search=" not in refused.headers.get("location", ""), refused.text
            _no_bsn(refused.text)
        assert forged.status_code == 403
        assert [v["view"] for v in await _views(engine)] == ["messages.search"]
        # Sam's own, with a reason stated for the session: recorded with it.
        stated = await sam.post(
            "/reason",
            data={"csrf": token, "choice": "referrer", "reason": "", "next": "/"},
            headers=ORIGIN,
        )
        assert stated.status_code == 303, stated.text
        own = await sam.post(
            "/events/search/unrouted", data={"csrf": token, "search": handle}, headers=ORIGIN
        )
        assert own.headers["location"].startswith("/events?search="), own.text
    [entry] = [
        e
        for e in await engine.store.list_audit(limit=1000)
        if e.action == PATIENT_DATA_VIEW and e.details["view"] == "events.search"
    ]
    assert entry.reason == "A question from the referrer (GP) about a referral"
