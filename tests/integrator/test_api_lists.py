"""GET /api/v1/deadletters and /api/v1/audit (product.md §7), against a real engine and receiver."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for


async def test_dead_letters_and_audit_are_listed(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    rejecting = MllpReceiver(ack_code="AR")
    await rejecting.start()
    config = destination("noord", rejecting.port, providers=["ziekenhuis-noord"])
    engine = Engine(
        settings_for(tmp_path),
        catalog=build_catalog([("noord.yaml", config)], today=date(2026, 11, 27)),
    )
    await engine.start()
    try:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        async with api_client(engine) as api:  # its token is made (and audited) first
            await engine.store.add_audit(
                "anna", "deadletter.look", result.messages[0].message_id, reason="GP called"
            )
            letters = (await api.get("/api/v1/deadletters")).json()
            assert [(d["id"], d["last_ack_code"]) for d in letters] == [
                (result.messages[0].message_id, "AR")
            ]
            assert (await api.get("/api/v1/deadletters?destination=noord")).json() == letters
            audit = (await api.get("/api/v1/audit")).json()
            assert audit[0]["actor"] == "anna" and audit[0]["reason"] == "GP called"
            # The export says how many match in all, beyond its limit, as the others do.
            entries = len(await engine.store.list_audit(limit=1000))
            assert entries >= 2
            one = await api.get("/api/v1/audit.csv", params={"limit": 1})
            assert len(one.text.splitlines()) == 2  # the header and one entry
            assert one.headers["x-total-count"] == str(entries)
            assert (await api.get("/api/v1/audit?limit=0")).status_code == 422
    finally:
        await engine.stop()
        await rejecting.stop()


async def test_a_destination_nobody_has_is_a_422_not_an_empty_list(tmp_path: Path) -> None:
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    engine = Engine(
        settings_for(tmp_path),
        catalog=build_catalog([("noord.yaml", config)], today=date(2026, 11, 27)),
    )
    await engine.start()
    try:
        async with api_client(engine) as api:
            assert (await api.get("/api/v1/messages", params={"destination": "noord"})).json() == []
            for answer in (
                await api.get("/api/v1/messages", params={"destination": "nosuch"}),
                await api.post("/api/v1/messages/search", json={"destination": "nosuch"}),
                await api.get("/api/v1/messages.csv", params={"destination": "nosuch"}),
                await api.get("/api/v1/deadletters", params={"destination": "nosuch"}),
                await api.get("/api/v1/deadletters", params={"destination": "nosuch", "all": True}),
                await api.post(
                    "/api/v1/resend",
                    json={"reason": "x", "filter": {"destination": "nosuch"}, "dry_run": True},
                ),
            ):
                assert answer.status_code == 422, answer.text
                detail = answer.json()["detail"]
                assert "destination: no destination has that id" in detail
                assert "configured: noord" in detail
            # A refused export is not one: nothing was recorded as exported.
            assert not [e for e in await engine.store.list_audit() if e.action == "messages.export"]
            exported = await api.get("/api/v1/messages.csv", params={"destination": "noord"})
            assert exported.status_code == 200 and len(exported.text.splitlines()) == 1
            assert exported.headers["x-total-count"] == "0"  # how many match, beyond limit
            none_yet = await api.get("/api/v1/deadletters", params={"destination": "noord"})
            assert none_yet.json() == []
    finally:
        await engine.stop()


async def test_a_malformed_zd_number_is_a_422_not_an_empty_list(tmp_path: Path) -> None:
    engine = Engine(settings_for(tmp_path), catalog=build_catalog([], today=date(2026, 11, 27)))
    await engine.start()
    try:
        async with api_client(engine) as api:
            assert (
                await api.get("/api/v1/messages", params={"zd_number": "zd100000001"})
            ).json() == []
            for answer in (
                await api.get("/api/v1/messages", params={"zd_number": "ZD12"}),
                await api.post("/api/v1/messages/search", json={"zd_number": "ZD12"}),
                await api.get("/api/v1/messages.csv", params={"zd_number": "ZD12"}),
                await api.get("/api/v1/events", params={"zd_number": "ZD12"}),
                await api.post("/api/v1/events/search", json={"zd_number": "ZD12"}),
            ):
                assert answer.status_code == 422, answer.text
                assert "zd_number: a ZD number is ZD and 9 digits" in answer.json()["detail"]
                assert "ZD12" not in answer.text
    finally:
        await engine.stop()
