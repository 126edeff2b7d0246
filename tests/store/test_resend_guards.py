"""``Store.add_resends``' guards: asked at the commit, after every other resend transaction
has committed, so two stores (two processes) resending one message on "no resend yet" make
one resend between them, and the other is left out with the guard's why."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from integrator.store import MessageRecord, NewResend, ResendRecord, Store
from tests.store.conftest import Site
from tests.store.factories import make_event, make_message

ROUNDS = 4
"""Originals raced for, each by both stores at once: the race shows in each round it can."""


def none_yet(made: Sequence[ResendRecord]) -> str | None:
    return "resent since" if made else None


async def _delivered(store: Store) -> MessageRecord:
    message = make_message()
    assert await store.accept_event(make_event(), [message])
    await store.set_status(message.id, "delivered")
    found = await store.get_message(message.id)
    assert found is not None
    return found


def _resend(original: MessageRecord, actor: str) -> NewResend:
    copy = dataclasses.replace(make_message(), resend_of=original.id)
    return NewResend(original, copy, "original", actor, "the GP called")


async def test_two_stores_resending_on_none_yet_make_one(site: Site) -> None:
    first, second = await site.open(), await site.open()
    try:
        originals = [await _delivered(first) for _ in range(ROUNDS)]
        answers = await asyncio.gather(
            *(
                store.add_resends([_resend(o, actor)], guards={o.id: none_yet})
                for o in originals
                for store, actor in ((first, "sam"), (second, "anna"))
            )
        )
        made = [(await first.list_resends(o.id))[1] for o in originals]
    finally:
        await first.close()
        await second.close()

    assert [len(m) for m in made] == [1] * ROUNDS
    left_out = [a for a in answers if a]
    assert sorted(left_out, key=str) == sorted(({o.id: "resent since"} for o in originals), key=str)


async def test_a_guard_sees_the_resends_as_listed_and_is_asked_for_its_original_only(
    store: Store,
) -> None:
    original, other = await _delivered(store), await _delivered(store)
    await store.add_resends([_resend(original, "sam")])
    asked: list[list[str]] = []

    def newest_is_sams(made: Sequence[ResendRecord]) -> str | None:
        asked.append([r.actor for r in made])
        return None

    left_out = await store.add_resends(
        [_resend(original, "anna"), _resend(other, "anna")],
        guards={original.id: newest_is_sams},
    )
    assert left_out == {} and asked == [["sam"]]
    assert [r.actor for r in (await store.list_resends(original.id))[1]] == ["sam", "anna"]
