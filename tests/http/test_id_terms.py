"""A search by an id that cannot be one is a 422 naming the term, not an empty list.

``GET /api/v1/messages?event_id=Jansen`` answered ``[]``, which reads as "that event made no
messages"; ``integrator messages list --event-id Jansen`` refuses it, naming the option. The
API matches ids whole (as its paths take them), so text that is no id, the start of one
(``be``, ``beef1111``: the command line looks such a start up, the API does not), or digits
pasted from elsewhere are each refused, naming ``event_id`` (an audit search's ``message``)
and the rule, never the value. A whole id is found in either case, with or without dashes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from integrator.engine import Engine
from tests.http.conftest import BSN, submit

NOT_IDS = ("Jansen", "1970-01-31", "be", "beef1111", "19610412", BSN)
"""A name, a date of birth, too short, shortened as a listing shows it, digits only, a BSN."""


def searches(term: str, value: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every search of the API that takes the id term ``term``: (method, url, body)."""
    if term == "event_id":
        return [
            ("GET", "/api/v1/messages", {}),
            ("GET", "/api/v1/messages.csv", {}),
            ("POST", "/api/v1/messages/search", {"event_id": value}),
            (
                "POST",
                "/api/v1/resend",
                {"reason": "r", "dry_run": True, "filter": {"event_id": value}},
            ),
        ]
    return [
        ("GET", "/api/v1/audit", {}),
        ("GET", "/api/v1/audit.csv", {}),
        ("POST", "/api/v1/audit/search", {"message": value}),
    ]


async def answer(
    api: httpx.AsyncClient, method: str, url: str, body: dict[str, Any], term: str, value: str
) -> httpx.Response:
    if method == "GET":
        return await api.get(url, params={term: value})
    return await api.post(url, json=body)


@pytest.mark.parametrize("value", NOT_IDS)
@pytest.mark.parametrize("term", ["event_id", "message"])
async def test_an_id_term_that_is_no_whole_id_is_a_422_naming_it_without_the_value(
    api: httpx.AsyncClient, engine: Engine, referral_data: dict[str, Any], term: str, value: str
) -> None:
    await submit(engine, referral_data)  # something to find, were it matched loosely
    for method, url, body in searches(term, value):
        response = await answer(api, method, url, body, term, value)
        assert response.status_code == 422, (url, response.text)
        detail = response.json()["detail"]
        assert detail.startswith(f"{term}: "), (url, detail)
        if term == "message" and value == BSN:  # the audit's free-text rule comes first
            assert "this looks like a BSN: search by BSN instead" in detail
        else:
            assert "give the whole id, 32 hex digits" in detail, (url, detail)
        assert value not in response.text, (url, detail)


async def test_a_whole_id_is_found_in_either_case_with_or_without_its_dashes(
    api: httpx.AsyncClient, engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    message = await engine.store.get_message(message_id)
    assert message is not None
    for typed in (message.event_id, message.event_id.upper().replace("-", "")):
        found = await api.get("/api/v1/messages", params={"event_id": typed})
        assert found.status_code == 200, found.text
        assert [m["id"] for m in found.json()] == [message_id]
    for typed in (message_id, message_id.upper()):
        audited = await api.get("/api/v1/audit", params={"message": typed})
        assert audited.status_code == 200, audited.text
