"""The engine process's collector settings (why: integrator/gcpolicy.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from integrator.gcpolicy import YOUNG_THRESHOLD, tune_for_service


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restore_gc")
def test_start_up_objects_are_frozen_and_young_collections_rarer() -> None:
    long_lived = [object() for _ in range(10)], {"start-up": "state"}
    tune_for_service()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD > 700  # CPython's default is 700
    assert gc.is_tracked(long_lived)
    # Cycles made after start-up are still collected.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
