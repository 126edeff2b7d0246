"""product.md §3 deprecation behaviour, the clock moved past a sunset instead of waiting for it."""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import hl7
import pytest
from structlog.testing import capture_logs

import integrator.engine
import integrator.intake
from destinations.ack import read_msh
from destinations.config import DestinationConfig, DestinationFileError
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.deprecation import resolve_version
from integrator.engine import Engine
from integrator.intake import NOT_RELEASED, RoutedMessage
from integrator.store import MessageRecord, Store
from tests.integrator.support import RecordingTransport, destination, settings_for

BEFORE_SUNSET = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)  # ref-v1 deprecated, sunset 2027-07-01
AFTER_SUNSET = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)


def another(referral: dict[str, Any]) -> str:
    event = copy.deepcopy(referral)
    event["event_id"] = str(uuid.uuid4())
    return json.dumps(event)


def test_resolution_follows_status_and_auto_upgrade() -> None:
    day = date(2027, 7, 1)
    assert resolve_version("ref-v1", auto_upgrade=False, today=day - timedelta(days=1)).version == (
        "ref-v1"
    )
    held = resolve_version("ref-v1", auto_upgrade=False, today=day)
    assert held.held
    assert held.note is not None and "ref-v2" in held.note and "2027-07-01" in held.note
    upgraded = resolve_version("ref-v1", auto_upgrade=True, today=day)
    assert upgraded.version == "ref-v2"
    assert upgraded.note is not None and "auto_upgrade" in upgraded.note
    assert resolve_version("ref-v2", auto_upgrade=False, today=day).version == "ref-v2"


def test_deprecated_version_loads_with_a_warning_naming_sunset_and_successor() -> None:
    config = destination("oud", 2575, providers=["p"], messages={"referral": "ref-v1"})
    catalog = build_catalog([("oud.yaml", config)], today=date(2026, 11, 27))
    assert list(catalog.destinations) == ["oud"]
    [warning] = catalog.warnings
    assert "ref-v1" in warning and "2027-07-01" in warning and "ref-v2" in warning


def test_retired_version_is_refused_naming_the_successor() -> None:
    config = destination("oud", 2575, providers=["p"], messages={"diagnostic_request": "orm-lfdv1"})
    catalog = build_catalog([("oud.yaml", config)], today=date(2026, 11, 27))
    assert catalog.destinations == {}
    [error] = catalog.errors
    assert isinstance(error, DestinationFileError)
    assert error.key == "messages.diagnostic_request"
    assert "retired" in error.rule and "orm-v3" in error.rule


async def start(tmp_path: Path, clock: ManualClock, *configs: Any) -> Engine:
    catalog = build_catalog(((f"{c.id}.yaml", c) for c in configs), today=clock.now().date())
    engine = Engine(settings_for(tmp_path), clock=clock, catalog=catalog)
    await engine.start()
    return engine


