"""Held messages are released in place: new bytes and version, status queued, same control id."""

from __future__ import annotations

from integrator.store import Store
from tests.store.factories import make_event, make_message


async def test_release_held_gives_bytes_and_queues_it(store: Store) -> None:
    held = make_message(status="held", payload=b"", version="ref-v1", warnings=("held: why",))
    await store.accept_event(make_event(), [held])
    released = await store.release_held(
        held.id,
        version="ref-v2",
        message_type="REF^I12^REF_I12",
        payload=b"MSH|x",
        warnings=("released",),
    )
    assert released
    record = await store.get_message(held.id)
    assert record is not None
    assert (record.status, record.version, record.payload) == ("queued", "ref-v2", b"MSH|x")
    assert record.message_type == "REF^I12^REF_I12"
    assert record.control_id == held.control_id
    assert record.warnings == ("released",)
    assert [m.id for m in await store.pending_messages()] == [held.id]


async def test_release_held_leaves_other_statuses_alone(store: Store) -> None:
    queued = make_message(payload=b"MSH|orig")
    await store.accept_event(make_event(), [queued])
    released = await store.release_held(
        queued.id, version="ref-v2", message_type="REF^I12^REF_I12", payload=b"MSH|new"
    )
    assert not released
    record = await store.get_message(queued.id)
    assert record is not None and record.payload == b"MSH|orig"


async def test_a_note_on_a_held_message_is_added_once_and_to_nothing_else(store: Store) -> None:
    held = make_message(status="held", payload=b"", warnings=("held: why",))
    queued = make_message(payload=b"MSH|orig")
    await store.accept_event(make_event(), [held, queued])
    assert await store.note_held(held.id, "not released: why not")
    assert not await store.note_held(held.id, "not released: why not")  # said already
    assert not await store.note_held(queued.id, "not released: why not")  # not held
    assert not await store.note_held("no-such-message", "not released: why not")
    found = {m.id: m for m in await store.get_messages([held.id, queued.id])}
    kept, untouched = found[held.id], found[queued.id]
    assert kept.warnings == ("held: why", "not released: why not")
    assert untouched.warnings == queued.warnings and untouched.status == "queued"
