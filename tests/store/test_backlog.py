"""``Store.backlog``: what waits or is held per destination, asked at every scrape of
``/metrics``, at an engine's start and by the listings (stranded messages). It read the dead
messages' rows too, which no caller used (the dead letters gauge is the open dead letters'):
30,000 rows at every scrape of a store with a million messages."""

from __future__ import annotations

from typing import Final

from integrator.store import Store
from tests.store.conftest import Site
from tests.store.helpers import plan_of, rows_read, statements_sent, two_destinations_history

HISTORY: Final = 2000


def _status(n: int) -> str:
    if n % 100 == 0:
        return "retrying"
    if n % 100 == 1:
        return "held"
    return "dead" if n % 4 == 2 else "delivered"


async def test_the_backlog_counts_what_waits_and_reads_no_dead_message(
    store: Store, site: Site
) -> None:
    made = await two_destinations_history(store, _status, HISTORY)

    with statements_sent(store) as statements:
        backlog = await store.backlog()
    # Every 100th retrying (even: noord's), the one after it held (odd: zuid's).
    assert {(b.destination_id, b.status, b.count) for b in backlog} == {
        ("noord", "retrying", HISTORY // 100),
        ("zuid", "held", HISTORY // 100),
    }
    oldest = {b.status: b.oldest for b in backlog}
    firsts = await store.get_messages([made[0].id, made[1].id])
    assert sorted(oldest.values()) == sorted(m.created_at for m in firsts)
    if site.backend == "postgresql":
        [statement] = statements
        read = rows_read(await plan_of(store, statement), "messages")
        assert read == 2 * HISTORY // 100, read  # the unfinished only: no dead, no delivered
