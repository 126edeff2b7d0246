"""Dead letters selected on when they died (``list_dead_letters(died_since=, died_until=)``), on
both backends: the message's last change of status, not its creation time."""

from __future__ import annotations

from datetime import timedelta

from deadletter import list_dead_letters
from integrator.store import Store
from tests.store.factories import T0, StepClock, make_event, make_message


async def test_dead_letters_are_selected_on_when_they_died(store: Store, clock: StepClock) -> None:
    made = [make_message() for _ in range(3)]
    assert await store.accept_event(make_event(), made)  # all made at about T0
    for hours, message in enumerate(made, start=1):
        clock.now = T0 + timedelta(hours=hours)
        await store.set_status(message.id, "dead", last_error="AR from the receiver")
    first, second, third = (m.id for m in made)
    died = {x.message.id: x.message.updated_at for x in await list_dead_letters(store)}
    at = died[second]
    assert at - died[first] > timedelta(minutes=59)

    since = await list_dead_letters(store, died_since=at)
    until = await list_dead_letters(store, died_until=at)
    both = await list_dead_letters(store, died_since=at, died_until=at + timedelta(seconds=1))
    assert [x.message.id for x in since] == [third, second]  # newest first
    assert [x.message.id for x in until] == [first]  # until is exclusive
    assert [x.message.id for x in both] == [second]
    # On the creation time, all three are in a period around T0: that is not what is asked.
    made_then = await list_dead_letters(store, died_until=T0 + timedelta(minutes=30))
    assert made_then == []
