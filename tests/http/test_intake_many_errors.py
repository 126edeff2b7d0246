"""A body of very many broken rules, over the real app: the 422 answer, the engine's log line and
the reason kept with the rejected input name at most 100 of them, then how many more there are;
and a list of a million wrong items is one error (the audit's body took a minute, its answer a
million errors)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from structlog.testing import capture_logs

from integrator.engine import Engine
from schemas.rules import MAX_LISTED

EVENTS = "/api/v1/events"


async def test_an_answer_of_many_errors_names_100_and_how_many_more(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    # Each question: a title that is no string, no `required`, no `answer_type`: 900 errors.
    referral_data["questions"] = [{"title": 1}] * 300
    with capture_logs() as logs:
        answer = await api.post(EVENTS, json=referral_data)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert len(errors) == MAX_LISTED + 1
    assert errors[-1] == {
        "path": "$",
        "rule": "more_errors",
        "message": "… and 800 more, not listed (an answer names at most 100)",
    }
    [line] = [e for e in logs if e["event"] == "event rejected"]
    assert line["errors"] == MAX_LISTED + 1 and len(line["fields"]) == MAX_LISTED + 1
    [summary] = await engine.store.list_rejected(limit=10)
    record = await engine.store.get_rejected(summary.id)
    assert record is not None and [dict(r) for r in record.reason] == errors


async def test_a_million_wrong_items_are_one_error(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    referral_data["icpc"] = [1] * 1_000_000
    body = json.dumps(referral_data).encode()
    answer = await api.post(EVENTS, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [
        {"path": "icpc", "rule": "too_many_items", "message": "must contain at most 100 item(s)"}
    ]
