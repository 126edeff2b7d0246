"""Dead letters with a resend in a chosen state, made in the store alone (no delivery), for the
tests of what listings say about them."""

from __future__ import annotations

from deadletter import ResendRequest, resend
from integrator.store import MessageRecord, NewMessage, Store
from tests.store.factories import make_event, make_message


class SameDestination:
    """Every destination exists; a resend is a new message to the one asked."""

    def is_configured(self, destination_id: str) -> bool:
        return True

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        return make_message(destination_id=destination_id)


async def dead_letter(
    store: Store, zd_number: str, resent_as: str | None, destination_id: str = "noord"
) -> str:
    """A dead message; with ``resent_as``, resent once and that resend put in that status."""
    message = make_message(destination_id=destination_id)
    assert await store.accept_event(make_event(zd_number=zd_number), [message])
    await store.set_status(message.id, "dead")
    if resent_as is not None:
        original = await store.get_message(message.id)
        assert original is not None
        ask = ResendRequest("GP phoned", "local:test")
        [made] = await resend(store, [original], ask, SameDestination())
        assert made.message is not None
        await store.set_status(made.message.id, resent_as)
    return message.id


STATES = {
    "ZD300000001": None,  # never resent: open
    "ZD300000002": "delivered",  # resolved
    "ZD300000003": "retrying",  # being resent
    "ZD300000004": "dead",  # its resend died too: open
}


async def four_dead_letters(store: Store) -> dict[str, str]:
    """One dead letter per ``STATES`` row; their ids by ZD number."""
    return {zd: await dead_letter(store, zd, resent_as) for zd, resent_as in STATES.items()}
