"""A pruned event in the running engine: shown as pruned, and never mapped again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deadletter.resend import ResendRequest
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.events_routing import RouteRequest, event_detail, route_in_engine
from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import Retention
from integrator.resending import resend_in_engine
from tests.integrator.support import destination, settings_for

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def test_a_pruned_event_is_not_routed_to_a_new_destination(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    receiver = MllpReceiver()
    await receiver.start()
    noord = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    clock = ManualClock(NOW)
    engine = Engine(
        settings_for(tmp_path),
        catalog=build_catalog([("ziekenhuis-noord.yaml", noord)], today=NOW.date()),
        clock=clock,
    )
    await engine.start()
    try:
        submitted = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        clock.advance(timedelta(days=91))
        report = await prune(engine.store, Retention(), now=clock.now(), actor="local:tester")
        assert report.counts["events"] == 1

        detail = await event_detail(engine.store, submitted.event_id)
        assert detail is not None and detail["pruned_at"] is not None
        assert detail["patient_bsn"] is None and detail["zd_number"] == "ZD100000001"

        zuid = destination("ziekenhuis-zuid", receiver.port, providers=["ziekenhuis-noord"])
        await engine.apply_catalog(
            build_catalog(
                [("ziekenhuis-noord.yaml", noord), ("ziekenhuis-zuid.yaml", zuid)],
                today=clock.now().date(),
            )
        )
        request = RouteRequest(
            reason="zuid connected", actor="anna", event_ids=(submitted.event_id,)
        ).checked(engine.settings)
        [result] = await route_in_engine(engine, [submitted.event_id], request)
        assert not result.routed and not result.messages
        assert any("pruned on 2027-02-26" in note for note in result.notes)
    finally:
        await engine.stop()
        await receiver.stop()


async def test_the_day_a_prune_is_said_to_have_happened_is_the_local_one(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    # The daily prune ran at 00:30 in Amsterdam (23:30 UTC): before, routing and resending
    # said it was pruned the day before, where `messages show` gives the local time.
    late = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    receiver = MllpReceiver()
    await receiver.start()
    noord = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    clock = ManualClock(late)
    settings = settings_for(tmp_path)
    assert settings.timezone == "Europe/Amsterdam"
    engine = Engine(
        settings,
        catalog=build_catalog([("ziekenhuis-noord.yaml", noord)], today=late.date()),
        clock=clock,
    )
    await engine.start()
    try:
        submitted = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        clock.advance(timedelta(days=91))  # 2027-02-26T23:30Z: 00:30 on the 27th in Amsterdam
        await prune(engine.store, Retention(), now=clock.now(), actor="local:tester")

        routing = RouteRequest(
            reason="again", actor="anna", event_ids=(submitted.event_id,)
        ).checked(settings)
        [routed] = await route_in_engine(engine, [submitted.event_id], routing)
        assert any("pruned on 2027-02-27" in note for note in routed.notes), routed.notes

        message = await engine.store.get_message(submitted.messages[0].message_id)
        assert message is not None
        ask = ResendRequest(reason="GP called", actor="anna")
        [result] = await resend_in_engine(engine, [message], ask)
        assert result.note is not None and "pruned on 2027-02-27" in result.note, result
    finally:
        await engine.stop()
        await receiver.stop()
