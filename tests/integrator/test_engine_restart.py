"""A backlog comes back into the engine, at a restart or when a paused destination resumes:
every pending message is delivered, in order, and the payloads are loaded a window at a time,
never all at once."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hl7
import pytest

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.catalog import Catalog, build_catalog
from integrator.delivery import retry_policy
from integrator.engine import Engine
from integrator.intake import IntakeResult
from integrator.settings import Settings
from integrator.store import MessageRecord, Store
from integrator.submit import submit_to_store
from integrator.transport import embedded
from tests.integrator.support import destination, settings_for
from tests.services import free_port
from tests.transport.helpers import eventually

WINDOW = 4
BACKLOG = 23  # several windows, the last one not full
LEAST_BACKOFF = timedelta(seconds=0.8)  # a 1 s backoff less its jitter (0.2)


@dataclass
class Site:
    settings: Settings
    receiver: MllpReceiver
    # What the store hands out with payloads, per call: the peak the engine holds at once.
    loaded: list[int] = field(default_factory=list)


@pytest.fixture
async def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Site]:
    """One destination with a receiver, a window of 4, and every payload load counted."""
    settings = settings_for(tmp_path)
    receiver = MllpReceiver()
    await receiver.start()
    settings.destinations_dir.mkdir()
    config = destination("ziekenhuis-noord", receiver.port, providers=["ziekenhuis-noord"])
    (settings.destinations_dir / "ziekenhuis-noord.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    site = Site(settings, receiver)
    real_pending_messages = Store.pending_messages

    async def counted(self: Store, *args: Any, **kwargs: Any) -> Sequence[MessageRecord]:
        found = await real_pending_messages(self, *args, **kwargs)
        site.loaded.append(len(found))
        return found

    monkeypatch.setattr(Store, "pending_messages", counted)
    monkeypatch.setattr(embedded, "WINDOW", WINDOW)
    try:
        yield site
    finally:
        await receiver.stop()


def _events(referral_data: dict[str, Any]) -> list[bytes]:
    events = []
    for _ in range(BACKLOG):
        event = copy.deepcopy(referral_data)
        event["event_id"] = str(uuid.uuid4())
        events.append(json.dumps(event).encode())
    return events


def _control_id(payload: bytes) -> str:
    return str(hl7.parse(payload.decode("utf-8")).segment("MSH")[10])


async def _delivered_once_in_order(engine: Engine, site: Site) -> None:
    assert await engine.wait_settled(timeout=30)
    stored = sorted(await engine.store.list_messages(limit=BACKLOG + 1), key=lambda m: m.seq)
    assert len(stored) == BACKLOG
    assert all(m.status == "delivered" for m in stored)
    # Each exactly once, oldest first.
    assert [_control_id(p) for p in site.receiver.received] == [m.control_id for m in stored]


async def test_a_restart_delivers_a_backlog_in_order_loading_a_window_at_a_time(
    site: Site, referral_data: dict[str, Any]
) -> None:
    inputs = [(f"referral-{n}.json", raw) for n, raw in enumerate(_events(referral_data))]
    # accepted while no engine ran, into the store an engine made at its first start
    made = await Store.open(site.settings.database_url)
    await made.close()
    outcomes = await submit_to_store(site.settings, inputs, caller="local:test")
    assert all(outcome.accepted is not None for outcome in outcomes)
    site.loaded.clear()

    engine = Engine(site.settings)
    await engine.start()
    try:
        await _delivered_once_in_order(engine, site)
    finally:
        await engine.stop()
    assert sum(site.loaded) == BACKLOG
    assert max(site.loaded) <= WINDOW


async def test_resuming_a_paused_destination_loads_its_backlog_a_window_at_a_time(
    site: Site, referral_data: dict[str, Any]
) -> None:
    """Resuming queues the store's pending messages by reference too: the destination may owe
    100,000 of them after a weekend, and their payloads belong in the store until sent."""
    engine = Engine(site.settings)
    await engine.start()
    try:
        await engine.admin.set_enabled("ziekenhuis-noord", False, actor="anna", reason="weekend")
        await engine.intake.submit_many(_events(referral_data), source="cli")
        assert site.receiver.received == []
        await engine.admin.set_enabled("ziekenhuis-noord", True, actor="anna")
        await _delivered_once_in_order(engine, site)
    finally:
        await engine.stop()
    assert site.loaded and max(site.loaded) <= WINDOW


@pytest.mark.parametrize("stop", ["engine restart", "pause and resume"])
async def test_a_retry_waiting_when_its_runner_stopped_is_sent_at_its_time_not_before(
    stop: str, tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stopping runner hands its waiting retries back with their time. Behind a full window
    (one message) they are loaded from the store as the queue drains: after an engine restart
    (which queues everything pending from the store by id) or a pause and resume (the same
    transport, the hand-back queued behind the window), each must still wait for its
    next_attempt_at, not go out at once."""
    monkeypatch.setattr(embedded, "WINDOW", 1)
    # Every first attempt fails with an AE, so each message waits in a timer of its own (a
    # receiver that is down would hold them all behind the first: test_rotate_outage.py).
    # Below the ephemeral range (``free_port``): a receiver comes back on this port later.
    failing = MllpReceiver(ack_code="AE", port=free_port())
    port = await failing.start()
    # Long enough that the restart comes well before the retries are due: with 2 s, a loaded
    # machine sometimes made the first message's retry (due 2 s after its first attempt)
    # before the receiver was back, a third attempt where two were asserted.
    backoff = {"initial": "4s", "multiplier": 1, "max_delay": "4s", "max_attempts": 5}
    config = destination(
        "noord", port, providers=["ziekenhuis-noord"], ordering="rotate", retry=backoff
    )
    settings = settings_for(tmp_path)

    def catalog(enabled: bool) -> Catalog:
        defined = config.model_copy(update={"enabled": enabled})
        return build_catalog([("noord.yaml", defined)], today=datetime.now(UTC).date())

    first = Engine(settings, catalog=catalog(True))
    await first.start()
    engines = [first]
    back = MllpReceiver(port=port)
    try:
        accepted = await first.intake.submit_many(_events(referral_data)[:3], source="cli")
        ids = [r.messages[0].message_id for r in accepted if isinstance(r, IntakeResult)]
        assert len(ids) == 3

        async def retrying() -> bool:
            stored = [await first.store.get_message(i) for i in ids]
            return all(m is not None and m.status == "retrying" for m in stored)

        assert await eventually(retrying, timeout=10)
        waiting = [await first.store.get_message(i) for i in ids]
        await failing.stop()
        if stop == "engine restart":
            await first.stop(graceful=True)
            await back.start()
            second = Engine(settings, catalog=catalog(True))
            await second.start()
            engines.append(second)
        else:
            await first.apply_catalog(catalog(False))  # the runner stops, gracefully
            await back.start()
            await first.apply_catalog(catalog(True))
        engine = engines[-1]
        assert await engine.wait_settled(timeout=15), "the retries were not sent"
        for before in waiting:
            assert before is not None and before.next_attempt_at is not None
            attempts = await engine.store.list_attempts(before.id)
            assert [a.number for a in attempts] == [1, 2]
            assert attempts[1].started_at >= before.next_attempt_at  # at its time, not before
        # Each once, with the bytes (and MSH-10) it was first tried with.
        assert sorted(back.received) == sorted(m.payload for m in waiting if m is not None)
    finally:
        for engine in engines:
            await engine.stop()
        await back.stop()
        await failing.stop()


