"""``INTEGRATOR_REASON_REQUIRED``: where an organisation asks every view of patient data and
every export to say why (docs/product.md §8), the API refuses one without the
``X-Integrator-Reason`` header with a 422 naming it, before anything is shown or recorded;
what shows no patient data needs none, and the header is taken as the why."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from tests.http.support import api_client
from tests.integrator.support import destination, engine_on_destinations, settings_for

REASON = "X-Integrator-Reason"
BSN = "999990019"  # the sample referral's patient


@pytest.fixture
async def engine(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    config = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
    settings = settings_for(tmp_path, reason_required=True)
    async with engine_on_destinations(settings, config) as started:
        yield started


async def test_a_view_or_export_without_a_reason_is_refused_naming_the_header(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    event = {**referral_data, "event_id": str(uuid.uuid4())}
    accepted = await engine.intake.submit(json.dumps(event), source="cli")
    assert await engine.wait_settled(timeout=10)
    [message] = accepted.messages
    one = f"/api/v1/messages/{message.message_id}"
    async with api_client(engine) as api:
        before = len(await engine.store.list_audit(limit=1000))
        refused = [
            await api.get(one),
            await api.get(f"/api/v1/events/{accepted.event_id}"),
            await api.post("/api/v1/messages/search", json={"bsn": BSN}),
            await api.get("/api/v1/messages.csv"),
            await api.get("/api/v1/audit.csv"),
        ]
        for answer in refused:
            assert answer.status_code == 422, answer.text
            [error] = answer.json()["detail"]
            assert error["loc"] == ["header", REASON], error
            assert "say why" in error["msg"] and "INTEGRATOR_REASON_REQUIRED" in error["msg"]
            assert BSN not in answer.text and "Berg" not in answer.text
        # Nothing was shown, so nothing was recorded.
        assert len(await engine.store.list_audit(limit=1000)) == before
        # A HEAD answers as its GET would (RFC 9110 §9.3.2), and records nothing either way.
        assert (await api.head(one)).status_code == 422
        assert (await api.head(one, headers={REASON: "storing"})).status_code == 200
        # What shows no patient data needs none: a listing, a search by ZD number.
        for answer in (
            await api.get("/api/v1/messages"),
            await api.post("/api/v1/messages/search", json={"zd_number": "ZD100000001"}),
        ):
            assert answer.status_code == 200, answer.text
        shown = await api.get(one, headers={REASON: "storing onderzoeken"})
        assert shown.status_code == 200, shown.text
    [entry] = [
        e for e in await engine.store.list_audit(limit=1000) if e.action == "patient_data.view"
    ]
    assert (entry.target, entry.reason) == (message.message_id, "storing onderzoeken")
