"""The API keeps each accepted event with the token that sent it and finds events by it
(docs/product.md §2): what an administrator needs to trace a leaked intake token.

The caller is the authenticated token as the audit log names it (``token:<name>``), never a
name the request gives; ``caller`` in the listing, the CSV and one event; the ``caller`` term
of ``GET /api/v1/events`` (and ``events.csv``, ``POST /api/v1/events/search``) finds what one
token sent. A term in no caller's form is a 422 naming the forms; a BSN there is refused as in
``provider``, never echoed.
"""

from __future__ import annotations

import copy
import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.http.conftest import BSN
from tests.http.support import bearer, token_for


async def _sent_by_ci_intake(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> str:
    """A referral posted with a token named ci-intake holding intake only; its event id."""
    token = await token_for(engine, Grant(Role.INTAKE), name="ci-intake")
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    posted = await api.post(
        "/api/v1/events",
        json=event,
        headers={**bearer(token), "X-Integrator-Caller": "token:someone-else"},
    )
    assert posted.status_code in (200, 201, 202), posted.text
    return str(event["event_id"])


async def test_an_event_is_kept_with_the_token_that_sent_it_and_found_by_it(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    sent = await _sent_by_ci_intake(engine, api, referral_data)
    other = copy.deepcopy(referral_data)
    other["event_id"] = str(uuid.uuid4())
    await engine.intake.submit(other, source="cli", caller="local:anna")

    stored = await engine.store.get_event(sent)
    assert stored is not None and stored.caller == "token:ci-intake"
    listed = await api.get("/api/v1/events")
    assert {e["id"]: e["caller"] for e in listed.json()} == {
        sent: "token:ci-intake",
        other["event_id"]: "local:anna",
    }
    found = await api.get("/api/v1/events", params={"caller": "token:ci-intake"})
    assert found.status_code == 200, found.text
    assert [e["id"] for e in found.json()] == [sent]
    searched = await api.post("/api/v1/events/search", json={"caller": "local:anna"})
    assert [e["id"] for e in searched.json()] == [other["event_id"]]
    exported = await api.get("/api/v1/events.csv", params={"caller": "token:ci-intake"})
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["event_id"], r["caller"]) for r in rows] == [(sent, "token:ci-intake")]
    one = await api.get(f"/api/v1/events/{sent}", headers={"X-Integrator-Reason": "spoor token"})
    assert one.status_code == 200, one.text
    assert one.json()["caller"] == "token:ci-intake"


@pytest.mark.parametrize(
    ("typed", "detail"),
    [
        (
            "ci-intake",
            "caller: not a caller: callers are named token:NAME, local:USER, amqp or demo; "
            "for a token, put token: first",
        ),
        (
            "person:ada@example.nl",
            "caller: not a caller: callers are named token:NAME, local:USER, amqp or demo",
        ),
        (BSN, "caller: this looks like a BSN: search by BSN instead"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/events.csv", "search"])
async def test_a_caller_in_no_caller_s_form_is_refused_naming_the_forms(
    engine: Engine, api: httpx.AsyncClient, typed: str, detail: str, path: str
) -> None:
    if path == "search":
        answer = await api.post("/api/v1/events/search", json={"caller": typed})
    else:
        answer = await api.get(path, params={"caller": typed})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == detail
    assert BSN not in answer.text
