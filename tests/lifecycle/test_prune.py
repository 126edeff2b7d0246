"""Retention on both stores: what goes after its period, what never goes, and the dry run.

Time moves by giving ``prune`` a later ``now``; the rows were written at the store clock's
``T0``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from deadletter import ResendRequest, resend
from integrator.lifecycle.prune import PRUNE_ACTION, START_ACTION, prune
from integrator.lifecycle.retention import Retention
from integrator.store import AttemptRecord, AuditFilter, MessageRecord, NewMessage, Store
from tests.store.factories import T0, StepClock, make_event, make_message

RETENTION = Retention(payload_days=90, dead_letter_days=30, rejected_days=30)
ACTOR = "local:tester"


class SameBytes:
    def is_configured(self, destination_id: str) -> bool:
        return True

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        return make_message(destination_id=destination_id)


async def stored(store: Store, status: str, payload: bytes | None = None) -> MessageRecord:
    message = make_message() if payload is None else make_message(payload=payload)
    assert await store.accept_event(make_event(), [message])
    await store.set_status(message.id, status)
    found = await store.get_message(message.id)
    assert found is not None
    return found


async def with_ack(store: Store, message: MessageRecord) -> None:
    attempt = AttemptRecord(
        message_id=message.id,
        number=1,
        started_at=T0,
        duration_ms=3.0,
        outcome="delivered",
        ack_code="AA",
        ack_bytes=b"MSH|^~\\&|HIS\rMSA|AA|x\r",
    )
    await store.record_attempt(attempt, status=message.status)


async def resent(store: Store, message: MessageRecord, status: str) -> MessageRecord:
    [result] = await resend(store, [message], ResendRequest("why", "anna"), SameBytes())
    assert result.message is not None
    await store.set_status(result.message.id, status)
    found = await store.get_message(result.message.id)
    assert found is not None
    return found


async def reread(store: Store, message: MessageRecord) -> MessageRecord:
    found = await store.get_message(message.id)
    assert found is not None
    return found


async def test_delivered_payload_and_ack_go_after_the_period_the_row_stays(store: Store) -> None:
    message = await stored(store, "delivered")
    await with_ack(store, message)

    early = await prune(store, RETENTION, now=T0 + timedelta(days=89), actor=ACTOR)
    assert early.total == 0
    assert (await reread(store, message)).payload == message.payload

    now = T0 + timedelta(days=91)
    report = await prune(store, RETENTION, now=now, actor=ACTOR)
    assert report.counts["messages"] == 1 and report.counts["events"] == 1
    after = await reread(store, message)
    assert after.payload == b"" and after.pruned_at == now
    assert after.status == "delivered" and after.control_id == message.control_id
    [attempt] = await store.list_attempts(message.id)
    assert attempt.ack_bytes is None and attempt.ack_code == "AA"
    event = await store.get_event(message.event_id)
    assert event is not None and event.pruned_at == now and event.payload == {}
    assert event.zd_number == "ZD100000001"


async def test_pending_and_held_messages_are_never_pruned(store: Store) -> None:
    pending = [await stored(store, s) for s in ("queued", "sending", "retrying", "held")]
    report = await prune(store, RETENTION, now=T0 + timedelta(days=3650), actor=ACTOR)
    assert report.counts["messages"] == 0 and report.counts["events"] == 0
    for message in pending:
        assert (await reread(store, message)).pruned_at is None


async def test_a_message_with_a_resend_in_delivery_is_kept_until_that_one_is_done(
    store: Store,
) -> None:
    original = await stored(store, "delivered")
    child = await resent(store, original, "queued")
    far = T0 + timedelta(days=365)
    await prune(store, RETENTION, now=far, actor=ACTOR)
    assert (await reread(store, original)).pruned_at is None
    await store.set_status(child.id, "delivered")
    report = await prune(store, RETENTION, now=far, actor=ACTOR)
    assert report.counts["messages"] == 2  # the original and its resend
    assert (await reread(store, original)).pruned_at == far


async def test_a_chains_first_message_is_kept_while_a_resend_of_its_resend_is_in_delivery(
    store: Store,
) -> None:
    """Only direct resends were asked: the original of a chain A -> R1 (dead) -> R2 (queued)
    lost its payload while R2 was still owed, though the chain is read from A."""
    original = await stored(store, "delivered")
    middle = await resent(store, original, "dead")
    last = await resent(store, middle, "queued")
    far = T0 + timedelta(days=365)
    await prune(store, RETENTION, now=far, actor=ACTOR)
    assert (await reread(store, original)).pruned_at is None
    assert (await reread(store, original)).payload == original.payload
    await store.set_status(last.id, "delivered")
    await prune(store, RETENTION, now=far, actor=ACTOR)
    assert (await reread(store, original)).pruned_at == far


async def test_an_event_goes_only_when_all_its_messages_went(store: Store) -> None:
    event = make_event()
    done, waiting = make_message(), make_message(destination_id="ziekenhuis-zuid")
    assert await store.accept_event(event, [done, waiting])
    await store.set_status(done.id, "delivered")
    await store.set_status(waiting.id, "held")
    unrouted = make_event()
    assert await store.accept_event(unrouted, [])
    keep_unrouted = dataclasses.replace(RETENTION, unrouted_days=0)
    report = await prune(store, keep_unrouted, now=T0 + timedelta(days=400), actor=ACTOR)
    assert report.counts == {
        "messages": 1,
        "dead_letters": 0,
        "events": 0,
        "unrouted": 0,
        "rejected": 0,
        "jobs": 0,
        "confirmations": 0,
        "searches": 0,
        "answers": 0,
        "idempotency_keys": 0,
        "sessions": 0,
        "audit": 0,
    }
    for event_id in (event.id, unrouted.id):
        kept = await store.get_event(event_id)
        assert kept is not None and kept.pruned_at is None and kept.payload != {}


async def test_an_unrouted_event_loses_its_payload_after_its_own_period(store: Store) -> None:
    """An event no destination served waited to be routed for ever, with the patient's name,
    BSN and letter: it goes by ``unrouted_days``, counted from its arrival, and leaves the
    unrouted list (nothing left to route). One routed meanwhile is an event like any other."""
    waiting, routed_later = make_event(), make_event()
    for event in (waiting, routed_later):
        assert await store.accept_event(event, [])
    await store.add_messages(routed_later.id, [make_message()])
    assert await store.count_unrouted_events() == {waiting.provider_id: 1}
    early = await prune(store, RETENTION, now=T0 + timedelta(days=89), actor=ACTOR)
    assert early.counts["unrouted"] == 0

    dry = await prune(store, RETENTION, now=T0 + timedelta(days=91), actor=ACTOR, dry_run=True)
    real = await prune(store, RETENTION, now=T0 + timedelta(days=91), actor=ACTOR)
    assert dry.counts["unrouted"] == real.counts["unrouted"] == 1
    gone = await store.get_event(waiting.id)
    assert gone is not None and gone.payload == {} and gone.pruned_at == T0 + timedelta(days=91)
    assert (gone.zd_number, gone.provider_id) == (waiting.zd_number, waiting.provider_id)
    assert await store.count_unrouted_events() == {}
    kept = await store.get_event(routed_later.id)
    assert kept is not None and kept.pruned_at is None and kept.payload != {}
    [entry] = await store.list_audit(AuditFilter(action=PRUNE_ACTION), limit=1)
    assert entry.details["counts"]["unrouted"] == 1
    assert entry.details["retention"]["unrouted_days"] == 90


async def test_dead_letters_go_only_when_resolved_plus_the_period(store: Store) -> None:
    unresolved = await stored(store, "dead")
    resolved = await stored(store, "dead")
    await resent(store, resolved, "delivered")  # delivered at about T0
    report = await prune(store, RETENTION, now=T0 + timedelta(days=31), actor=ACTOR)
    assert report.counts["dead_letters"] == 1
    assert (await reread(store, resolved)).pruned_at is not None
    assert (await reread(store, unresolved)).pruned_at is None
    later = await prune(store, RETENTION, now=T0 + timedelta(days=3650), actor=ACTOR)
    assert later.counts["dead_letters"] == 0
    assert (await reread(store, unresolved)).payload != b""


async def test_rejected_input_is_deleted_after_its_period(store: Store) -> None:
    await store.reject_event(b'{"bad": 1}', "http", [{"field": "x", "error": "missing"}])
    assert (await prune(store, RETENTION, now=T0 + timedelta(days=29), actor=ACTOR)).counts[
        "rejected"
    ] == 0
    report = await prune(store, RETENTION, now=T0 + timedelta(days=31), actor=ACTOR)
    assert report.counts["rejected"] == 1
    assert await store.list_rejected() == []


async def test_zero_days_keeps_that_kind_for_ever(store: Store) -> None:
    message = await stored(store, "delivered")
    await store.reject_event(b"x", "cli", [{"field": "x", "error": "bad"}])
    keep = Retention(payload_days=0, dead_letter_days=0, rejected_days=0, unrouted_days=0)
    report = await prune(store, keep, now=T0 + timedelta(days=10000), actor=ACTOR)
    assert report.total == 0
    assert (await reread(store, message)).pruned_at is None
    assert len(await store.list_rejected()) == 1


async def test_the_dry_run_makes_the_same_decision_and_changes_nothing(store: Store) -> None:
    for _ in range(3):
        await stored(store, "delivered")
    await stored(store, "queued")
    dead = await stored(store, "dead")
    await resent(store, dead, "delivered")
    await store.reject_event(b"x", "cli", [{"field": "x", "error": "bad"}])
    audit_before = await store.count_audit()
    now = T0 + timedelta(days=100)

    dry = await prune(store, RETENTION, now=now, actor=ACTOR, dry_run=True, batch=2)
    assert await store.count_pruned() == {"messages": 0, "events": 0}
    assert await store.count_audit() == audit_before
    assert len(await store.list_rejected()) == 1

    real = await prune(store, RETENTION, now=now, actor=ACTOR, batch=2)
    assert (
        real.counts
        == dry.counts
        == {
            "messages": 4,  # three deliveries and the resend that resolved the dead letter
            "dead_letters": 1,
            "events": 4,  # the queued message's event stays
            "unrouted": 0,
            "rejected": 1,
            "jobs": 0,
            "confirmations": 0,
            "searches": 0,
            "answers": 0,
            "idempotency_keys": 0,
            "sessions": 0,
            "audit": 0,
        }
    )


async def test_a_run_is_audited_at_its_start_and_end_and_the_chain_still_verifies(
    store: Store,
) -> None:
    for _ in range(5):
        await stored(store, "delivered")
    before = await store.count_audit()
    progress: list[tuple[int, int]] = []
    report = await prune(
        store,
        RETENTION,
        now=T0 + timedelta(days=100),
        actor=ACTOR,
        batch=2,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert report.counts["messages"] == 5
    assert await store.count_audit() == before + 2
    entry, start = await store.list_audit(limit=2)  # newest first
    assert start.action == START_ACTION and start.actor == ACTOR
    assert start.details["candidates"] == 10  # five messages, five events
    assert entry.action == PRUNE_ACTION and entry.actor == ACTOR
    assert entry.details["counts"]["messages"] == 5
    assert (await store.verify_audit()).intact
    assert progress[-1][0] == progress[-1][1] == 10  # five messages, five events
    assert len(progress) > 2  # batches of two


async def test_space_is_given_back(store: Store) -> None:
    for _ in range(3):
        await stored(store, "delivered")
    report = await prune(store, RETENTION, now=T0 + timedelta(days=100), actor=ACTOR)
    if store.backend == "sqlite":
        assert report.space == "incremental_vacuum"
    else:
        assert report.space is not None and "autovacuum" in report.space


def test_a_negative_period_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="dead_letter_days"):
        Retention(dead_letter_days=-1)


async def test_a_pruned_message_is_not_resent_saying_why(store: Store) -> None:
    message = await stored(store, "delivered")
    await prune(store, RETENTION, now=T0 + timedelta(days=100), actor=ACTOR)
    pruned = await reread(store, message)
    for mode in ("original", "remap"):
        [result] = await resend(
            store, [pruned], ResendRequest("GP called", "anna", mode=mode), SameBytes()
        )
        assert result.message is None
        assert result.note is not None and "pruned on 2027-02-28" in result.note


async def test_a_discarded_dead_letter_goes_after_the_dead_letter_period(store: Store) -> None:
    discarded = await stored(store, "dead")
    await store.set_status(discarded.id, "cancelled")  # as deadletter discard leaves it
    delivered = await stored(store, "delivered")
    report = await prune(store, RETENTION, now=T0 + timedelta(days=31), actor=ACTOR)
    assert report.counts["dead_letters"] == 1 and report.counts["messages"] == 0
    assert (await reread(store, discarded)).pruned_at is not None
    assert (await reread(store, delivered)).pruned_at is None


async def test_finished_jobs_go_after_the_payload_period_running_ones_stay(store: Store) -> None:
    for job_id, state in (("job-done", "done"), ("job-running", "running")):
        await store.add_job(job_id, kind="resend", total=1, clusters=frozenset({None}), now=T0)
        if state != "running":
            await store.finish_job(
                job_id, state=state, done=1, results=[{"outcome": "resent"}], error=None, now=T0
            )
    early = await prune(store, RETENTION, now=T0 + timedelta(days=89), actor=ACTOR)
    assert early.counts["jobs"] == 0
    report = await prune(store, RETENTION, now=T0 + timedelta(days=91), actor=ACTOR)
    assert report.counts["jobs"] == 1
    assert await store.get_job("job-done") is None
    assert await store.get_job("job-running") is not None


async def test_a_run_cancelled_between_batches_audits_what_it_pruned(store: Store) -> None:
    """The engine's daily run (``DailyPrune.tick`` calls ``prune``) is cancelled when the
    engine stops: the batches already committed are still audited, marked stopped."""
    messages = [await stored(store, "delivered") for _ in range(6)]
    task: asyncio.Task[object] | None = None

    def cancel_after_three(done: int, total: int) -> None:
        if done == 3 and task is not None:
            task.cancel()  # lands at the next batch's first query

    task = asyncio.create_task(
        prune(
            store,
            RETENTION,
            now=T0 + timedelta(days=100),
            actor=ACTOR,
            batch=1,
            progress=cancel_after_three,
            audit_empty=False,
        )
    )
    with pytest.raises(asyncio.CancelledError):
        await task

    pruned = [m for m in messages if (await reread(store, m)).pruned_at is not None]
    assert len(pruned) == 3
    [entry] = await store.list_audit(limit=1)
    assert entry.action == PRUNE_ACTION and entry.details["stopped"] is True
    assert entry.details["counts"]["messages"] == 3
    again = await prune(store, RETENTION, now=T0 + timedelta(days=100), actor=ACTOR)
    assert again.counts["messages"] == 3 and not again.stopped


async def test_a_run_asked_to_stop_ends_after_its_batch_and_says_so(store: Store) -> None:
    for _ in range(4):
        await stored(store, "delivered")
    seen: list[int] = []

    report = await prune(
        store,
        RETENTION,
        now=T0 + timedelta(days=100),
        actor=ACTOR,
        batch=1,
        progress=lambda done, total: seen.append(done),
        stop=lambda: len(seen) >= 2,
    )

    assert report.stopped and report.counts["messages"] == 2 and report.space is None
    [entry] = await store.list_audit(limit=1)
    assert entry.details["stopped"] is True and entry.details["counts"] == report.counts
    assert report.to_json()["stopped"] is True


async def test_a_reader_keeping_the_checkpoint_short_is_said_and_the_next_run_finishes_it(
    tmp_path: Path,
) -> None:
    """The pruned values stay in a SQLite store's files while a reader (a backup, an export)
    holds an older snapshot: the run says so (``old_pages_left``), and a run after the reader
    ended, with nothing left to prune, copies the pages back: it ran no checkpoint before."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = await Store.open(url, clock=StepClock())
    reader = sqlite3.connect(tmp_path / "store.db")
    try:
        marker = b"ZZMARKERPAYLOAD" * 40
        message = await stored(store, "delivered", payload=marker)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM messages").fetchone()  # a snapshot, held
        first = await prune(store, RETENTION, now=T0 + timedelta(days=100), actor=ACTOR)
        assert first.counts["messages"] == 1 and first.old_pages_left
        reader.rollback()
        second = await prune(store, RETENTION, now=T0 + timedelta(days=100), actor=ACTOR)
        assert second.total == 0 and not second.old_pages_left
        files = [tmp_path / "store.db", tmp_path / "store.db-wal"]
        assert marker[:30] not in b"".join(f.read_bytes() for f in files if f.exists())
        assert (await reread(store, message)).pruned_at is not None
    finally:
        reader.close()
        await store.close()