async def test_at_sunset_new_messages_are_held_then_released_when_the_destination_moves(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(BEFORE_SUNSET)
    old = destination(
        "noord", receiver.port, providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
    )
    engine = await start(tmp_path, clock, old)
    try:
        before = await engine.intake.submit(another(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        assert before.messages[0].version == "ref-v1"
        assert before.messages[0].status == "queued"

        clock.set(AFTER_SUNSET)
        with capture_logs() as logs:
            after = await engine.intake.submit(another(referral_data), source="cli")
        [held] = after.messages
        assert held.status == "held"
        assert any("retired" in w and "ref-v2" in w for w in held.warnings)
        assert await engine.wait_settled(timeout=5)
        assert len(receiver.received) == 1  # nothing sent in the retired format
        stored = await engine.store.get_message(held.message_id)
        assert stored is not None and stored.status == "held" and stored.payload == b""
        assert not any("Berg" in json.dumps(entry, default=str) for entry in logs)

        moved = old.model_copy(update={"messages": {"referral": "ref-v2"}})
        await engine.apply_catalog(
            build_catalog([("noord.yaml", moved)], today=AFTER_SUNSET.date())
        )
        assert await engine.wait_settled(timeout=10)
        released = await engine.store.get_message(held.message_id)
        assert released is not None
        assert (released.status, released.version) == ("delivered", "ref-v2")
        assert released.control_id == held.control_id
        msh = hl7.parse(released.payload.decode()).segment("MSH")
        assert str(msh[10]) == held.control_id and str(msh[12]) == "2.5.1"
        assert receiver.received[-1] == released.payload
    finally:
        await engine.stop()


async def held_by_a_stopped_engine(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any], count: int
) -> tuple[ManualClock, DestinationConfig, list[RoutedMessage]]:
    """``count`` referrals held for a destination on ``ref-v1`` after its sunset, by an engine
    stopped since; the clock (after the sunset), the destination and the held messages."""
    clock = ManualClock(BEFORE_SUNSET)
    old = destination(
        "noord", receiver.port, providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
    )
    engine = await start(tmp_path, clock, old)
    clock.set(AFTER_SUNSET)
    try:
        held = [
            (await engine.intake.submit(another(referral_data), source="cli")).messages[0]
            for _ in range(count)
        ]
    finally:
        await engine.stop()
    assert {m.status for m in held} == {"held"}
    return clock, old, held


async def test_a_destination_moved_while_no_engine_ran_releases_its_held_messages_at_start(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    # Its file was edited during an upgrade window: before, the held messages stayed held
    # until some later change of the destinations, which might never come.
    clock, old, held = await held_by_a_stopped_engine(tmp_path, receiver, referral_data, 3)
    moved = old.model_copy(update={"messages": {"referral": "ref-v2"}})
    engine = await start(tmp_path, clock, moved)
    try:
        assert await engine.wait_settled(timeout=10)
        for message in held:
            released = await engine.store.get_message(message.message_id)
            assert released is not None
            assert (released.status, released.version) == ("delivered", "ref-v2")
            assert released.control_id == message.control_id
        assert len(receiver.received) == 3
    finally:
        await engine.stop()


async def test_a_held_message_whose_stored_event_no_longer_passes_stays_held_at_start(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """An event accepted before a rule it breaks was added (the nil UUID as `event_id`, taken
    until it was refused) made the engine's start fail at the release of its held message,
    and no other held message went out either. Now it stays held, said in the log by id."""
    clock, old, held = await held_by_a_stopped_engine(tmp_path, receiver, referral_data, 3)
    stale = await stored_event_id(tmp_path, held[1].message_id)
    with sqlite3.connect(tmp_path / "store.db") as db:
        [(payload,)] = db.execute("SELECT payload FROM events WHERE id = ?", (stale,))
        kept = dict(json.loads(payload), event_id="00000000-0000-0000-0000-000000000000")
        db.execute("UPDATE events SET payload = ? WHERE id = ?", (json.dumps(kept), stale))
    moved = old.model_copy(update={"messages": {"referral": "ref-v2"}})
    with capture_logs() as logs:
        engine = await start(tmp_path, clock, moved)
    try:
        assert await engine.wait_settled(timeout=10)
        states = [await engine.store.get_message(m.message_id) for m in held]
        assert [m.status for m in states if m is not None] == ["delivered", "held", "delivered"]
        assert len(receiver.received) == 2
        [line] = [e for e in logs if e["event"] == "held message not released"]
        assert line["message_id"] == held[1].message_id and line["event_id"] == stale
        assert line["rules"] == ["event_id: uuid_unset"]
        assert not any("Berg" in json.dumps(entry, default=str) for entry in logs)
        # Said on the message too, where support looks, once however often it is tried again.
        note = NOT_RELEASED(rules="event_id: uuid_unset")
        stuck = states[1]
        assert stuck is not None and stuck.warnings[-1] == note
        assert note.startswith("not released: its event no longer passes validation (event_id")
        assert await engine.intake.release_held() == 0
        again = await engine.store.get_message(held[1].message_id)
        assert again is not None and again.warnings == stuck.warnings
    finally:
        await engine.stop()


async def stored_event_id(tmp_path: Path, message_id: str) -> str:
    """The id of the event ``message_id`` was made of, read from the store in ``tmp_path``."""
    with sqlite3.connect(tmp_path / "store.db") as db:
        [(event_id,)] = db.execute("SELECT event_id FROM messages WHERE id = ?", (message_id,))
    return str(event_id)


async def test_messages_still_held_at_start_are_not_mapped_one_by_one(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock, old, _held = await held_by_a_stopped_engine(tmp_path, receiver, referral_data, 5)
    renders: list[str] = []
    render = integrator.intake.Intake.render

    def counted(self: integrator.intake.Intake, *args: Any, **kwargs: Any) -> Any:
        renders.append(args[1].id)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(integrator.intake.Intake, "render", counted)
    # Still on the retired version (a catalog of the day before, as a running engine keeps it).
    catalog = build_catalog([("noord.yaml", old)], today=BEFORE_SUNSET.date())
    engine = Engine(settings_for(tmp_path), clock=clock, catalog=catalog)
    await engine.start()
    try:
        assert (await engine.store.count_by_status())["held"] == 5
        assert renders == ["noord"]  # the first tells for the rest of its type
    finally:
        await engine.stop()


async def test_a_release_publishes_each_chunk_right_after_committing_it(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine killed in the middle of a long release leaves at most one chunk of released
    messages stored and not published, not every message it released."""
    events: list[tuple[str, int]] = []
    monkeypatch.setattr(integrator.intake, "RELEASE_CHUNK", 2)
    monkeypatch.setattr(
        integrator.engine, "create_transport", lambda _s: RecordingTransport(events)
    )
    real_release_held = Store.release_held

    async def noted(self: Store, message_id: str, **kwargs: Any) -> datetime | None:
        released_at = await real_release_held(self, message_id, **kwargs)
        events.append(("committed", 1))
        return released_at

    monkeypatch.setattr(Store, "release_held", noted)
    clock = ManualClock(BEFORE_SUNSET)
    old = destination(
        "noord", receiver.port, providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
    )
    engine = await start(tmp_path, clock, old)
    try:
        clock.set(AFTER_SUNSET)
        held = [
            (await engine.intake.submit(another(referral_data), source="cli")).messages[0]
            for _ in range(3)
        ]
        assert [m.status for m in held] == ["held"] * 3
        events.clear()
        moved = old.model_copy(update={"messages": {"referral": "ref-v2"}})
        await engine.apply_catalog(
            build_catalog([("noord.yaml", moved)], today=AFTER_SUNSET.date())
        )
        assert events == [
            ("committed", 1),
            ("committed", 1),
            ("published", 2),
            ("committed", 1),
            ("published", 1),
        ]
        assert await engine.wait_settled(timeout=10)
        sent = [await engine.store.get_message(m.message_id) for m in held]
        assert [(m.status, m.control_id) for m in sent if m is not None] == [
            ("delivered", m.control_id) for m in held
        ]
        assert len(receiver.received) == 3
    finally:
        await engine.stop()


async def test_at_sunset_auto_upgrade_maps_with_the_successor(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    clock = ManualClock(BEFORE_SUNSET)
    config = destination(
        "noord",
        receiver.port,
        providers=["ziekenhuis-noord"],
        messages={"referral": "ref-v1"},
        auto_upgrade=True,
    )
    engine = await start(tmp_path, clock, config)
    try:
        clock.advance(timedelta(days=1))
        result = await engine.intake.submit(another(referral_data), source="cli")
        [message] = result.messages
        assert message.version == "ref-v2"
        assert any("auto_upgrade" in w for w in message.warnings)
        assert await engine.wait_settled(timeout=10)
        assert b"|2.5.1|" in receiver.received[0].split(b"\r", 1)[0]
    finally:
        await engine.stop()


def waiting_at_the_sunset(port: int, *, ordering: str, auto_upgrade: bool = False) -> Any:
    """ref-v1 to ``port``, retried for as long as the test needs. ``max_age`` outlasts the
    clock's jump past the sunset: an attempt begun before the jump and failed after it is
    judged by the later clock, and with a shorter age it was dead-lettered, not retried."""
    retry = {"initial": "20ms", "multiplier": 1, "max_delay": "20ms", "max_attempts": 10_000}
    return destination(
        "noord",
        port,
        providers=["ziekenhuis-noord"],
        messages={"referral": "ref-v1"},
        ordering=ordering,
        auto_upgrade=auto_upgrade,
        retry={**retry, "max_age": "72h"},
    )


async def attempts_of(engine: Engine, message_id: str) -> int:
    found = await engine.store.get_message(message_id)
    assert found is not None
    return found.attempt_count


async def past_the_sunset(
    engine: Engine, clock: ManualClock, receiver: MllpReceiver, message_id: str, status: str
) -> MessageRecord:
    """Tried and failed a few times before the sunset (its receiver down); then the sunset
    passes, the receiver comes back, and the message reaches ``status``."""
    from tests.transport.helpers import eventually

    async def tried() -> bool:
        return await attempts_of(engine, message_id) >= 2

    assert await eventually(tried, poll=0.02)
    clock.set(AFTER_SUNSET)
    await receiver.start()

    async def reached() -> bool:
        found = await engine.store.get_message(message_id)
        return found is not None and found.status == status

    assert await eventually(reached, poll=0.02), await engine.store.get_message(message_id)
    found = await engine.store.get_message(message_id)
    assert found is not None
    return found


@pytest.mark.parametrize("ordering", ["fifo", "rotate"])
async def test_a_message_mapped_before_the_sunset_and_waiting_after_it_is_held(
    tmp_path: Path, referral_data: dict[str, Any], ordering: str
) -> None:
    """Mapped in ref-v1 the day before its sunset, its receiver down: after the sunset it
    went out in the retired format, as soon as the receiver was back. Now it is held, as a
    message made after the sunset is, and released when the destination moves."""
    from tests.services import free_port

    port = free_port()
    clock = ManualClock(BEFORE_SUNSET)
    engine = await start(tmp_path, clock, waiting_at_the_sunset(port, ordering=ordering))
    receiver = MllpReceiver(port=port)
    try:
        [waiting] = (await engine.intake.submit(another(referral_data), source="cli")).messages
        assert waiting.version == "ref-v1"
        held = await past_the_sunset(engine, clock, receiver, waiting.message_id, "held")
        assert held.payload == b"" and held.control_id == waiting.control_id
        assert any("retired since 2027-07-01" in w and "ref-v2" in w for w in held.warnings)
        tried = held.attempt_count
        await asyncio.sleep(0.2)
        assert await attempts_of(engine, waiting.message_id) == tried  # no more attempts
        assert receiver.received == []  # nothing went out in ref-v1

        moved = waiting_at_the_sunset(port, ordering=ordering).model_copy(
            update={"messages": {"referral": "ref-v2"}}
        )
        await engine.apply_catalog(
            build_catalog([("noord.yaml", moved)], today=AFTER_SUNSET.date())
        )
        assert await engine.wait_settled(timeout=10)
        released = await engine.store.get_message(waiting.message_id)
        assert released is not None
        assert (released.status, released.version) == ("delivered", "ref-v2")
        assert [read_msh(m).control_id for m in receiver.received] == [waiting.control_id]
    finally:
        await engine.stop()
        await receiver.stop()


async def test_a_waiting_message_whose_destination_moved_before_the_sunset_goes_in_the_new(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The operator moved the destination to ref-v2 before the sunset, as asked, while a
    message mapped in ref-v1 still waited: it was held after the sunset, saying to move the
    destination it was already on, and nothing released it. It is mapped again at once."""
    from tests.services import free_port

    port = free_port()
    clock = ManualClock(BEFORE_SUNSET)
    old = waiting_at_the_sunset(port, ordering="rotate")
    engine = await start(tmp_path, clock, old)
    receiver = MllpReceiver(port=port)
    try:
        [waiting] = (await engine.intake.submit(another(referral_data), source="cli")).messages
        moved = old.model_copy(update={"messages": {"referral": "ref-v2"}})
        await engine.apply_catalog(build_catalog([("noord.yaml", moved)], today=clock.now().date()))
        sent = await past_the_sunset(engine, clock, receiver, waiting.message_id, "delivered")
        assert (sent.version, sent.control_id) == ("ref-v2", waiting.control_id)
        assert [read_msh(m).control_id for m in receiver.received] == [waiting.control_id]
    finally:
        await engine.stop()
        await receiver.stop()


async def test_a_hold_is_not_undone_by_an_attempt_recorded_after_it(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attempts reach the store through the recorder's queue. One still queued when the
    message was held was written after the hold and set it back to ``retrying``, its bytes
    gone and nothing to release it. The hold now waits for the attempts before it."""
    from tests.services import free_port

    real_record = Store.record_attempts

    async def slowly(self: Store, batch: Any, *, again: bool = False) -> None:
        await asyncio.sleep(0.3)  # a store busy with other work
        await real_record(self, batch, again=again)

    monkeypatch.setattr(Store, "record_attempts", slowly)
    port = free_port()
    clock = ManualClock(BEFORE_SUNSET)
    engine = await start(tmp_path, clock, waiting_at_the_sunset(port, ordering="fifo"))
    receiver = MllpReceiver(port=port)
    try:
        [waiting] = (await engine.intake.submit(another(referral_data), source="cli")).messages
        held = await past_the_sunset(engine, clock, receiver, waiting.message_id, "held")
        await asyncio.sleep(1.0)  # any attempt record still on its way lands by now
        after = await engine.store.get_message(held.id)
        assert after is not None and after.status == "held", after
        assert receiver.received == []
    finally:
        await engine.stop()
        await receiver.stop()


async def test_with_auto_upgrade_a_message_waiting_at_the_sunset_goes_in_the_successor(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    from tests.services import free_port

    port = free_port()
    clock = ManualClock(BEFORE_SUNSET)
    config = waiting_at_the_sunset(port, ordering="fifo", auto_upgrade=True)
    engine = await start(tmp_path, clock, config)
    receiver = MllpReceiver(port=port)
    try:
        [waiting] = (await engine.intake.submit(another(referral_data), source="cli")).messages
        sent = await past_the_sunset(engine, clock, receiver, waiting.message_id, "delivered")
        assert sent.version == "ref-v2"
        [received] = receiver.received
        assert read_msh(received).control_id == waiting.control_id  # the same MSH-10
        assert b"|2.5.1|" in received.split(b"\r", 1)[0]
        assert any("auto_upgrade" in w for w in sent.warnings)
    finally:
        await engine.stop()
        await receiver.stop()


async def test_metric_reports_days_left_for_deprecated_versions(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2027, 6, 21, tzinfo=UTC))
    config = destination(
        "noord", 2575, providers=["p"], messages={"referral": "ref-v1"}, enabled=False
    )
    engine = await start(tmp_path, clock, config)
    try:
        text = engine.metrics.render().decode()
        line = next(
            line
            for line in text.splitlines()
            if line.startswith("integrator_destination_deprecated_version_days_left{")
        )
        assert 'destination="noord"' in line and 'successor="ref-v2"' in line
        assert line.endswith(" 10.0")
    finally:
        await engine.stop()


def _in_version(name: str) -> bytes:
    """A message's MSH naming ``name`` in MSH-21, as a mapping writes it."""
    fields = ["MSH", "^~\\&", *[""] * 18, f"{name}^NICTIZ"]
    return ("|".join(fields) + "\rPID|1\r").encode()


@pytest.mark.parametrize(
    ("made", "held"),
    [
        (datetime(2027, 6, 30, 21, 59, 59, tzinfo=UTC), "ref-v1"),  # 23:59:59 in Amsterdam
        (datetime(2027, 6, 30, 22, 0, tzinfo=UTC), None),  # its sunset day, from 00:00
        (datetime(2027, 7, 1, 9, 0, tzinfo=UTC), None),  # a resend in original mode
    ],
)
def test_a_message_is_held_when_made_before_its_versions_sunset_in_the_zone(
    made: datetime, held: str | None
) -> None:
    """Delivery asks this of every message it takes; one made after every retired version's
    sunset is let go without its MSH being read, and the boundary is the sunset day's first
    moment in the engine's zone."""
    from zoneinfo import ZoneInfo

    from integrator.deprecation import RetiredVersions

    retired = RetiredVersions(lambda: AFTER_SUNSET, ZoneInfo("Europe/Amsterdam"))
    assert retired.of(_in_version("ref-v1"), made) == held
    assert retired.of(_in_version("ref-v2"), made) is None  # current


@pytest.mark.parametrize("why", ["paused", "down"])
async def test_a_fifo_destination_sends_the_referral_mapped_before_the_sunset_before_its_cancel(
    tmp_path: Path, referral_data: dict[str, Any], why: str
) -> None:
    """With ``auto_upgrade``, a referral mapped in ref-v1 before the sunset and still waiting
    after it (the destination paused, or its receiver down) was held and released to the tail
    of the queue, behind the cancel made after the sunset: the hospital got the cancel first,
    and then the referral, which stayed open. A fifo destination maps it again in its place."""
    from tests.services import free_port

    port = free_port()
    clock = ManualClock(BEFORE_SUNSET)
    config = waiting_at_the_sunset(port, ordering="fifo", auto_upgrade=True)
    if why == "paused":
        config = config.model_copy(update={"enabled": False})
    engine = await start(tmp_path, clock, config)
    receiver = MllpReceiver(port=port)
    try:
        new = json.loads(another(referral_data))
        [first] = (await engine.intake.submit(json.dumps(new), source="cli")).messages
        assert first.version == "ref-v1"
        if why == "down":
            assert await eventually_true(lambda: attempts_of(engine, first.message_id), 2)
        clock.set(AFTER_SUNSET)
        cancel = {**new, "event_id": str(uuid.uuid4()), "action": "cancel"}
        [second] = (await engine.intake.submit(json.dumps(cancel), source="cli")).messages
        assert second.version == "ref-v2"  # auto_upgrade, at intake
        await receiver.start()
        if why == "paused":
            resumed = config.model_copy(update={"enabled": True})
            catalog = build_catalog(
                [("noord.yaml", resumed)], today=AFTER_SUNSET.date(), in_service=["noord"]
            )
            await engine.apply_catalog(catalog)
        assert await engine.wait_settled(timeout=20)
        got = [(read_msh(m).control_id, m.split(b"|")[8]) for m in receiver.received]
        assert [control_id for control_id, _ in got] == [first.control_id, second.control_id]
        assert [kind for _, kind in got] == [b"REF^I12^REF_I12", b"REF^I14^REF_I12"]
    finally:
        await engine.stop()
        await receiver.stop()


async def referral_then_cancel_across_the_sunset(
    engine: Engine,
    clock: ManualClock,
    paused: DestinationConfig,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
) -> list[str]:
    """A referral mapped before the sunset and its cancel made after it, both waiting for the
    paused destination ``paused``; then the receiver up and the destination resumed, until
    settled. The MSH-10s in the order the hospital must get them."""
    new = json.loads(another(referral_data))
    [first] = (await engine.intake.submit(json.dumps(new), source="cli")).messages
    clock.set(AFTER_SUNSET)
    cancel = {**new, "event_id": str(uuid.uuid4()), "action": "cancel"}
    [second] = (await engine.intake.submit(json.dumps(cancel), source="cli")).messages
    await receiver.start()
    resumed = paused.model_copy(update={"enabled": True})
    catalog = build_catalog(
        [("noord.yaml", resumed)], today=AFTER_SUNSET.date(), in_service=["noord"]
    )
    await engine.apply_catalog(catalog)
    assert await engine.wait_settled(timeout=20)
    return [first.control_id, second.control_id]


async def test_a_release_of_held_messages_meanwhile_does_not_send_the_referral_after_its_cancel(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fifo runner holds the referral mapped before the sunset and maps it again at the
    head of its queue. A release of held messages that ran between the two (the resume's own,
    on a loaded machine: a CI run) found it held, released it to the tail, and the runner went
    on with the cancel: the hospital got the cancel first. Made certain here: right after the
    hold, a release is started and given its turn."""
    from tests.services import free_port

    port = free_port()
    clock = ManualClock(BEFORE_SUNSET)
    config = waiting_at_the_sunset(port, ordering="fifo", auto_upgrade=True)
    config = config.model_copy(update={"enabled": False})
    engine = await start(tmp_path, clock, config)
    receiver = MllpReceiver(port=port)
    hold = engine._hold_retired
    releases: list[asyncio.Task[int]] = []

    async def hold_then_a_release_runs(message: Any, version: str) -> bool:
        held = await hold(message, version)
        releases.append(asyncio.create_task(engine.intake.release_held(["noord"])))
        await asyncio.sleep(0.2)  # its turn, as a loaded machine gave it
        return held

    monkeypatch.setattr(engine, "_hold_retired", hold_then_a_release_runs)
    try:
        sent = await referral_then_cancel_across_the_sunset(
            engine, clock, config, receiver, referral_data
        )
        assert releases and await asyncio.gather(*releases) == [0]  # it found nothing held
        assert [read_msh(m).control_id for m in receiver.received] == sent
    finally:
        await engine.stop()
        await receiver.stop()


@pytest.mark.rabbitmq
async def test_another_engines_release_meanwhile_does_not_send_the_referral_after_its_cancel(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, with the release made by another engine on the store and the broker, which
    this engine's lock does not keep out (all engines apply a resume at about the same time):
    it maps the referral again and publishes it to the queue's tail. The runner sends it in
    its place all the same, and the copy at the tail, checked against the store, owes
    nothing: the hospital gets the referral, then the cancel, each once. (Only RabbitMQ lets
    two engines share a destination's queue.) Another engine's release is the release
    without this engine's lock, published to the same queue."""
    from tests.services import free_port, require_rabbitmq
    from tests.transport.helpers import delete_topology, unique_prefix

    port = free_port()
    clock = ManualClock(BEFORE_SUNSET)
    config = waiting_at_the_sunset(port, ordering="fifo", auto_upgrade=True)
    config = config.model_copy(update={"enabled": False})
    url, prefix = require_rabbitmq(), unique_prefix()
    catalog = build_catalog([("noord.yaml", config)], today=clock.now().date())
    settings = settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix)
    engine = Engine(settings, clock=clock, catalog=catalog)
    await engine.start()
    receiver = MllpReceiver(port=port)
    hold = engine._hold_retired
    released: list[int] = []

    async def hold_then_another_engine_releases(message: Any, version: str) -> bool:
        held = await hold(message, version)
        released.append(await engine.intake._release_held(["noord"]))  # not kept out
        return held

    monkeypatch.setattr(engine, "_hold_retired", hold_then_another_engine_releases)
    try:
        sent = await referral_then_cancel_across_the_sunset(
            engine, clock, config, receiver, referral_data
        )
        await asyncio.sleep(0.5)  # a copy sent twice would reach the receiver by now
        assert released == [1]  # the other engine did release it, to the tail
        assert [read_msh(m).control_id for m in receiver.received] == sent
    finally:
        await engine.stop()
        await receiver.stop()
        await delete_topology(url, prefix, ["noord"])


async def eventually_true(count: Any, at_least: int) -> bool:
    from tests.transport.helpers import eventually

    async def reached() -> bool:
        return bool(await count() >= at_least)

    return await eventually(reached, poll=0.02)
