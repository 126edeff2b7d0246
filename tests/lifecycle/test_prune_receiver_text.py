"""Retention takes the receiver's words with the payload: errors keep only the engine's own;
the audit trail, which outlives retention, never takes them.

A negative ACK's MSA-3 / ERR text is stored in ``messages.last_error`` and ``attempts.error``,
and a receiver may name the patient there. Pruning empties the payload and the ACK bytes; these
tests check, on both stores, plain and sealed, that the same prune cuts those errors to
``short_reason``'s form (``ACK AR (receiver's text withheld)``), that the raw rows hold no trace
of the text, that an error of the engine's own is kept whole, and that a message not yet due
keeps everything.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from deadletter import discard
from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import Retention
from integrator.presenters import attempt_history, message_summary
from integrator.store import AttemptRecord, AuditFilter, MessageRecord, Store
from integrator.store.codec import attempt_identity
from integrator.store.sealing import DataKey, Sealer, aad, sealed_kid
from integrator.store.tables import attempts, messages
from tests.store.conftest import Site
from tests.store.factories import T0, make_event, make_message
from tests.store.helpers import raw_connection

RETENTION = Retention(payload_days=90, dead_letter_days=30, rejected_days=30)
ACTOR = "local:tester"

BSN = "999990019"
NAME = "van der Berg"
SAID = f"Patient J. {NAME} (BSN {BSN}) onbekend: 207 Application internal error"
REFUSED = "ConnectFailed: cannot connect to his.example:2575: ConnectionRefusedError: refused"
GAVE_UP = "; gave up after 3 attempts (max_attempts 3)"

KEY1 = DataKey("kid1", os.urandom(32))
KEY2 = DataKey("kid2", os.urandom(32))


def attempt(
    message_id: str, number: int, outcome: str, code: str | None, error: str | None
) -> AttemptRecord:
    return AttemptRecord(
        message_id=message_id,
        number=number,
        started_at=T0 + timedelta(seconds=number),
        duration_ms=3.0,
        outcome=outcome,
        ack_code=code,
        ack_bytes=None if code is None else f"MSH|^~\\&|HIS\rMSA|{code}|x|{SAID}\r".encode(),
        error=error,
    )


async def delivered_after_a_negative_ack(store: Store) -> MessageRecord:
    """Delivered at the second try: the first ACK's text stays in that attempt's error."""
    message = make_message()
    assert await store.accept_event(make_event(), [message])
    first = attempt(message.id, 1, "retry", "AE", f"ACK AE: {SAID}")
    await store.record_attempt(first, status="retrying", next_attempt_at=T0, last_error=first.error)
    await store.record_attempt(attempt(message.id, 2, "delivered", "AA", None), status="delivered")
    found = await store.get_message(message.id)
    assert found is not None
    return found


async def discarded_dead_letter(store: Store) -> MessageRecord:
    """A refused connection, then a rejection the engine gave up on; discarded since."""
    message = make_message()
    assert await store.accept_event(make_event(), [message])
    await store.record_attempt(
        attempt(message.id, 1, "failed", None, REFUSED),
        status="retrying",
        next_attempt_at=T0,
        last_error=REFUSED,
    )
    last = attempt(message.id, 2, "deadletter", "AR", f"ACK AR: {SAID}{GAVE_UP}")
    await store.record_attempt(last, status="dead", last_error=last.error)
    await store.set_status(message.id, "cancelled", last_error=last.error)  # as discard keeps it
    found = await store.get_message(message.id)
    assert found is not None and found.last_error == f"ACK AR: {SAID}{GAVE_UP}"
    return found


async def raw_rows(site: Site, message_id: str) -> list[dict[str, Any]]:
    """The message's row and its attempts' rows, every column, as the database holds them."""
    async with raw_connection(site) as conn:
        rows = [
            dict(row._mapping)
            for table, key in ((messages, messages.c.id), (attempts, attempts.c.message_id))
            for row in await conn.execute(select(table).where(key == message_id))
        ]
    assert len(rows) >= 2
    return rows


def holds_receiver_text(rows: list[dict[str, Any]]) -> bool:
    for row in rows:
        for value in row.values():
            if isinstance(value, bytes | bytearray | memoryview):
                value = bytes(value).decode("utf-8", "replace")
            if isinstance(value, str) and (BSN in value or NAME in value or "onbekend" in value):
                return True
    return False


async def errors(store: Store, message: MessageRecord) -> tuple[str | None, list[str | None]]:
    found = await store.get_message(message.id)
    assert found is not None
    return found.last_error, [a.error for a in await store.list_attempts(message.id)]


async def test_a_pruned_delivered_message_keeps_no_receiver_text(site: Site, store: Store) -> None:
    message = await delivered_after_a_negative_ack(store)
    assert holds_receiver_text(await raw_rows(site, message.id))

    early = await prune(store, RETENTION, now=T0 + timedelta(days=89), actor=ACTOR)
    assert early.total == 0
    assert (await errors(store, message))[1][0] == f"ACK AE: {SAID}"  # not due: kept whole

    report = await prune(store, RETENTION, now=T0 + timedelta(days=91), actor=ACTOR)
    assert report.counts["messages"] == 1
    last_error, attempt_errors = await errors(store, message)
    assert last_error is None  # delivered: the store cleared it then
    assert attempt_errors == ["ACK AE (receiver's text withheld)", None]
    assert not holds_receiver_text(await raw_rows(site, message.id))
    [first, second] = await store.list_attempts(message.id)
    assert (first.ack_code, first.outcome, second.ack_code) == ("AE", "retry", "AA")


async def test_a_pruned_dead_letter_keeps_the_engine_s_words_only(site: Site, store: Store) -> None:
    message = await discarded_dead_letter(store)
    waiting = await discarded_dead_letter(store)
    await store.set_status(waiting.id, "dead", last_error=waiting.last_error)  # open: never due

    report = await prune(store, RETENTION, now=T0 + timedelta(days=31), actor=ACTOR)
    assert report.counts["dead_letters"] == 1

    short = f"ACK AR (receiver's text withheld){GAVE_UP}"
    assert await errors(store, message) == (short, [REFUSED, short])
    assert not holds_receiver_text(await raw_rows(site, message.id))
    async with raw_connection(site) as conn:  # a plain store holds the short form as it is
        stored = (
            await conn.execute(select(messages.c.last_error).where(messages.c.id == message.id))
        ).scalar_one()
    assert stored == short

    # Every front door shows the cut form, and still sees where the message died.
    pruned = await store.get_message(message.id)
    assert pruned is not None and pruned.pruned_at is not None
    assert message_summary(pruned, receiver_text=True)["last_error"] == short
    history = attempt_history(pruned, await store.list_attempts(message.id), receiver_text=True)
    assert [(a["outcome"], a["error"]) for a in history] == [
        ("failed", REFUSED),
        ("deadletter", short),
    ]

    assert await errors(store, waiting) == (
        f"ACK AR: {SAID}{GAVE_UP}",
        [REFUSED, f"ACK AR: {SAID}{GAVE_UP}"],
    )
    assert holds_receiver_text(await raw_rows(site, waiting.id))


async def test_a_second_prune_leaves_a_cut_error_as_it_is(store: Store) -> None:
    message = await discarded_dead_letter(store)
    now = T0 + timedelta(days=31)
    await prune(store, RETENTION, now=now, actor=ACTOR)
    before = await errors(store, message)
    assert await store.prune_messages([message.id], now) == 0  # already pruned: untouched
    assert await errors(store, message) == before


async def test_a_sealed_store_gets_the_cut_errors_sealed_with_the_current_key(site: Site) -> None:
    first = await site.open(sealer=Sealer([KEY1]))
    try:
        delivered = await delivered_after_a_negative_ack(first)
        dead = await discarded_dead_letter(first)
    finally:
        await first.close()
    both = await site.open(sealer=Sealer([KEY2, KEY1]))  # mid-rotation: kid2 seals new values
    try:
        report = await prune(both, RETENTION, now=T0 + timedelta(days=91), actor=ACTOR)
        assert report.counts["messages"] == 1 and report.counts["dead_letters"] == 1
        short = f"ACK AR (receiver's text withheld){GAVE_UP}"
        assert await errors(both, dead) == (short, [REFUSED, short])
        assert await errors(both, delivered) == (None, ["ACK AE (receiver's text withheld)", None])
    finally:
        await both.close()

    async with raw_connection(site) as conn:
        last_error = (
            await conn.execute(select(messages.c.last_error).where(messages.c.id == dead.id))
        ).scalar_one()
        attempt_rows = (
            await conn.execute(
                select(attempts.c.message_id, attempts.c.number, attempts.c.error)
                .where(attempts.c.message_id.in_([dead.id, delivered.id]))
                .order_by(attempts.c.id)
            )
        ).all()
    assert sealed_kid(last_error) == "kid2"  # cut and sealed again, as the codec writes
    kids = {(row.message_id, row.number): sealed_kid(row.error) for row in attempt_rows}
    assert kids == {
        (delivered.id, 1): "kid2",  # cut
        (delivered.id, 2): None,  # no error at all
        (dead.id, 1): "kid1",  # the engine's own words: untouched
        (dead.id, 2): "kid2",  # cut
    }
    opener = Sealer([KEY2])
    cut = opener.open_text(
        next(r.error for r in attempt_rows if (r.message_id, r.number) == (dead.id, 2)),
        aad("attempts", "error", attempt_identity(dead.id, 2)),
    )
    assert cut == short
    for message in (delivered, dead):
        assert not holds_receiver_text(await raw_rows(site, message.id))


async def test_a_discard_s_audit_entry_keeps_no_receiver_text(store: Store) -> None:
    """The audit trail outlives retention, is never sealed and never rewritten: a discard's
    entry says why the letter died in the engine's words only, from the start."""
    message = make_message()
    assert await store.accept_event(make_event(), [message])
    last = attempt(message.id, 1, "deadletter", "AR", f"ACK AR: {SAID}{GAVE_UP}")
    await store.record_attempt(last, status="dead", last_error=last.error)

    await discard(store, message.id, actor=ACTOR, reason="sent by fax instead")

    [entry] = await store.list_audit(AuditFilter(action="deadletter.discard"))
    assert entry.details["last_error"] == f"ACK AR (receiver's text withheld){GAVE_UP}"
    said = json.dumps(entry.details)
    assert BSN not in said and NAME not in said and "onbekend" not in said
