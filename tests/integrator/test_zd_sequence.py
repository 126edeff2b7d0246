"""Intake warns when an event does not fit what was accepted before under its ZD number: a cancel
of nothing, a second `new`, a second cancel, a `new` after its cancel. The event is accepted,
stored and sent all the same; the answer names the rule and the earlier event, the log line
holds identifiers only, and the stored messages keep the warning for support.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from deadletter import ResendRequest
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.intake import IntakeResult
from integrator.preparing import CREATED_LATER
from integrator.resending import resend_in_engine
from integrator.store import EventRecord, MessageFilter, NewMessage
from integrator.store.records import ZdEvent
from integrator.zd_sequence import (
    CANCEL_REPEATED,
    CANCEL_WITHOUT_NEW,
    NEW_AFTER_CANCEL,
    NEW_REPEATED,
    ZdCheck,
    ZdFinding,
    judge,
    judge_stored,
    zd_warnings,
)
from tests.integrator.support import destination, settings_for

TODAY = datetime.now(UTC).date()
ZD = "ZD100000001"  # the sample referral's
BEFORE_SUNSET = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)  # ref-v1 retires on 2027-07-01
AFTER_SUNSET = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)
#: What the sample referral says about its patient: none of it may reach a log line.
PATIENT = ("999990019", "Berg", "Jan", "1961-04-12", "Dorpsstraat", "1234 AB", "0612345678")

# -- the rules, without a store -------------------------------------------------------------


def record(action: str = "new", *, zd: str = ZD, type: str = "referral") -> EventRecord:
    return EventRecord(
        id=str(uuid.uuid4()),
        type=type,
        action=action,
        zd_number=zd,
        provider_id="ziekenhuis-noord",
        received_at=datetime.now(UTC),
        source="http",
        payload="{}",
    )


def past(event: EventRecord) -> ZdEvent:
    return ZdEvent(event.id, event.type, event.action)


def rules(findings: dict[str, tuple[ZdFinding, ...]], event: EventRecord) -> list[str]:
    return [f.rule for f in findings.get(event.id, ())]


def test_events_that_fit_have_no_findings() -> None:
    new, cancel, other = record(), record("cancel"), record(zd="ZD100000002")
    assert judge({}, [new]) == {}
    assert judge({ZD: [past(new)]}, [cancel, other]) == {}
    assert judge({}, [new, cancel, other]) == {}  # a new and its cancel in one batch


def test_a_cancel_needs_an_earlier_new_of_its_type() -> None:
    cancel = record("cancel")
    [alone] = judge({}, [cancel])[cancel.id]
    assert alone == ZdFinding(CANCEL_WITHOUT_NEW, None, alone.warning)
    assert alone.warning.startswith("cancel_without_new: no new referral with this ZD number")
    assert "sent all the same" in alone.warning

    lab_new = record(type="diagnostic_request")
    lab_cancel = record("cancel", type="diagnostic_request")
    [other_type] = judge({ZD: [past(lab_cancel), past(lab_new)]}, [cancel])[cancel.id]
    assert other_type.rule == CANCEL_WITHOUT_NEW
    assert other_type.earlier_event_id == lab_new.id  # the other type's `new` is named
    assert f"event {lab_new.id} has this ZD number as a diagnostic request" in other_type.warning


def test_a_second_new_names_the_first_and_so_does_a_second_cancel() -> None:
    first, second = record(), record()
    [repeated] = judge({ZD: [past(first)]}, [second])[second.id]
    assert (repeated.rule, repeated.earlier_event_id) == (NEW_REPEATED, first.id)
    assert f"in event {first.id}" in repeated.warning

    cancel, again = record("cancel"), record("cancel")
    findings = judge({ZD: [past(first), past(cancel)]}, [again])
    [cancelled] = findings[again.id]
    assert (cancelled.rule, cancelled.earlier_event_id) == (CANCEL_REPEATED, cancel.id)

    later = record()
    assert rules(judge({ZD: [past(first), past(cancel)]}, [later]), later) == [
        NEW_REPEATED,
        NEW_AFTER_CANCEL,
    ]


def test_in_a_batch_order_counts_and_duplicates_count_once() -> None:
    cancel, new = record("cancel"), record()
    findings = judge({}, [cancel, new])
    assert rules(findings, cancel) == [CANCEL_WITHOUT_NEW]
    assert rules(findings, new) == [NEW_AFTER_CANCEL]
    [after] = findings[new.id]
    assert after.earlier_event_id == cancel.id

    first, second = record(), record()
    assert rules(judge({}, [first, second]), second) == [NEW_REPEATED]

    # The same event id again (in the batch, or stored before) is a duplicate: not judged here
    # and not an earlier event of its number either.
    stored = record()
    assert judge({ZD: [past(stored)]}, [stored, stored]) == {}
    assert judge({}, [first, first]) == {}
    twice_cancel = record("cancel")
    findings = judge({}, [first, twice_cancel, twice_cancel])
    assert findings == {}


def test_numbers_and_types_are_judged_apart() -> None:
    referral = record()
    lab = record(type="diagnostic_request")
    other = record(zd="ZD100000002")
    assert judge({ZD: [past(referral)]}, [lab, other]) == {}


def test_a_stored_event_is_judged_against_the_events_before_it_only() -> None:
    """What ``events route`` holds against an event accepted earlier: what intake saw then."""
    new, second, cancel, again = record(), record(), record("cancel"), record("cancel")
    history = {ZD: [past(new), past(second), past(cancel), past(again)]}
    findings = judge_stored(history, [again, cancel, new, second])
    assert rules(findings, new) == []  # cancelled later: that broke nothing
    assert rules(findings, second) == [NEW_REPEATED]  # not new_after_cancel: that came after
    assert rules(findings, cancel) == []
    assert rules(findings, again) == [CANCEL_REPEATED]
    [repeated] = findings[again.id]
    assert repeated.earlier_event_id == cancel.id
    # The same words as intake's, so support reads one warning whichever path made the message.
    assert findings[second.id] == judge({ZD: [past(new)]}, [second])[second.id]

    alone = record("cancel", zd="ZD100000002")
    assert rules(judge_stored({"ZD100000002": [past(alone)]}, [alone]), alone) == [
        CANCEL_WITHOUT_NEW
    ]
    assert judge_stored({}, [alone]) == {}  # not in the history: nowhere to judge it from


def test_the_check_notes_messages_and_keeps_their_payload() -> None:
    cancel = record("cancel")
    check = ZdCheck(judge({}, [cancel]))
    message = NewMessage(
        id="m1",
        destination_id="noord",
        version="ref-v2",
        message_type="REF^I14^REF_I12",
        control_id="C1",
        payload=b"MSH|x",
        warnings=("PID-5 shortened",),
    )
    [noted] = check.noted(cancel, [message])
    assert noted.payload == message.payload and noted.id == message.id
    assert noted.warnings[0] == "PID-5 shortened"
    assert noted.warnings[1].startswith("cancel_without_new: ")
    assert zd_warnings(noted.warnings) == noted.warnings[1:]
    # Intake's other warning about the event itself stays too when a message is mapped again
    # (released, remapped): its RF1-7 carries the same time, and support must see why.
    assert zd_warnings((*noted.warnings, CREATED_LATER)) == (*noted.warnings[1:], CREATED_LATER)
    fits = record(zd="ZD100000009")
    assert check.noted(fits, [message]) == [message]  # the same list: nothing made
    assert check.report(fits, "http") == ()


# -- intake in an engine: accepted, sent, answered, logged ----------------------------------


@pytest.fixture
async def engine(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    # One hospital that takes both event types of provider ziekenhuis-noord.
    config = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
    catalog = build_catalog([("noord.yaml", config)], today=TODAY)
    started = Engine(settings_for(tmp_path), catalog=catalog)
    await started.start()
    yield started
    await started.stop()


def event(data: dict[str, Any], **changes: Any) -> str:
    copied = copy.deepcopy(data)
    copied["event_id"] = str(uuid.uuid4())
    copied.update(changes)
    return json.dumps(copied)


async def accepted(engine: Engine, raws: list[str], *, source: str = "cli") -> list[IntakeResult]:
    results = await engine.intake.submit_many(raws, source=source)
    assert not any(isinstance(r, InvalidEvent) for r in results)
    return [r for r in results if isinstance(r, IntakeResult)]


def zd_lines(logs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [e for e in logs if e["event"] == "event does not fit its ZD number's history"]


def msh9(payload: bytes) -> str:
    return payload.split(b"\r", 1)[0].split(b"|")[8].decode()


async def test_a_cancel_of_nothing_is_sent_with_a_warning_and_a_log_line_of_ids(
    engine: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    with capture_logs() as logs:
        [result] = await accepted(engine, [event(referral_data, action="cancel")])
    assert await engine.wait_settled(timeout=10)

    [warning] = result.warnings
    assert warning.startswith(f"{CANCEL_WITHOUT_NEW}: no new referral with this ZD number")
    assert not result.duplicate and result.zd_number == ZD
    # Sent as it would have been without the warning: the cancel, delivered.
    assert [msh9(m) for m in receiver.received] == ["REF^I14^REF_I12"]
    [message] = await engine.store.list_messages(MessageFilter(event_id=result.event_id))
    assert message.status == "delivered"
    # Kept on the message for support (messages show, the console, the API).
    assert warning in message.warnings
    [routed] = result.messages
    assert routed.warnings == message.warnings  # as stored, and as a repeat's answer says
    [line] = zd_lines(logs)
    assert line["log_level"] == "warning"
    assert line == {
        "event": "event does not fit its ZD number's history",
        "log_level": "warning",
        "event_id": result.event_id,
        "zd_number": ZD,
        "rule": CANCEL_WITHOUT_NEW,
        "earlier_event_id": None,
        "source": "cli",
    }
    assert not any(value in str(logs) for value in PATIENT)


async def test_a_second_new_and_a_second_cancel_name_the_earlier_event(
    engine: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    [first] = await accepted(engine, [event(referral_data)])
    with capture_logs() as logs:
        [second] = await accepted(engine, [event(referral_data)], source="http")
        [cancel] = await accepted(engine, [event(referral_data, action="cancel")])
        [again] = await accepted(engine, [event(referral_data, action="cancel")])
    assert await engine.wait_settled(timeout=10)

    assert first.warnings == () and cancel.warnings == ()
    [repeated] = second.warnings
    assert repeated.startswith(f"{NEW_REPEATED}: ") and f"in event {first.event_id}" in repeated
    [cancelled] = again.warnings
    assert cancelled.startswith(f"{CANCEL_REPEATED}: ") and f"event {cancel.event_id}" in cancelled
    # Every one of them went out.
    sent = [msh9(m) for m in receiver.received]
    assert sent == ["REF^I12^REF_I12", "REF^I12^REF_I12", "REF^I14^REF_I12", "REF^I14^REF_I12"]
    lines = zd_lines(logs)
    assert [(e["event_id"], e["rule"], e["earlier_event_id"]) for e in lines] == [
        (second.event_id, NEW_REPEATED, first.event_id),
        (again.event_id, CANCEL_REPEATED, cancel.event_id),
    ]
    assert not any(value in str(logs) for value in PATIENT)
    # Operators see them in the metrics, by rule, without reading logs.
    counted = engine.metrics.registry.get_sample_value
    assert counted("integrator_zd_warnings_total", {"rule": NEW_REPEATED}) == 1
    assert counted("integrator_zd_warnings_total", {"rule": CANCEL_REPEATED}) == 1
    # Every rule's series is there at 0 from the start (the alert rules' increase() needs it).
    assert counted("integrator_zd_warnings_total", {"rule": "cancel_without_new"}) == 0


async def test_a_batch_is_judged_in_its_order_with_one_history_read(
    engine: Engine,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[list[str]] = []
    hot_read = engine.store._hot.zd_history
    hot_accept = engine.store._hot.accept

    async def counted(numbers: Any) -> Any:
        reads.append(list(numbers))
        return await hot_read(numbers)

    async def accept(events: Any, messages: Any, judged: Any = None) -> Any:
        if judged is not None:
            reads.append(list(judged.zd_numbers))
        return await hot_accept(events, messages, judged)

    monkeypatch.setattr(engine.store._hot, "zd_history", counted)
    monkeypatch.setattr(engine.store._hot, "accept", accept)
    fine = [event(referral_data, zd_number="ZD200000001")]
    fine.append(event(referral_data, zd_number="ZD200000001", action="cancel"))
    cancel_first = event(referral_data, zd_number="ZD200000002", action="cancel")
    new_after = event(referral_data, zd_number="ZD200000002")
    duplicate = fine[0]
    results = await accepted(engine, [*fine, cancel_first, new_after, duplicate])
    assert await engine.wait_settled(timeout=10)

    # One read for the batch, not one per event, by the accepting transaction itself.
    assert reads == [["ZD200000001", "ZD200000002"]]
    new, cancel, early_cancel, late_new, dup = results
    assert new.warnings == () and cancel.warnings == ()  # a new and its cancel, in order
    [without] = early_cancel.warnings
    assert without.startswith(f"{CANCEL_WITHOUT_NEW}: ")
    [after] = late_new.warnings
    assert after.startswith(f"{NEW_AFTER_CANCEL}: ") and early_cancel.event_id in after
    # The same event id twice is the duplicate rule's, not this one's.
    assert dup.duplicate and not any(w.startswith(f"{NEW_REPEATED}: ") for w in dup.warnings)
    assert len(receiver.received) == 4


async def test_an_event_is_checked_and_committed_in_one_hand_over_to_the_writer(
    engine: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """An HTTP POST's batch of one on SQLite: its ZD history is read in the transaction that
    commits it; a read of its own was a second hand-over to the writer thread, a quarter of the
    POST's CPU (bench/bench_zd_check.py)."""
    writer = engine.store._hot._writer  # type: ignore[union-attr]  # SQLite's
    handed: list[str] = []
    submit = writer._submit
    this_batch = asyncio.current_task()  # a lone batch commits in its caller's task

    async def counted(work: Any) -> Any:
        # Only this batch's: the attempt recorder hands over the first event's attempt in a task
        # of its own, when the delivery happens to end inside this window (it did, once in CI).
        if asyncio.current_task() is this_batch:
            handed.append(type(work).__name__)
        return await submit(work)

    await accepted(engine, [event(referral_data, zd_number="ZD200000003")])  # the writer started
    writer._submit = counted  # type: ignore[method-assign]
    try:
        [result] = await accepted(engine, [event(referral_data, zd_number="ZD200000003")])
    finally:
        del writer._submit
    assert [w.startswith(f"{NEW_REPEATED}: ") for w in result.warnings] == [True]
    assert handed == ["function"]  # one transaction, no read (``_Read``) before it


