"""``Store.counts_by_status``: each listed destination's messages by status in one statement,
the same counts ``Store.count_by_status`` gives one destination at a time (on both backends),
for the destinations listing."""

from __future__ import annotations

from typing import Final

from integrator.store import PENDING_STATUSES, MessageStatus, Store
from tests.store.conftest import Site
from tests.store.factories import make_event, make_message
from tests.store.helpers import (
    plan_of,
    rows_read,
    statements_sent,
    two_destinations_history,
)

HISTORY: Final = 2000
WAITING: Final = (*PENDING_STATUSES, MessageStatus.HELD)


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


async def test_only_the_statuses_asked_for_are_counted_and_keyed(store: Store) -> None:
    for status in ("delivered", "delivered", "held", "retrying", "queued"):
        message = make_message(destination_id="noord")
        await store.accept_event(make_event(), [message])
        await store.set_status(message.id, status)
    asked = [MessageStatus.QUEUED, MessageStatus.RETRYING, MessageStatus.HELD]
    counts = await store.counts_by_status(["noord", "nowhere"], asked)
    assert counts == {
        "noord": {"queued": 1, "retrying": 1, "held": 1},
        "nowhere": {"queued": 0, "retrying": 0, "held": 0},
    }
    assert await store.counts_by_status(["noord"], []) == {"noord": {}}


async def test_the_waiting_are_counted_from_their_own_index_entries(
    store: Store, site: Site
) -> None:
    """What the dashboard asks every 5 s: the waiting and held messages of each destination,
    found in the ``(destination_id, status, seq)`` index by status, so a year of delivered
    history is not read to count the few that wait."""
    await two_destinations_history(
        store, lambda n: "retrying" if n % 100 == 0 else "delivered", HISTORY
    )

    with statements_sent(store) as statements:
        counts = await store.counts_by_status(["noord", "zuid"], WAITING)
    assert counts["noord"]["retrying"] == HISTORY // 100  # every 100th is even: noord's
    [statement] = statements
    plan = await plan_of(store, statement)
    if site.backend == "sqlite":
        assert "(destination_id=? AND status=?)" in plan, plan
        return
    read = rows_read(plan, "messages")
    assert read == HISTORY // 100, read  # the retrying only, none of the delivered
