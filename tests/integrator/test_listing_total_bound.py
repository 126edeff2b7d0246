"""A listing whose rows reach the count's bound says a total that is true and of use.

Found by a review: the total was counted no further than ``COUNTED_AT_MOST`` or the rows
known, if more, so ``events list --limit 10000`` on a store of 15,000 events said "10000 of
more than 10001 shown": the count stopped one row past the rows shown. Now a listing whose
rows reach the bound is counted as far again past them (``counted_at_most``). At the
boundary (a limit of bound - 1, bound, bound + 1) on a real SQLite store, with a bound of 5
given to ``listing_total`` rather than 10,000 rows stored; the CLI's ``--csv`` says its total
the same way (``csv_shown``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator import listing_totals
from integrator.cli.common import Shown, csv_shown
from integrator.listing_totals import Total, listing_total
from integrator.store import Store
from integrator.store.records import EventFilter
from tests.store.factories import make_event, make_message

BOUND = 5
NOORD = EventFilter(provider_id="ziekenhuis-noord")  # 8 events
EVERY = EventFilter()  # 12 events


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        for n in range(12):
            provider = "ziekenhuis-noord" if n < 8 else "elders"
            await opened.accept_event(make_event(provider_id=provider), [make_message()])
        yield opened


async def first_page_total(store: Store, flt: EventFilter, limit: int) -> Total:
    """The total said of a listing's first ``limit`` rows, read as a listing reads them."""
    rows = await store.list_events(flt, limit=limit + 1)

    async def count(at_most: int) -> int:
        return await store.count_events(flt, at_most=at_most)

    shown = min(len(rows), limit)
    return await listing_total(count, offset=0, shown=shown, more=len(rows) > limit, bound=BOUND)


@pytest.mark.parametrize(
    ("flt", "limit", "total"),
    [
        (NOORD, BOUND - 1, Total(BOUND, beyond=True)),  # "4 of more than 5"
        (NOORD, BOUND, Total(8)),  # was "5 of more than 6"
        (NOORD, BOUND + 1, Total(8)),  # was "6 of more than 7"
        (EVERY, BOUND - 1, Total(BOUND, beyond=True)),
        (EVERY, BOUND, Total(2 * BOUND, beyond=True)),  # was "5 of more than 6"
        (EVERY, BOUND + 1, Total(2 * BOUND + 1, beyond=True)),  # was "6 of more than 7"
        (EVERY, BOUND + 2, Total(12)),
    ],
)
async def test_a_limit_at_or_past_the_bound_is_counted_as_far_again(
    store: Store, flt: EventFilter, limit: int, total: Total
) -> None:
    assert await first_page_total(store, flt, limit) == total


async def test_a_page_that_deep_is_counted_as_far_past_its_end(store: Store) -> None:
    """The console's pages: the third page of 2 ends at row 6, past a bound of 5."""

    async def count(at_most: int) -> int:
        return await store.count_events(NOORD, at_most=at_most)

    deep = await listing_total(count, offset=4, shown=2, more=True, bound=BOUND)
    assert deep == Total(8)


@pytest.mark.parametrize(
    ("limit", "said"),
    [
        (BOUND - 1, "4 of more than 5 shown"),
        (BOUND, "5 of 8 shown"),  # was "5 of more than 6 shown"
        (BOUND + 1, "6 of 8 shown"),  # was "6 of more than 7 shown"
    ],
)
async def test_a_csv_at_or_past_the_bound_says_its_total_as_the_table_does(
    store: Store, limit: int, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing_totals, "COUNTED_AT_MOST", BOUND)

    async def count(at_most: int) -> int:
        return await store.count_events(NOORD, at_most=at_most)

    shown = await csv_shown(count, limit)
    assert isinstance(shown, Shown) and str(shown) == said
