"""Variants of one measurement, each in a child process of its own, alternated round by round
(A B, then B A, ...), so that a machine growing slower or faster during the run weighs on each
variant alike: what every ``--variant`` script here compares (``sqlite_settings.py``,
``bench_message_indexes.py``). Nothing is imported from the engine: the children do that."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
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
