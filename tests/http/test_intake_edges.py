"""Intake's edges over the real API: what a sender's defaults and headers may carry.

Each refusal names the field path and the rule, keeps the input as rejected input, and leaves
nothing else behind; what is taken goes on as any event.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from integrator.engine import Engine
from integrator.http.media import NOT_UTF8
from integrator.store import MessageFilter
from integrator.store.records import EventFilter
from tests.http.test_refused_intake import kept, rejected_count

EVENTS = "/api/v1/events"
NIL = "00000000-0000-0000-0000-000000000000"


async def test_two_senders_with_the_nil_uuid_are_both_refused_and_kept(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """Before, the first was taken and the second, another referral, answered as its
    duplicate (202, ``duplicate: true``): the second referral never reached the hospital."""
    first = dict(referral_data, event_id=NIL)
    second = copy.deepcopy(first)
    second["zd_number"] = "ZD987654321"
    for event in (first, second):
        response = await api.post(EVENTS, json=event)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert (error["path"], error["rule"]) == ("event_id", "uuid_unset")
        assert NIL not in response.text
    records = await kept(engine)
    assert sorted(json.loads(r.raw)["zd_number"] for r in records) == sorted(
        [first["zd_number"], second["zd_number"]]
    )
    assert {r.reason[0]["rule"] for r in records} == {"uuid_unset"}
    assert rejected_count(engine) == 2
    assert await engine.store.list_events(EventFilter(), limit=10) == []
    assert await engine.store.list_messages(MessageFilter(), limit=10) == []


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        ("application/json; charset=iso-8859-1", "iso-8859-1"),
        ('application/json; charset="Windows-1252"', "windows-1252"),
        ("application/json;charset=UTF-16", "utf-16"),
        ("application/json; charset=999990019 <b>", None),
    ],
)
async def test_a_body_declared_in_another_charset_is_a_415_and_kept(
    engine: Engine,
    api: httpx.AsyncClient,
    referral_data: dict[str, Any],
    content_type: str,
    named: str | None,
) -> None:
    """The charset was ignored and the body read as UTF-8: text a sender wrote in Latin-1 was
    refused as no JSON at best, or read as other text, and a pure-ASCII body was taken."""
    body = json.dumps(referral_data, ensure_ascii=False).encode("latin-1")
    response = await api.post(EVENTS, content=body, headers={"content-type": content_type})
    assert response.status_code == 415, response.text
    [record] = await kept(engine)
    assert response.json() == {"detail": NOT_UTF8, "rejected_id": record.id}
    assert record.raw == body and record.source == "http"
    [reason] = record.reason
    assert (reason["path"], reason["rule"]) == ("$", "charset")
    if named is None:
        assert "999990019" not in json.dumps(record.reason)
        assert reason["message"].startswith("was declared in a charset other than UTF-8")
    else:
        assert reason["message"] == (
            f"was declared in charset {named}: JSON is UTF-8 (RFC 8259); send it as UTF-8, "
            "with no charset or charset=utf-8"
        )
    assert rejected_count(engine) == 1
    assert await engine.store.list_events(EventFilter(), limit=10) == []
    assert await engine.store.list_messages(MessageFilter(), limit=10) == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "application/json; charset=UTF-8",
        'application/json; charset="Utf-8"',
        "application/json;charset=utf8",
        "Application/JSON; Charset=UTF-8",
        "application/json",
    ],
)
async def test_utf8_declared_in_any_spelling_is_taken(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any], content_type: str
) -> None:
    body = json.dumps(referral_data, ensure_ascii=False).encode("utf-8")
    response = await api.post(EVENTS, content=body, headers={"content-type": content_type})
    assert response.status_code == 202, response.text
    assert await kept(engine) == []


async def test_another_charset_on_another_route_is_a_415_keeping_nothing(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    response = await api.post(
        "/api/v1/messages/search",
        content=b"{}",
        headers={"content-type": "application/json; charset=latin1"},
    )
    assert response.status_code == 415
    assert response.json() == {"detail": NOT_UTF8}
    assert await kept(engine) == []
