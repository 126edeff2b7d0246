"""Intake's edges over the real API: what a sender's defaults and headers may carry.

Each refusal names the field path and the rule, keeps the input as rejected input, and leaves
nothing else behind; what is taken goes on as any event.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx

from integrator.engine import Engine
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
