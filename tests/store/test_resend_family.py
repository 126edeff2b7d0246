"""Resend families on both backends: the links, and the rules that read them."""

from __future__ import annotations

from deadletter import ResendRequest, resend
from integrator.store import MessageRecord, NewMessage, Store
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
