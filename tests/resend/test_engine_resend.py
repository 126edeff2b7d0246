"""Resends through the running engine: real MLLP receivers, the normal delivery path."""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import hl7
import httpx
import pytest
from structlog.testing import capture_logs

import integrator.engine
from deadletter import ResendRequest
from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.http import create_app
from integrator.refusal import code_of
from integrator.resending import resend_in_engine, resend_in_store
from integrator.store import RESEND_ACTION, MessageRecord, Store
from tests.http.support import bearer, token_for
from tests.integrator.support import RecordingTransport, destination, settings_for
from tests.services import free_port

TODAY = date(2026, 11, 27)
BSN = "999990019"  # the sample referral's patient


async def start_engine(tmp_path: Path, *configs: Any, clock: ManualClock | None = None) -> Engine:
    today = clock.now().date() if clock else TODAY
    catalog = build_catalog(((f"{c.id}.yaml", c) for c in configs), today=today)
    engine = Engine(settings_for(tmp_path), catalog=catalog, clock=clock)
    await engine.start()
    return engine


async def delivered_referral(engine: Engine, referral: dict[str, Any]) -> MessageRecord:
    result = await engine.intake.submit(json.dumps(referral), source="cli")
    assert await engine.wait_settled(timeout=10)
    message = await engine.store.get_message(result.messages[0].message_id)
    assert message is not None and message.status == "delivered"
    return message


def msh(payload: bytes, field: int) -> str:
    return str(hl7.parse(payload.decode("utf-8")).segment("MSH")[field])


async def test_original_keeps_bytes_and_msh10_remap_gets_new_ones(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    )
    try:
        original = await delivered_referral(engine, referral_data)
        request = ResendRequest(reason="GP called: not arrived", actor="anna")
        [same] = await resend_in_engine(engine, [original], request)
        remap_request = ResendRequest(reason="GP called again", actor="anna", mode="remap")
        [remapped] = await resend_in_engine(engine, [original], remap_request)
        assert await engine.wait_settled(timeout=10)
        assert same.message is not None and remapped.message is not None
        assert receiver.received[1] == original.payload  # byte for byte, same MSH-10
        third = receiver.received[2]
        assert msh(third, 10) == remapped.message.control_id != original.control_id
        assert remapped.message.version == "ref-v2"
        for result in (same, remapped):
            assert result.message is not None
            stored = await engine.store.get_message(result.message.id)
            assert stored is not None and stored.status == "delivered"
            assert stored.resend_of == original.id
        kept = await engine.store.get_message(original.id)
        assert kept is not None and kept.status == "delivered" and kept.attempt_count == 1
        audit = await engine.store.list_audit(target=original.id)
        assert [(a.action, a.actor) for a in audit] == [(RESEND_ACTION, "anna")] * 2
        assert {a.reason for a in audit} == {"GP called: not arrived", "GP called again"}
    finally:
        await engine.stop()


