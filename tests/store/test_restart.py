"""A restart resumes from the store: whatever was owed before is found again."""

from __future__ import annotations

from datetime import timedelta

from integrator.store import AttemptRecord
from tests.store.conftest import Site
from tests.store.factories import T0, make_event, make_message


async def test_pending_messages_survive_close_and_open(site: Site) -> None:
    owed, delivered, retrying = make_message(), make_message(), make_message()
    event = make_event()
    before = await site.open()
    await before.accept_event(event, [owed, delivered, retrying])
    await before.record_attempt(
        AttemptRecord(delivered.id, 1, T0, 3.0, "delivered", ack_code="AA"), status="delivered"
    )
    await before.record_attempt(
        AttemptRecord(retrying.id, 1, T0, 30000.0, "failed", error="ACK timeout"),
        status="retrying",
        next_attempt_at=T0 + timedelta(seconds=2),
    )
    await before.add_audit("ops", "test", "restart")
    await before.close()

    after = await site.open()
    try:
        pending = await after.pending_messages()
        assert [m.id for m in pending] == [owed.id, retrying.id]
        assert pending[1].next_attempt_at == T0 + timedelta(seconds=2)
        assert await after.get_event(event.id) == event
        assert len(await after.list_attempts(retrying.id)) == 1
        assert len(await after.list_audit()) == 1
        # Numbering carries on after the restart.
        later = make_message()
        await after.accept_event(make_event(), [later])
        newest = await after.list_messages(limit=1)
        assert newest[0].id == later.id
        assert newest[0].seq > max(m.seq for m in pending)
    finally:
        await after.close()


async def test_pending_refs_name_what_is_owed_in_order_without_payloads(site: Site) -> None:
    """What a restart queues by: ids, destination, attempt count and stored size, oldest first;
    the payloads stay in the store until the transport loads them by id."""
    small = make_message(destination_id="lab", payload=b"MSH|small\r")
    large = make_message(payload=b"MSH|" + b"x" * 5000 + b"\r")
    delivered, retrying = make_message(), make_message()
    store = await site.open()
    try:
        await store.accept_event(make_event(), [large, delivered])
        await store.accept_event(make_event(), [small, retrying])
        await store.record_attempts(
            [
                (AttemptRecord(delivered.id, 1, T0, 3.0, "delivered"), "delivered", None, None),
                (AttemptRecord(retrying.id, 2, T0, 3.0, "failed"), "retrying", T0, "timeout"),
            ]
        )
        refs = await store.pending_refs()
        full = await store.pending_messages()
        lab = await store.pending_refs("lab")
    finally:
        await store.close()
    assert [r.id for r in refs] == [m.id for m in full] == [large.id, small.id, retrying.id]
    assert [r.destination_id for r in refs] == ["ziekenhuis-noord", "lab", "ziekenhuis-noord"]
    assert [r.attempt_count for r in refs] == [0, 0, 2]
    assert [r.size for r in refs[:2]] == [len(large.payload), len(small.payload)]
    assert [r.id for r in lab] == [small.id]  # one destination's, for a resumed destination
