"""A ``provider.id`` that holds a BSN is refused at intake (docs/product.md §2): upstream wrote
the patient's number where the provider's id belongs. Accepted, it was stored unrouted and
shown as the provider in every events listing and CSV, to roles that read no patient data (a
security review: a viewer's token read it). It is kept as rejected input, its provider not
kept as a search key, and never echoed."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
import pytest

from integrator.engine import Engine
from tests.http.conftest import BSN


@pytest.mark.parametrize("typed", [BSN, "999 990 019", "patient 999.990.019"])
async def test_a_bsn_as_provider_id_is_refused_and_kept_without_it(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any], typed: str
) -> None:
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    event["provider"]["id"] = typed
    answer = await api.post("/api/v1/events", json=event)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"] if "errors" in answer.json() else answer.json()["detail"]
    assert (error["path"], error["rule"]) == ("provider.id", "provider_id_holds_bsn")
    assert "990" not in answer.text
    assert await engine.store.list_events() == []
    [kept] = await engine.store.list_rejected()
    assert kept.provider_id is None and kept.zd_number == event["zd_number"]


async def test_a_provider_id_with_digits_that_are_no_bsn_is_taken(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    event["provider"]["id"] = "lab-123456789"  # nine digits failing the eleven-test
    answer = await api.post("/api/v1/events", json=event)
    assert answer.status_code == 202, answer.text
