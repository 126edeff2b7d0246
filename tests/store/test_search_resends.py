"""Support searches (BSN hash, type, period) and resends as linked rows, on both backends."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import text

from deadletter import (
    MissingReason,
    NoSelector,
    ReasonTooLong,
    ResendRefused,
    ResendRequest,
    UnknownMessageId,
    resend,
    select_for_resend,
)
from integrator.store import (
    RESEND_ACTION,
    Conflict,
    MessageFilter,
    MessageRecord,
    NewMessage,
    NewResend,
    Store,
    bsn_hash,
)
from tests.store.conftest import Site
from tests.store.factories import T0, StepClock, make_event, make_message, new_id
from tests.store.helpers import raw_connection

KEY = b"a-test-key-of-sufficient-length"
BSN = "999990019"


class SameBytes:
    """A renderer for store-level tests: every destination exists; remap is not needed."""

    def is_configured(self, destination_id: str) -> bool:
        return destination_id != "gone"

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        return make_message(destination_id=destination_id, version="ref-v2")


async def delivered(store: Store, **event: object) -> MessageRecord:
    message = make_message()
    assert await store.accept_event(make_event(**event), [message])
    await store.set_status(message.id, "delivered")
    found = await store.get_message(message.id)
    assert found is not None
    return found


async def test_bsn_search_finds_by_keyed_hash_which_is_not_the_bsn(
    store: Store, site: Site
) -> None:
    mine = await delivered(store, bsn_hash=bsn_hash(BSN, KEY))
    await delivered(store, bsn_hash=bsn_hash("999990020", KEY))
    await delivered(store)  # no BSN
    found = await store.list_messages(MessageFilter(bsn_hash=bsn_hash(BSN, KEY)))
    assert [m.id for m in found] == [mine.id]
    assert len(bsn_hash(BSN, KEY)) == 64 and BSN not in bsn_hash(BSN, KEY)
    async with raw_connection(site) as conn:
        stored = (await conn.execute(text("SELECT bsn_hash FROM events"))).scalars().all()
    assert BSN not in " ".join(h or "" for h in stored)


async def test_bsn_hash_with_another_key_finds_nothing(store: Store) -> None:
    await delivered(store, bsn_hash=bsn_hash(BSN, KEY))
    assert await store.list_messages(MessageFilter(bsn_hash=bsn_hash(BSN, b"x" * 16))) == []


async def test_filters_by_event_type_period_and_originals(store: Store, clock: StepClock) -> None:
    referral = await delivered(store)
    order = await delivered(store, type="diagnostic_request")
    found = await store.list_messages(MessageFilter(event_type="diagnostic_request"))
    assert [m.id for m in found] == [order.id]
    later = await store.list_messages(MessageFilter(since=order.created_at))
    assert [m.id for m in later] == [order.id]
    earlier = await store.list_messages(MessageFilter(until=order.created_at))
    assert [m.id for m in earlier] == [referral.id]
    assert await store.list_messages(MessageFilter(since=T0 + timedelta(days=1))) == []
    statuses = await store.list_messages(MessageFilter(statuses=("dead", "cancelled")))
    assert statuses == []


async def test_original_mode_repeats_the_control_id_only_for_a_resend(store: Store) -> None:
    original = await delivered(store)
    copy = NewMessage(
        id=new_id(),
        destination_id=original.destination_id,
        version=original.version,
        message_type=original.message_type,
        control_id=original.control_id,
        payload=original.payload,
        resend_of=original.id,
    )
    await store.add_resends([NewResend(original, copy, "original", "anna", "GP called")])
    again = await store.get_message(copy.id)
    assert again is not None and again.resend_of == original.id
    assert again.control_id == original.control_id and again.status == "queued"
    not_a_resend = make_message(control_id=original.control_id)
    with pytest.raises(Conflict):
        await store.add_messages(original.event_id, [not_a_resend])
    origin, children = await store.list_resends(copy.id)
    assert origin is not None and origin.original_id == original.id and children == []
    origin, children = await store.list_resends(original.id)
    assert origin is None
    assert [(c.message_id, c.actor, c.reason, c.mode) for c in children] == [
        (copy.id, "anna", "GP called", "original")
    ]
    [entry] = await store.list_audit(target=original.id)
    assert (entry.action, entry.actor, entry.reason) == (RESEND_ACTION, "anna", "GP called")
    assert entry.details["resend_id"] == copy.id and entry.details["mode"] == "original"
    assert (await store.verify_audit()).intact
    unchanged = await store.get_message(original.id)
    assert unchanged is not None and unchanged.status == "delivered"


async def test_a_resend_must_name_its_original() -> None:
    original = dataclasses.replace(await _record(), id="x")
    with pytest.raises(ValueError, match="resend_of"):
        NewResend(original, make_message(), "original", "a", "r")
    with pytest.raises(ValueError, match="sideways"):
        NewResend(original, make_message(resend_of="x"), "sideways", "a", "r")


async def _record() -> MessageRecord:
    m = make_message()
    return MessageRecord(
        id=m.id,
        seq=1,
        event_id=new_id(),
        destination_id=m.destination_id,
        version=m.version,
        message_type=m.message_type,
        control_id=m.control_id,
        payload=m.payload,
        status="delivered",
        attempt_count=1,
        created_at=T0,
        updated_at=T0,
        next_attempt_at=None,
        last_error=None,
        warnings=(),
        is_test=False,
        zd_number="ZD1",
        event_type="referral",
    )


async def test_a_batch_of_a_thousand_with_progress(store: Store) -> None:
    batch = [(make_event(zd_number="ZD200000001"), [make_message()]) for _ in range(1000)]
    assert all(await store.accept_events(batch))
    for _, [m] in batch:
        await store.set_status(m.id, "dead")
    originals = await select_for_resend(
        store, flt=MessageFilter(zd_number="ZD200000001", status="dead")
    )
    assert len(originals) == 1000
    seen: list[int] = []
    results = await resend(
        store,
        originals,
        ResendRequest(reason="receiver was down", actor="bart"),
        SameBytes(),
        progress=seen.append,
    )
    assert seen == [200, 400, 600, 800, 1000]
    assert all(r.resent for r in results)
    queued = await store.list_messages(MessageFilter(status="queued"), limit=2000)
    assert len(queued) == 1000 and all(m.resend_of for m in queued)
    audit = await store.list_audit(limit=2000)
    assert len([a for a in audit if a.action == RESEND_ACTION]) == 1000
    check = await store.verify_audit()
    assert check.intact and check.checked == len(audit)
    # A second batch over the same filter selects the originals only, not the resends.
    again = await select_for_resend(store, flt=MessageFilter(zd_number="ZD200000001"))
    assert {m.id for m in again} == {m.id for m in originals}


async def test_pending_and_held_messages_are_skipped_with_a_note(store: Store) -> None:
    queued = make_message()
    held = make_message(status="held", payload=b"")
    await store.accept_event(make_event(), [queued, held])
    originals = await select_for_resend(store, message_ids=[queued.id, held.id])
    results = await resend(store, originals, ResendRequest("why", "me"), SameBytes())
    assert [r.resent for r in results] == [False, False]
    assert results[0].note is not None and "still being delivered" in results[0].note
    assert results[1].note is not None and results[1].note.startswith("held")


async def test_bad_requests_are_refused_before_anything_is_written(store: Store) -> None:
    original = await delivered(store)
    with pytest.raises(NoSelector):
        await select_for_resend(store)
    with pytest.raises(UnknownMessageId, match=r"^message_ids: no message has one of these ids$"):
        await select_for_resend(store, message_ids=["nope"])
    with pytest.raises(MissingReason):
        await resend(store, [original], ResendRequest("  ", "me"), SameBytes())
    with pytest.raises(ReasonTooLong, match=r"^reason: at most 1000 characters$"):
        await resend(store, [original], ResendRequest("r" * 1001, "me"), SameBytes())
    with pytest.raises(ResendRefused, match=r"^mode: .*; use mode remap$") as elsewhere:
        await resend(
            store, [original], ResendRequest("r", "me", mode="original", to="lab-west"), SameBytes()
        )
    assert "lab-west" not in str(elsewhere.value) and original.id not in str(elsewhere.value)
    with pytest.raises(ResendRefused, match=r"^to: no configured destination has this id$"):
        await resend(store, [original], ResendRequest("r", "me", to="gone"), SameBytes())
    with pytest.raises(ResendRefused, match=r"^mode: must be original or remap$"):
        await resend(store, [original], ResendRequest("r", "me", mode="sideways"), SameBytes())
    _, children = await store.list_resends(original.id)
    assert children == [] and await store.list_audit() == []


async def test_a_filtered_batch_run_twice_does_not_send_twice(store: Store) -> None:
    original = await delivered(store, zd_number="ZD300000001")
    by_filter = MessageFilter(destination_id=original.destination_id)  # broad: may skip
    request = ResendRequest("GP called", "anna")
    for _ in range(2):
        selected = await select_for_resend(store, flt=by_filter)
        results = await resend(store, selected, request, SameBytes())
    [again] = results
    assert not again.resent and again.note is not None and "already resent" in again.note
    # Named, by id or by its ZD number, it is resent anyway.
    [named] = await resend(store, [original], request, SameBytes())
    by_zd = await select_for_resend(store, flt=MessageFilter(zd_number="ZD300000001"))
    [named_by_zd] = await resend(store, by_zd, request, SameBytes())
    assert named.resent and named_by_zd.resent
    _, children = await store.list_resends(original.id)
    assert len(children) == 3