async def test_resend_to_another_destination_is_remapped_for_it(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver() as noord, MllpReceiver() as zuid:
        engine = await start_engine(
            tmp_path,
            destination("ziekenhuis-noord", noord.port, providers=["ziekenhuis-noord"]),
            destination("ziekenhuis-zuid", zuid.port, providers=["ziekenhuis-zuid"]),
        )
        try:
            original = await delivered_referral(engine, referral_data)
            request = ResendRequest(reason="patient moved", actor="anna", to="ziekenhuis-zuid")
            [result] = await resend_in_engine(engine, [original], request)
            assert await engine.wait_settled(timeout=10)
            assert result.mode == "remap"
            [got] = zuid.received
            assert msh(got, 6) == "ZIEKENHUIS"  # receiving facility of ziekenhuis-zuid
            assert msh(got, 10) != original.control_id
            assert len(noord.received) == 1
        finally:
            await engine.stop()


async def test_a_resend_to_a_paused_destination_says_it_waits_for_the_resume(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """A resend there answered a plain "resent": support told the GP it had gone out while it
    waited behind the pause. Through the engine and into the store (no engine), dry run too;
    one to a destination in service says nothing of the kind."""
    paused = destination("ziekenhuis-zuid", free_port(), providers=["zuid"], enabled=False)
    noord = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    engine = await start_engine(tmp_path, noord, paused)
    try:
        original = await delivered_referral(engine, referral_data)
        to_paused = ResendRequest(reason="patient moved", actor="anna", to="ziekenhuis-zuid")
        [dry] = await resend_in_engine(engine, [original], to_paused, dry_run=True)
        [made] = await resend_in_engine(engine, [original], to_paused)
        [plain] = await resend_in_engine(
            engine, [original], ResendRequest(reason="GP called", actor="anna")
        )
    finally:
        await engine.stop()
    said = "ziekenhuis-zuid is paused: the resent message waits and is sent when the "
    assert made.resent and made.note is not None and made.note.startswith(said), made.note
    assert made.to_json()["note"] == made.note
    assert code_of(made.note) == ("delivery.paused.resend", {"destination": "ziekenhuis-zuid"})
    assert not dry.resent and dry.goes_out and dry.note == made.note
    assert plain.resent and plain.note is None

    settings = settings_for(tmp_path)  # no engine runs now: the destinations are files
    settings.destinations_dir.mkdir(parents=True, exist_ok=True)
    for config in (noord, paused):
        (settings.destinations_dir / f"{config.id}.yaml").write_text(
            dump_destination(config), encoding="utf-8"
        )
    async with await Store.open(settings.database_url) as store:
        [stored] = await resend_in_store(settings, store, [original], to_paused, dry_run=True)
    assert stored.goes_out and stored.note == made.note


async def test_resend_while_destination_is_down_queues_retries_then_delivers(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    # Below the ephemeral range (``free_port``): the receiver comes back on this port later,
    # and one the kernel handed out could meanwhile be some connection's source port.
    receiver = MllpReceiver(port=free_port())
    port = await receiver.start()
    retry = {
        "initial": "50ms",
        "multiplier": 2,
        "max_delay": "100ms",
        "max_attempts": 200,
        "max_age": "1h",
    }
    engine = await start_engine(
        tmp_path,
        destination("ziekenhuis-noord", port, providers=["ziekenhuis-noord"], retry=retry),
    )
    try:
        original = await delivered_referral(engine, referral_data)
        await receiver.stop()  # the hospital goes down
        [result] = await resend_in_engine(
            engine, [original], ResendRequest(reason="not arrived", actor="anna")
        )
        assert result.message is not None
        resent_id = result.message.id
        for _ in range(100):
            stored = await engine.store.get_message(resent_id)
            assert stored is not None
            if stored.attempt_count >= 2:
                break
            await asyncio.sleep(0.05)
        assert stored is not None
        assert stored.status in ("retrying", "sending", "queued") and stored.attempt_count >= 2
        back = MllpReceiver(port=port)  # it comes back on the same port
        await back.start()
        try:
            assert await engine.wait_settled(timeout=10)
            final = await engine.store.get_message(resent_id)
            assert final is not None and final.status == "delivered"
            assert back.received == [original.payload]
        finally:
            await back.stop()
    finally:
        await engine.stop()


async def test_retired_version_original_works_remap_goes_to_successor(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(datetime(2027, 6, 30, 12, 0, tzinfo=UTC))  # ref-v1 sunset 2027-07-01
    engine = await start_engine(
        tmp_path,
        destination(
            "ziekenhuis-noord",
            receiver.port,
            providers=["ziekenhuis-noord"],
            messages={"referral": "ref-v1"},
            auto_upgrade=True,  # without it a remap is not resent: test_remap_held_version.py
        ),
        clock=clock,
    )
    try:
        original = await delivered_referral(engine, referral_data)
        assert original.version == "ref-v1"
        clock.set(datetime(2027, 7, 2, 9, 0, tzinfo=UTC))  # ref-v1 retired now
        [same] = await resend_in_engine(
            engine, [original], ResendRequest(reason="again", actor="anna", mode="original")
        )
        [remapped] = await resend_in_engine(
            engine, [original], ResendRequest(reason="again", actor="anna", mode="remap")
        )
        assert await engine.wait_settled(timeout=10)
        assert same.message is not None and same.message.version == "ref-v1"
        assert receiver.received[1] == original.payload
        assert remapped.message is not None and remapped.message.version == "ref-v2"
        assert msh(receiver.received[2], 12) == "2.5.1"
        assert any("successor" in w and "(auto_upgrade)" in w for w in remapped.message.warnings)
    finally:
        await engine.stop()


async def test_http_search_by_bsn_in_the_body_and_resend_jobs(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    )
    app = create_app(engine)
    urls: list[str] = []

    async def remember(request: httpx.Request) -> None:
        urls.append(str(request.url))

    anna = await token_for(engine, name="anna")
    bart = await token_for(engine, name="bart")
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://engine",
        event_hooks={"request": [remember]},
        headers=bearer(anna),
    )
    try:
        with capture_logs() as logs:
            original = await delivered_referral(engine, referral_data)
            other = copy.deepcopy(referral_data)
            other["event_id"] = str(uuid.uuid4())
            other["patient"]["bsn"] = "999990020"
            other["zd_number"] = "ZD100000002"
            await engine.intake.submit(json.dumps(other), source="cli")
            found = await client.post("/api/v1/messages/search", json={"bsn": BSN})
            assert found.status_code == 200
            assert [m["id"] for m in found.json()] == [original.id]
            bad = await client.post("/api/v1/messages/search", json={"bsn": "12"})
            assert bad.status_code == 422 and "9 digits" in bad.json()["detail"]

            one = await client.post(
                f"/api/v1/messages/{original.id}/resend",
                json={"reason": "GP called", "mode": "remap"},
            )
            assert one.status_code == 201, one.text
            assert one.json()["mode"] == "remap"
            missing = await client.post("/api/v1/messages/nope/resend", json={"reason": "x"})
            assert missing.status_code == 404
            no_reason = await client.post(
                f"/api/v1/messages/{original.id}/resend", json={"reason": " "}
            )
            assert no_reason.status_code == 422

            dry = await client.post(
                "/api/v1/resend",
                json={"reason": "r", "filter": {"zd_number": "ZD100000001"}, "dry_run": True},
            )
            assert dry.json()["total"] == 1
            started = await client.post(
                "/api/v1/resend",
                json={
                    "reason": "batch",
                    "message_ids": [original.id],  # named: resent although resent before
                    "filter": {"destination": "ziekenhuis-noord"},
                },
                headers=bearer(bart),
            )
            assert started.status_code == 202
            job = started.json()
            while job["state"] == "running":
                await asyncio.sleep(0.02)
                job = (await client.get(f"/api/v1/jobs/{job['id']}")).json()
            assert job["state"] == "done" and job["done"] == job["total"] == 2
            assert all(r["resent"] for r in job["results"])
            assert await engine.wait_settled(timeout=10)

            detail = (await client.get(f"/api/v1/messages/{original.id}")).json()
            assert detail["event"]["patient_bsn"] == BSN
            assert len(detail["resends"]) == 2
            assert {r["actor"] for r in detail["resends"]} == {"token:anna", "token:bart"}
            child = await client.get(f"/api/v1/messages/{detail['resends'][0]['message_id']}")
            assert child.json()["resent_from"]["original_id"] == original.id
        assert all(BSN not in url for url in urls)
        assert BSN not in repr(logs)
        assert "Berg" not in repr(logs)
    finally:
        await client.aclose()
        await engine.stop()


async def test_each_chunk_is_published_right_after_its_commit(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine killed mid-job must leave at most one chunk stored and not published: each
    chunk goes to the transport before the next one is committed (``progress`` is called after
    each chunk's commit and publish, before the next chunk is planned)."""
    events: list[tuple[str, int]] = []
    # The module (``deadletter.resend`` the attribute is the function of that name).
    monkeypatch.setattr(importlib.import_module("deadletter.resend"), "CHUNK", 2)
    monkeypatch.setattr(
        integrator.engine, "create_transport", lambda _s: RecordingTransport(events)
    )
    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    )
    try:
        original = await delivered_referral(engine, referral_data)
        events.clear()
        results = await resend_in_engine(
            engine,
            [original] * 5,
            ResendRequest(reason="GP called", actor="anna"),
            progress=lambda done, _total: events.append(("committed", done)),
        )
        assert all(r.resent and r.note is None for r in results)
        assert events == [
            ("published", 2),
            ("committed", 2),
            ("published", 2),
            ("committed", 4),
            ("published", 1),
            ("committed", 5),
        ]
        assert await engine.wait_settled(timeout=10)
        assert len(receiver.received) == 6
    finally:
        await engine.stop()
