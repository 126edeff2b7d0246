"""The engine end to end on the embedded default: events in, HL7 over real MLLP sockets out."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import hl7
import pytest

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.store import MessageFilter, Store
from tests.integrator.support import destination, settings_for

TODAY = date(2026, 11, 27)


async def start_engine(tmp_path: Path, *configs: Any) -> Engine:
    catalog = build_catalog(((f"{c.id}.yaml", c) for c in configs), today=TODAY)
    engine = Engine(settings_for(tmp_path), catalog=catalog)
    await engine.start()
    return engine


async def test_referral_is_delivered_and_acknowledged(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    )
    try:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        [routed] = result.messages
        message = await engine.store.get_message(routed.message_id)
        assert message is not None
        assert message.status == "delivered"
        assert message.message_type == "REF^I12^REF_I12"
        assert receiver.received == [message.payload]
        parsed = hl7.parse(message.payload.decode("utf-8"))
        assert str(parsed.segment("MSH")[10]) == routed.control_id
        assert str(parsed.segment("RF1")[6][0][0]) == "ZD100000001"
        [attempt] = await engine.store.list_attempts(routed.message_id)
        assert attempt.outcome == "delivered"
        assert attempt.ack_code == "AA"
        assert attempt.ack_bytes is not None and routed.control_id.encode() in attempt.ack_bytes
    finally:
        await engine.stop()


async def test_both_event_types_reach_their_own_destination(
    tmp_path: Path,
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
) -> None:
    hospital, lab = MllpReceiver(), MllpReceiver()
    await hospital.start()
    await lab.start()
    engine = await start_engine(
        tmp_path,
        destination("ziekenhuis-noord", hospital.port, providers=["ziekenhuis-noord"]),
        destination("lab-west", lab.port, providers=["lab-west"]),
    )
    try:
        results = await engine.intake.submit_many(
            [json.dumps(referral_data), json.dumps(diagnostic_request_data)], source="cli"
        )
        assert not any(isinstance(r, InvalidEvent) for r in results)
        assert await engine.wait_settled(timeout=10)
        assert len(hospital.received) == 1 and hospital.received[0].startswith(b"MSH|")
        assert b"REF^I12" in hospital.received[0].split(b"\r", 1)[0]
        assert len(lab.received) == 1
        assert b"ORM^O01" in lab.received[0].split(b"\r", 1)[0]
    finally:
        await engine.stop()
        await hospital.stop()
        await lab.stop()


async def test_same_event_id_twice_is_accepted_once(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    )
    try:
        first = await engine.intake.submit(json.dumps(referral_data), source="cli")
        second = await engine.intake.submit(json.dumps(referral_data), source="http")
        assert await engine.wait_settled(timeout=10)
        assert not first.duplicate and second.duplicate
        assert [m.message_id for m in second.messages] == [m.message_id for m in first.messages]
        assert len(receiver.received) == 1
        messages = await engine.store.list_messages(MessageFilter(event_id=first.event_id))
        assert len(messages) == 1
        assert len(second.warnings) == 1  # the same content: only "accepted once already"
    finally:
        await engine.stop()


async def test_a_duplicate_with_other_content_says_which_fields_were_not_taken(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """The same event_id with a corrected name: still accepted once, but the answer names the
    fields that differ (never their values), so the change is not dropped without a word."""
    from structlog.testing import capture_logs

    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    )
    changed = copy.deepcopy(referral_data)
    old_family = changed["patient"]["name"]["family"]
    changed["patient"]["name"]["family"] = old_family + "-Jansen"
    try:
        first = await engine.intake.submit(json.dumps(referral_data), source="cli")
        with capture_logs() as logs:
            second = await engine.intake.submit(json.dumps(changed), source="http")
        assert await engine.wait_settled(timeout=10)
        stored = await engine.store.get_event(first.event_id)
        # Kept for support too: over RabbitMQ nobody reads the answer's warning.
        [kept] = await engine.store.list_rejected()
        kept_body = await engine.store.get_rejected(kept.id)
    finally:
        await engine.stop()
    assert kept.reason == [
        {
            "path": "patient.name.family",
            "rule": "changed_duplicate",
            "message": "names an event accepted before, with other content; the change was "
            "not taken",
        }
    ]
    assert kept.zd_number == first.zd_number and kept.source == "http"
    assert kept_body is not None and kept_body.raw == json.dumps(changed).encode()
    assert second.duplicate and len(receiver.received) == 1
    assert second.zd_number == first.zd_number  # the stored event's keys, whatever the copy's
    assert stored is not None and isinstance(stored.payload, dict)
    assert stored.payload["patient"]["name"]["family"] == old_family
    [note] = [w for w in second.warnings if "differs" in w]
    assert "patient.name.family" in note and "not taken" in note
    assert f"kept as rejected input {kept.id}" in note
    assert old_family not in note and "Jansen" not in note
    [line] = [e for e in logs if e["event"] == "duplicate event differs from the one accepted"]
    assert line["log_level"] == "warning" and line["fields"] == 1
    assert "Jansen" not in str(logs)


async def test_bad_input_is_refused_kept_and_writes_nothing_else(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    )
    bad = copy.deepcopy(referral_data)
    bad["patient"]["bsn"] = "123456789"  # fails the eleven-test
    raw = json.dumps(bad).encode()
    try:
        with pytest.raises(InvalidEvent) as caught:
            await engine.intake.submit(raw, source="http")
        assert [(e.path, e.rule) for e in caught.value.errors] == [
            ("patient.bsn", "bsn_eleven_test")
        ]
        assert "123456789" not in str(caught.value)
        [listed] = await engine.store.list_rejected()
        rejected = await engine.store.get_rejected(listed.id)
        assert rejected is not None and rejected.raw == raw and listed.size == len(raw)
        assert await engine.store.get_event(bad["event_id"]) is None
        assert await engine.store.list_messages() == []
        # A good event in the same batch still goes through.
        good = await engine.intake.submit_many([raw, json.dumps(referral_data)], source="cli")
        assert isinstance(good[0], InvalidEvent) and not isinstance(good[1], InvalidEvent)
        assert await engine.wait_settled(timeout=10)
        assert len(receiver.received) == 1
    finally:
        await engine.stop()


async def test_unreachable_destination_retries_then_delivers_with_same_control_id(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    late = MllpReceiver()
    port = await late.start()
    await late.stop()  # nothing listens on the port for now
    engine = await start_engine(
        tmp_path,
        destination(
            "ziekenhuis-noord",
            port,
            providers=["ziekenhuis-noord"],
            retry={
                "initial": "100ms",
                "multiplier": 1,
                "max_delay": "100ms",
                "max_attempts": 100,
                "max_age": "1h",
            },
        ),
    )
    try:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        [routed] = result.messages
        for _ in range(100):
            await engine.drain()
            message = await engine.store.get_message(routed.message_id)
            assert message is not None
            if message.attempt_count >= 2:
                break
            import asyncio

            await asyncio.sleep(0.05)
        assert message is not None
        assert message.status == "retrying"
        revived = MllpReceiver(port=port)
        await revived.start()
        try:
            assert await engine.wait_settled(timeout=10)
            message = await engine.store.get_message(routed.message_id)
            assert message is not None and message.status == "delivered"
            attempts = await engine.store.list_attempts(routed.message_id)
            assert [a.outcome for a in attempts[:-1]] == ["failed"] * (len(attempts) - 1)
            assert attempts[-1].outcome == "delivered"
            assert all(a.error and "ConnectFailed" in a.error for a in attempts[:-1])
            assert len(revived.received) == 1
            assert routed.control_id.encode() in revived.received[0]
        finally:
            await revived.stop()
    finally:
        await engine.stop()


async def test_negative_ack_dead_letters_with_the_reason(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    rejecting = MllpReceiver(ack_code="AR")
    await rejecting.start()
    engine = await start_engine(
        tmp_path, destination("ziekenhuis-noord", rejecting.port, providers=["ziekenhuis-noord"])
    )
    try:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        message = await engine.store.get_message(result.messages[0].message_id)
        assert message is not None and message.status == "dead"
        assert message.last_error is not None and "AR" in message.last_error
    finally:
        await engine.stop()
        await rejecting.stop()


async def test_restart_resumes_messages_accepted_while_no_engine_ran(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    from integrator.submit import submit_to_store

    settings = settings_for(tmp_path)
    dest_dir = settings.destinations_dir
    dest_dir.mkdir()
    from destinations.config import dump_destination

    config = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    (dest_dir / "ziekenhuis-noord.yaml").write_text(dump_destination(config), encoding="utf-8")
    made = await Store.open(settings.database_url)  # as the engine's first start made it
    await made.close()
    [outcome] = await submit_to_store(
        settings, [("referral.json", json.dumps(referral_data).encode())], caller="local:test"
    )
    assert outcome.accepted is not None
    assert receiver.received == []
    engine = Engine(settings)
    await engine.start()
    try:
        assert await engine.wait_settled(timeout=10)
        assert len(receiver.received) == 1
        [message] = await engine.store.list_messages()
        assert message.status == "delivered"
        assert message.control_id == outcome.accepted["messages"][0]["control_id"]
    finally:
        await engine.stop()
