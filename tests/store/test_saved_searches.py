"""Saved searches in the store: owned by one person, named once per person, capped per person,
and never reachable through another person's id."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from integrator.store import Conflict, NewInvitation, Store
from tests.store.factories import StepClock


async def _person(store: Store, clock: StepClock, person_id: str) -> str:
    now = clock()
    await store.add_person(
        person_id,
        email=f"{person_id}@example.nl",
        name=person_id,
        grant_specs=[("viewer", None)],
        invitation=NewInvitation(
            id=f"inv-{person_id}",
            token_hash=person_id.ljust(64, "0"),
            created_by="local:piet",
            created_at=now,
            expires_at=now + timedelta(days=7),
        ),
    )
    return person_id


async def test_saved_searches_are_kept_listed_by_name_and_deleted(
    store: Store, clock: StepClock
) -> None:
    anna = await _person(store, clock, "anna")
    terms = {"destination": "noord", "status": "dead", "since": "2026-11-01"}
    assert await store.add_saved_search(
        "s-2", person_id=anna, name="Zuid dood", terms={"status": "dead"}, now=clock(), most=5
    )
    assert await store.add_saved_search(
        "s-1", person_id=anna, name="Noord dood", terms=terms, now=clock(), most=5
    )

    listed = await store.list_saved_searches(anna)
    assert [(s.id, s.name) for s in listed] == [("s-1", "Noord dood"), ("s-2", "Zuid dood")]
    assert listed[0].terms == terms and listed[0].person_id == anna
    assert listed[0].created_at.tzinfo is not None
    assert await store.get_saved_search(anna, "s-1") == listed[0]

    assert await store.delete_saved_search(anna, "s-1")
    assert not await store.delete_saved_search(anna, "s-1")
    assert [s.id for s in await store.list_saved_searches(anna)] == ["s-2"]


async def test_another_person_can_neither_read_nor_delete_them(
    store: Store, clock: StepClock
) -> None:
    anna = await _person(store, clock, "anna")
    bert = await _person(store, clock, "bert")
    await store.add_saved_search("s-1", person_id=anna, name="mine", terms={}, now=clock(), most=5)

    assert await store.list_saved_searches(bert) == []
    assert await store.get_saved_search(bert, "s-1") is None
    assert not await store.delete_saved_search(bert, "s-1")
    assert [s.id for s in await store.list_saved_searches(anna)] == ["s-1"]


async def test_a_name_is_unique_per_person_only(store: Store, clock: StepClock) -> None:
    anna = await _person(store, clock, "anna")
    bert = await _person(store, clock, "bert")
    await store.add_saved_search("s-1", person_id=anna, name="dead", terms={}, now=clock(), most=5)
    with pytest.raises(Conflict):
        await store.add_saved_search(
            "s-2", person_id=anna, name="dead", terms={}, now=clock(), most=5
        )
    assert await store.add_saved_search(
        "s-3", person_id=bert, name="dead", terms={}, now=clock(), most=5
    )
    assert [s.id for s in await store.list_saved_searches(anna)] == ["s-1"]


async def test_the_most_a_person_may_keep_holds_also_when_raced(
    store: Store, clock: StepClock
) -> None:
    anna = await _person(store, clock, "anna")
    await store.add_saved_search("s-0", person_id=anna, name="n0", terms={}, now=clock(), most=3)
    results = await asyncio.gather(
        *(
            store.add_saved_search(
                f"s-{i}", person_id=anna, name=f"n{i}", terms={}, now=clock(), most=3
            )
            for i in range(1, 6)
        )
    )
    assert sorted(results) == [False, False, False, True, True]
    assert len(await store.list_saved_searches(anna)) == 3
