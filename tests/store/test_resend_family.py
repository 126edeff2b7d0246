"""Resend families on both backends: the links, and the rules that read them."""

from __future__ import annotations

import pytest

from deadletter import (
    NotADeadLetter,
    ResendRefused,
    ResendRequest,
    UnknownMessageId,
    get_dead_letter,
    list_dead_letters,
    resend,
    select_dead_letters,
    select_for_resend,
)
from integrator.store import MessageFilter, MessageRecord, NewMessage, Store
from tests.store.factories import make_event, make_message


class SameBytes:
    """Every destination exists; remap is not needed."""

    def is_configured(self, destination_id: str) -> bool:
        return True

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        return make_message(destination_id=destination_id)


async def stored(store: Store, status: str, **event: object) -> MessageRecord:
    message = make_message()
    assert await store.accept_event(make_event(**event), [message])
    await store.set_status(message.id, status)
    found = await store.get_message(message.id)
    assert found is not None
    return found


async def resent(
    store: Store, message: MessageRecord, status: str, *, to: str | None = None
) -> MessageRecord:
    """A resend of ``message`` (by id, so always made), moved to ``status``."""
    [result] = await resend(store, [message], ResendRequest("why", "anna", to=to), SameBytes())
    assert result.message is not None
    await store.set_status(result.message.id, status)
    found = await store.get_message(result.message.id)
    assert found is not None
    return found


async def test_a_family_is_found_from_any_member_oldest_first(store: Store) -> None:
    original = await stored(store, "dead")
    first = await resent(store, original, "dead")
    second = await resent(store, original, "queued")
    grandchild = await resent(store, first, "delivered")
    unrelated = await stored(store, "dead")
    family = [original.id, first.id, second.id, grandchild.id]
    for member in family:
        assert [link.id for link in await store.resend_family([member])] == family
    links = await store.resend_family([grandchild.id, unrelated.id])
    assert [link.id for link in links] == [
        original.id,
        first.id,
        second.id,
        grandchild.id,
        unrelated.id,
    ]
    assert (links[3].resend_of, links[3].status) == (first.id, "delivered")
    assert await store.resend_family([]) == []
    assert await store.resend_family(["nope"]) == []


async def test_resolved_means_a_later_member_was_delivered(store: Store) -> None:
    # Delivered, resent, the resend died: the earlier delivery does not resolve it.
    delivered = await stored(store, "delivered")
    died = await resent(store, delivered, "dead")
    assert (await get_dead_letter(store, died.id)).resolution.state == "open"
    # Dead, resent twice: the second resend (a sibling of the first) resolves both.
    original = await stored(store, "dead")
    first = await resent(store, original, "dead")
    resolution = (await get_dead_letter(store, original.id)).resolution
    assert resolution.state == "open"  # its resend died too
    assert resolution.latest_resend is not None and resolution.latest_resend.id == first.id
    second = await resent(store, original, "retrying")
    assert (await get_dead_letter(store, first.id)).resolution.state == "resending"
    await store.set_status(second.id, "delivered")
    for dead in (original, first):
        resolution = (await get_dead_letter(store, dead.id)).resolution
        assert (resolution.state, resolution.resolved_by) == ("resolved", second.id)
    assert [x.message.id for x in await list_dead_letters(store)] == [died.id]
    everything = await list_dead_letters(store, include_resolved=True)
    assert {x.message.id for x in everything} == {died.id, original.id, first.id}


async def test_a_limit_counts_unresolved_letters_not_the_resolved_ones_read(
    store: Store,
) -> None:
    older = await stored(store, "dead")
    newer = await stored(store, "dead")
    await resent(store, newer, "delivered")
    [shown] = await list_dead_letters(store, limit=1)
    assert shown.message.id == older.id


async def test_a_broad_filter_sees_a_live_resend_of_a_resend(store: Store) -> None:
    original = await stored(store, "dead", zd_number="ZD800000001")
    first = await resent(store, original, "dead")
    await resent(store, first, "retrying")  # a resend of the resend is still under way
    cancelled = await stored(store, "dead", zd_number="ZD800000002")
    await resent(store, cancelled, "cancelled")  # a cancelled resend does not count
    request = ResendRequest("HIS back", "bart")
    broad = await select_for_resend(store, flt=MessageFilter(status="dead"))
    assert [m.id for m in broad] == [original.id, cancelled.id] and not broad.named
    results = await resend(store, broad, request, SameBytes(), dry_run=True)
    assert [r.goes_out for r in results] == [False, True]
    assert results[0].note is not None and "(retrying)" in results[0].note
    # A dry run wrote nothing; named by ZD number the first is resent anyway.
    assert len(await store.resend_family([original.id])) == 3
    named = await select_for_resend(store, flt=MessageFilter(zd_number="ZD800000001"))
    assert named.named == {original.id}
    [result] = await resend(store, named, request, SameBytes())
    assert result.resent


