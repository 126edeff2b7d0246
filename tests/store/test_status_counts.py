"""``Store.counts_by_status``: each listed destination's messages by status in one statement,
the same counts ``Store.count_by_status`` gives one destination at a time (on both backends),
for the destinations listing."""

from __future__ import annotations

from integrator.store import Store
from tests.store.factories import make_event, make_message
from tests.store.helpers import statements_sent


async def test_each_destination_counted_as_one_destination_is(store: Store) -> None:
    assert await store.counts_by_status([]) == {}
    for destination_id, status in [
        ("noord", "delivered"),
        ("noord", "delivered"),
        ("noord", "retrying"),
        ("noord", "held"),
        ("zuid", "dead"),
        ("west", "queued"),  # not asked for: never counted
    ]:
        message = make_message(destination_id=destination_id)
        await store.accept_event(make_event(), [message])
        await store.set_status(message.id, status)

    ids = ["noord", "zuid", "nowhere"]
    counts = await store.counts_by_status(ids)
    assert list(counts) == ids
    for destination_id in ids:
        assert counts[destination_id] == await store.count_by_status(destination_id)
    assert counts["noord"]["delivered"] == 2 and counts["noord"]["held"] == 1
    assert counts["nowhere"] == await store.count_by_status("nowhere")  # every status, zero
    assert set(counts["nowhere"].values()) == {0}


async def test_one_statement_for_all_the_destinations(store: Store) -> None:
    with statements_sent(store) as statements:
        await store.counts_by_status([f"d{n:03}" for n in range(600)])  # past SQLite's 500 terms
    assert len([sql for sql, _ in statements if "messages" in sql]) == 1
