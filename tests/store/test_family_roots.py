"""The resolved rule in SQL (``integrator.store.families``) says what ``deadletter.family`` says.

The dead letters page, the dashboard's figures, the metric and ``deadletter resend --all`` ask
the store for the open dead letters only; the rule that decides what a single letter shows
(open, being resent, resolved) stays in Python. Both are compared here on families grown at
random, on both backends, so the two can never disagree on which letters need support.
"""

from __future__ import annotations

import random
from collections import Counter

from deadletter import (
    ResendRequest,
    count_open_dead_letters,
    list_dead_letters,
    resend,
    select_dead_letters,
)
from deadletter.family import Families
from integrator.store import MessageFilter, MessageRecord, NewMessage, Store
from tests.store.factories import make_event, make_message

DESTINATIONS = ("noord", "zuid")
STATUSES = ("queued", "retrying", "held", "delivered", "dead", "cancelled")
ENDED = ("dead", "delivered")


class SameBytes:
    """Every destination exists; the resend is a new message to the one asked."""

    def is_configured(self, destination_id: str) -> bool:
        return True

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        return make_message(destination_id=destination_id)


async def _original(store: Store, destination_id: str, status: str) -> str:
    message = make_message(destination_id=destination_id)
    assert await store.accept_event(make_event(), [message])
    await store.set_status(message.id, status)
    return message.id


async def _resend(store: Store, of: str, to: str, status: str) -> str:
    original = await store.get_message(of)
    assert original is not None
    [made] = await resend(store, [original], ResendRequest("HIS back", "anna", to=to), SameBytes())
    assert made.message is not None
    await store.set_status(made.message.id, status)
    return made.message.id


async def test_the_store_and_the_family_rule_agree_on_random_families(store: Store) -> None:
    pick = random.Random(15)
    finished: list[str] = []  # what may be resent: a message still in delivery is refused
    for _ in range(8):
        finished.append(await _original(store, pick.choice(DESTINATIONS), pick.choice(ENDED)))
    for _ in range(40):  # resends of resends, siblings, to either destination
        status = pick.choice(STATUSES)
        made = await _resend(store, pick.choice(finished), pick.choice(DESTINATIONS), status)
        if status in ENDED:
            finished.append(made)
    records = {m.id: m for m in await store.list_messages(MessageFilter(), limit=1000)}
    families = await Families.load(store, list(records))
    dead = [m for m in records.values() if m.status == "dead"]
    open_ids = {m.id for m in dead if families.resolution(m.id).state != "resolved"}
    assert 0 < len(open_ids) < len(dead)  # the families hold both kinds, so both are told apart
    deep = [m for m in records.values() if m.resend_of and records[m.resend_of].resend_of]
    assert deep, "some resend is a resend of a resend"

    listed = await store.list_messages(
        MessageFilter(status="dead", unresolved_only=True), limit=1000
    )
    assert {m.id for m in listed} == open_ids
    assert {x.message.id for x in await list_dead_letters(store, limit=1000)} == open_ids
    expected = Counter(records[i].destination_id for i in open_ids)
    assert await count_open_dead_letters(store) == dict(expected)


async def test_open_dead_letters_are_found_past_any_number_of_resolved_ones(
    store: Store,
) -> None:
    """``deadletter resend --all`` once read every dead message, resolved ones too, and refused
    as "too many" once the history held more than a batch, with none of them open."""
    for _ in range(3):
        settled = await _original(store, "noord", "dead")
        await _resend(store, settled, "noord", "delivered")
    still_open = await _original(store, "noord", "dead")
    selection = await select_dead_letters(store, every=True, limit=2)
    assert [m.id for m in selection] == [still_open]
    by_destination = await select_dead_letters(store, destination_id="noord", limit=1)
    assert [m.id for m in by_destination] == [still_open]
    [shown] = await list_dead_letters(store, limit=1)
    assert shown.message.id == still_open
    assert await count_open_dead_letters(store) == {"noord": 1}


async def test_a_resend_of_a_resend_shares_the_first_messages_root(store: Store) -> None:
    original = await _original(store, "noord", "dead")
    first = await _resend(store, original, "noord", "dead")
    second = await _resend(store, first, "zuid", "dead")
    links = await store.resend_family([second])
    assert [link.id for link in links] == [original, first, second]
    # Delivered two generations down, it resolves the whole line above it, on both sides.
    third = await _resend(store, second, "noord", "delivered")
    assert await count_open_dead_letters(store) == {}
    assert third not in {m.id for m in await store.list_messages(MessageFilter(), limit=10)} - {
        original,
        first,
        second,
        third,
    }