async def test_two_batches_at_once_on_sqlite_see_each_other(
    engine: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """On SQLite the history is read in the transaction that commits the batch: of two batches
    with one ZD number committed at the same moment, the later one sees the earlier."""
    first, second = await asyncio.gather(
        accepted(engine, [event(referral_data, zd_number="ZD200000004")]),
        accepted(engine, [event(referral_data, zd_number="ZD200000004")]),
    )
    warned = [r.warnings for r in (*first, *second)]
    assert sorted(len(w) for w in warned) == [0, 1], warned
    assert next(w for found in warned for w in found).startswith(f"{NEW_REPEATED}: ")


async def test_the_type_is_part_of_the_number(
    engine: Engine,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
) -> None:
    lab = {**diagnostic_request_data, "provider": referral_data["provider"], "zd_number": ZD}
    [referral] = await accepted(engine, [event(referral_data)])
    [lab_new] = await accepted(engine, [event(lab)])  # another type: not a second new
    [lab_cancel] = await accepted(engine, [event(lab, action="cancel")])
    assert referral.warnings == lab_new.warnings == lab_cancel.warnings == ()

    lab_other = {**lab, "zd_number": "ZD300000001"}
    referral_other = {**referral_data, "zd_number": "ZD300000001"}
    await accepted(engine, [event(lab_other)])
    [wrong_type] = await accepted(engine, [event(referral_other, action="cancel")])
    [warning] = wrong_type.warnings
    assert warning.startswith(f"{CANCEL_WITHOUT_NEW}: no new referral")
    assert "has this ZD number as a diagnostic request" in warning
    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 5


async def test_a_held_message_keeps_the_warning_when_released(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """ref-v1 retired: the cancel is held; once the destination moves to ref-v2 it is mapped
    again with new notes, and the ZD number's warning stays."""
    clock = ManualClock(AFTER_SUNSET)
    on_v1 = destination(
        "noord", receiver.port, providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
    )
    today = AFTER_SUNSET.date()
    # Loaded the day before the sunset (a retired version is refused in a file); the engine's
    # clock is past it, so intake holds the message.
    loaded = build_catalog([("noord.yaml", on_v1)], today=BEFORE_SUNSET.date())
    engine = Engine(settings_for(tmp_path), catalog=loaded, clock=clock)
    await engine.start()
    try:
        [result] = await accepted(engine, [event(referral_data, action="cancel")])
        [routed] = result.messages
        assert routed.status == "held"
        on_v2 = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
        await engine.apply_catalog(build_catalog([("noord.yaml", on_v2)], today=today))
        assert await engine.wait_settled(timeout=10)
        message = await engine.store.get_message(routed.message_id)
    finally:
        await engine.stop()
    assert message is not None and message.status == "delivered"
    assert [w for w in message.warnings if w.startswith(f"{CANCEL_WITHOUT_NEW}: ")]
    assert not [w for w in message.warnings if "retired" in w]
    assert [msh9(m) for m in receiver.received] == ["REF^I14^REF_I12"]


async def test_a_remap_resend_keeps_the_warning_and_maps_its_own_notes(
    engine: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    """Mapped again, as a released held message is: the mapping's notes are the new mapping's,
    the ZD number's warning is the event's and stays."""
    [result] = await accepted(engine, [event(referral_data, action="cancel")])
    assert await engine.wait_settled(timeout=10)
    [warning] = result.warnings
    original = await engine.store.get_message(result.messages[0].message_id)
    assert original is not None and original.status == "delivered"

    remap = ResendRequest(reason="GP called: not arrived", actor="anna", mode="remap")
    [resent] = await resend_in_engine(engine, [original], remap)
    assert await engine.wait_settled(timeout=10)

    assert resent.message is not None
    stored = await engine.store.get_message(resent.message.id)
    assert stored is not None and stored.status == "delivered"
    assert stored.resend_of == original.id and stored.control_id != original.control_id
    assert zd_warnings(stored.warnings) == (warning,)
    assert b"cancel_without_new" not in stored.payload
    counted = engine.metrics.registry.get_sample_value
    assert counted("integrator_zd_warnings_total", {"rule": CANCEL_WITHOUT_NEW}) == 1  # intake's
