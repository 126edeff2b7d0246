"""A resend selection larger than one batch is refused whole, never cut short.

The listing behind it is newest first: cut at the limit, it silently left out the oldest
matches while the resend still reported success for the rest.
"""

from __future__ import annotations

import pytest

from deadletter import TooManyMatches, select_dead_letters, select_for_resend
from integrator.cli.common import terms_rule
from integrator.store import MessageFilter, Store
from tests.store.factories import make_event, make_message


async def _three(store: Store, status: str) -> list[str]:
    ids = []
    for _ in range(3):
        message = make_message(destination_id="noord")
        await store.accept_event(make_event(), [message])
        await store.set_status(message.id, status)
        ids.append(message.id)
    return ids


async def test_a_filter_matching_more_than_the_limit_is_refused_naming_it(store: Store) -> None:
    ids = await _three(store, "delivered")
    flt = MessageFilter(destination_id="noord")
    with pytest.raises(TooManyMatches, match="more than 2 messages") as refused:
        await select_for_resend(store, flt=flt, limit=2)
    assert "narrow it" in str(refused.value)
    assert refused.value.found == 3  # how many it matches, for a page to say (a COUNT)
    resent = make_message(destination_id="noord", resend_of=ids[0])
    await store.accept_event(make_event(), [resent])
    assert await store.count_messages(flt) == 4
    assert (
        await store.count_messages(MessageFilter(destination_id="noord", originals_only=True)) == 3
    )
    exactly = await select_for_resend(store, flt=flt, limit=3)
    assert [m.id for m in exactly] == ids  # at the limit: all of them, oldest first


async def test_every_dead_letter_beyond_the_limit_is_refused_too(store: Store) -> None:
    ids = await _three(store, "dead")
    with pytest.raises(TooManyMatches) as refused:
        await select_dead_letters(store, every=True, limit=2)
    # Resent or discarded, dead letters are narrowed by period and destination only: no
    # status to narrow by (a discard has no such option), nor "resend" for a discard.
    rule = terms_rule(refused.value)
    assert "more than 2 dead letters" in rule, rule
    assert "--since/--until, --destination)" in rule, rule
    assert "status" not in rule and "resend" not in rule, rule
    assert refused.value.code == "resend.too_many_dead"
    with pytest.raises(TooManyMatches):
        await select_dead_letters(store, destination_id="noord", limit=2)
    assert [m.id for m in await select_dead_letters(store, every=True, limit=3)] == ids
