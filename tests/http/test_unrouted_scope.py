"""Unrouted events lie in no cluster: a caller held to some clusters is refused (403) when it
asks for them, by listing, searching or exporting, instead of answered an empty list that reads
as "none waiting"; a caller with all clusters gets them."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store.records import AuditFilter
from tests.http.support import api_client, token_for

REFUSED = (
    "unrouted: unrouted events lie in no cluster; listing them needs the {permission} "
    "permission for all clusters"
)


async def test_a_cluster_held_caller_is_refused_unrouted_events_and_nothing_is_exported(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    card = await token_for(
        engine, Grant(Role.RESEND, "CARD"), Grant(Role.REPORTS, "CARD"), name="card"
    )
    async with api_client(engine) as everything, api_client(engine, card) as held:
        data = copy.deepcopy(referral_data)
        data["event_id"] = str(uuid.uuid4())
        data["provider"]["id"] = "ziekenhuis-zuid"  # served by no destination: unrouted
        assert (await engine.intake.submit(json.dumps(data), source="http")).messages == ()
        listed = await everything.get("/api/v1/events", params={"unrouted": "true"})
        assert listed.status_code == 200 and len(listed.json()) == 1

        for answer, permission in (
            (await held.get("/api/v1/events", params={"unrouted": "true"}), "messages.read"),
            (
                await held.post("/api/v1/events/search", json={"unrouted": True}),
                "patient_data.read",
            ),
            (await held.get("/api/v1/events.csv", params={"unrouted": "true"}), "reports.export"),
        ):
            assert answer.status_code == 403, answer.text
            assert answer.json()["detail"] == REFUSED.format(permission=permission)
        # Routed events of its own cluster are still listed to it.
        assert (await held.get("/api/v1/events")).status_code == 200
        entries = await engine.store.list_audit(AuditFilter(action="events.export"))
        assert entries == []


@pytest.mark.parametrize("unrouted", ["false", None])
async def test_the_refusal_is_for_unrouted_only(engine: Engine, unrouted: str | None) -> None:
    card = await token_for(engine, Grant(Role.VIEWER, "CARD"), name="card")
    async with api_client(engine, card) as held:
        params = {} if unrouted is None else {"unrouted": unrouted}
        assert (await held.get("/api/v1/events", params=params)).status_code == 200
