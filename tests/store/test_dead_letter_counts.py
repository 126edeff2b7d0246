"""The count of open dead letters narrows by when they died, as the listing does, so a page
that shows part of them can say of how many (the console's dead-letter page)."""

from __future__ import annotations

from deadletter import count_open_dead_letters, list_dead_letters
from integrator.store import Store
from tests.store.factories import StepClock, make_event, make_message


async def _dead(store: Store, destination_id: str) -> str:
    message = make_message(destination_id=destination_id)
    await store.accept_event(make_event(), [message])
    await store.set_status(message.id, "dead", last_error="AR")
    return message.id


async def test_the_count_takes_the_period_the_listing_takes(store: Store, clock: StepClock) -> None:
    await _dead(store, "noord")
    middle = clock()  # after the first died, before the others
    await _dead(store, "noord")
    await _dead(store, "zuid")
    assert await count_open_dead_letters(store) == {"noord": 2, "zuid": 1}
    later = await count_open_dead_letters(store, died_since=middle)
    assert later == {"noord": 1, "zuid": 1}
    assert await count_open_dead_letters(store, died_until=middle) == {"noord": 1}
    listed = await list_dead_letters(store, died_since=middle)
    assert len(listed) == sum(later.values())