@pytest.mark.parametrize("stop", ["pause and resume", "destination change"])
async def test_a_fifo_retry_waiting_when_its_runner_stopped_keeps_its_place_and_its_time(
    stop: str, tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """In fifo order a retry waiting out its backoff holds the messages behind it. Its runner
    stopping (a pause and resume, a changed definition) must not let them overtake it: it is
    sent first, at its next_attempt_at, and they follow in order."""
    refusing = MllpReceiver(ack_code="AE")  # refuses, for now: every attempt is retried
    port = await refusing.start()
    backoff = {"initial": "1s", "multiplier": 1, "max_delay": "1s", "max_attempts": 5}
    config = destination("noord", port, providers=["ziekenhuis-noord"], retry=backoff)
    assert config.ordering == "fifo"
    assert retry_policy(config).jitter == 0.2  # so each wait is 0.8-1 s (LEAST_BACKOFF)

    def catalog(**changes: Any) -> Catalog:
        defined = config.model_copy(update=changes)
        return build_catalog([("noord.yaml", defined)], today=datetime.now(UTC).date())

    engine = Engine(settings_for(tmp_path), catalog=catalog())
    await engine.start()
    try:
        accepted = await engine.intake.submit_many(_events(referral_data)[:3], source="cli")
        ids = [r.messages[0].message_id for r in accepted if isinstance(r, IntakeResult)]
        assert len(ids) == 3

        async def retrying() -> bool:
            first = await engine.store.get_message(ids[0])
            return first is not None and first.status == "retrying"

        assert await eventually(retrying, timeout=10)
        waiting = [await engine.store.get_message(i) for i in ids]
        head = waiting[0]
        assert head is not None and head.next_attempt_at is not None
        assert all(m is not None and m.status == "queued" for m in waiting[1:])
        if stop == "pause and resume":
            await engine.apply_catalog(catalog(enabled=False))  # the runner stops, gracefully
            refusing.ack_code = "AA"
            await engine.apply_catalog(catalog())
        else:
            refusing.ack_code = "AA"
            await engine.apply_catalog(catalog(ack_timeout=3.0))  # a new runner
        assert await engine.wait_settled(timeout=15), "the messages were not sent"
        attempts = await engine.store.list_attempts(head.id)
        # Refused once, or more where the machine was slow enough for the next try to come
        # before the stop (its backoff is 0.8-1 s): then sent, never before its time.
        *refused, last = attempts
        assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
        assert refused and all(a.ack_code == "AE" for a in refused)
        assert last.ack_code == "AA"
        if len(refused) == 1:
            assert last.started_at >= head.next_attempt_at  # at its time, not before
        assert last.started_at >= refused[-1].started_at + LEAST_BACKOFF
        for later in waiting[1:]:
            assert later is not None
            assert [a.number for a in await engine.store.list_attempts(later.id)] == [1]
        # The refused attempts, then each once, in order, with the MSH-10 it had.
        sent = [_control_id(p) for p in refusing.received]
        assert sent == [head.control_id] * len(refused) + [m.control_id for m in waiting if m]
    finally:
        await engine.stop()
        await refusing.stop()