async def test_deadletter_all_takes_the_latest_open_letter_of_a_family(store: Store) -> None:
    original = await stored(store, "dead")
    first = await resent(store, original, "dead")
    settled = await stored(store, "dead")
    await resent(store, settled, "delivered")
    selection = await select_dead_letters(store, every=True)
    assert [m.id for m in selection] == [first.id]
    assert [x.message.id for x in selection.left_out] == [original.id]
    # Named, a letter is selected whatever its family.
    named = await select_dead_letters(store, message_ids=[original.id, settled.id])
    assert [m.id for m in named] == [original.id, settled.id] and named.left_out == ()


async def test_dead_letters_picked_from_a_stale_listing_are_not_resent_again(
    store: Store,
) -> None:
    """The console's ticks are a broad selection: what a first resend settled or set on its
    way is not sent again by the same page posted a second time."""
    open_one = await stored(store, "dead")
    on_its_way = await stored(store, "dead")
    await resent(store, on_its_way, "queued")
    settled = await stored(store, "dead")
    settled_by = await resent(store, settled, "delivered")
    discarded = await stored(store, "cancelled")
    original = await stored(store, "dead")
    first = await resent(store, original, "dead")
    picked = [m.id for m in (open_one, on_its_way, settled, discarded, original, first)]

    selection = await select_dead_letters(store, picked=picked)
    assert not selection.named
    assert [m.id for m in selection] == [open_one.id, on_its_way.id, first.id]
    notes = {x.message.id: x.note for x in selection.left_out}
    assert notes.keys() == {settled.id, discarded.id, original.id}
    assert f"its resend {settled_by.id} was delivered" in notes[settled.id]
    assert "discarded since" in notes[discarded.id]
    assert f"later resend {first.id}" in notes[original.id]

    results = await resend(store, selection, ResendRequest("HIS back", "bart"), SameBytes())
    assert [(r.original.id, r.resent) for r in results] == [
        (open_one.id, True),
        (on_its_way.id, False),
        (first.id, True),
    ]
    assert results[1].note is not None and "already resent" in results[1].note
    # Posted again: everything it sent is on its way now, so nothing goes out twice.
    again = await resend(
        store,
        await select_dead_letters(store, picked=picked),
        ResendRequest("x", "bart"),
        SameBytes(),
    )
    assert not any(r.resent for r in again)


async def test_a_picked_id_that_is_no_dead_letter_refuses_the_request(store: Store) -> None:
    delivered = await stored(store, "delivered")
    with pytest.raises(NotADeadLetter):
        await select_dead_letters(store, picked=[delivered.id])
    with pytest.raises(UnknownMessageId):
        await select_dead_letters(store, picked=["0" * 32])
    with pytest.raises(ResendRefused):
        await select_dead_letters(store, picked=[delivered.id], every=True)


async def test_a_broad_filter_does_not_send_again_what_was_sent_on_to_another_destination(
    store: Store,
) -> None:
    """A dead letter sent on to another hospital (a remap to ``zuid``) and delivered there was
    sent to its own destination again by a broad resend of that destination's dead messages:
    the same referral in two hospitals. A broad filter skips it, naming where it went; named,
    it goes."""
    original = await stored(store, "dead", zd_number="ZD800000003")
    on_to_zuid = await resent(store, original, "delivered", to="zuid")
    request = ResendRequest("HIS back", "bart")
    broad = await select_for_resend(
        store, flt=MessageFilter(status="dead", destination_id=original.destination_id)
    )
    assert [m.id for m in broad] == [original.id] and not broad.named
    [skipped] = await resend(store, broad, request, SameBytes())
    assert not skipped.resent and skipped.note is not None
    assert skipped.note.code == "resend.skip.resent_elsewhere"  # type: ignore[attr-defined]
    assert f"already resent to zuid as {on_to_zuid.id} (delivered)" in skipped.note
    assert len(await store.resend_family([original.id])) == 2  # nothing was added
    named = await select_for_resend(store, message_ids=[original.id])
    [result] = await resend(store, named, request, SameBytes())
    assert result.resent and result.destination_id == original.destination_id
