"""Variants of one measurement, each in a child process of its own, alternated round by round
(A B, then B A, ...), so that a machine growing slower or faster during the run weighs on each
variant alike: what every ``--variant`` script here compares (``sqlite_settings.py``,
``bench_message_indexes.py``). Nothing is imported from the engine: the children do that.
``timed_alternately`` does the same within one process, for ways of one call on one store
(``bench_listing_last_attempts.py``, ``bench_listing_destinations.py``)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any


def alternated(
    script: str,
    variants: Sequence[str],
    *,
    rounds: int,
    events: int,
    label: Callable[[str], str],
) -> dict[str, list[dict[str, Any]]]:
    """Each variant's results, one per round: ``script --child VARIANT --events N`` run in a
    process of its own, whose last line of output is one JSON object; printed as it comes."""
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for round_ in range(rounds):
        order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
        for variant in order:
            out = subprocess.run(
                [sys.executable, script, "--child", variant, "--events", str(events)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs[variant].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {round_ + 1} [{label(variant)}] {runs[variant][-1]}", flush=True)
    return runs


async def timed_alternately(
    ways: Mapping[str, Callable[[str], Awaitable[object]]], rounds: int
) -> dict[str, float]:
    """Each way's median time in ms, its call timed once a round, the order reversed every
    other round (A B, then B A, ...) so that all meet the same machine."""
    times: dict[str, list[float]] = {way: [] for way in ways}
    for round_ in range(rounds):
        order = list(ways) if round_ % 2 == 0 else list(reversed(list(ways)))
        for way in order:
            start = time.perf_counter()
            await ways[way](way)
            times[way].append(time.perf_counter() - start)
    return {way: statistics.median(t) * 1000 for way, t in times.items()}
