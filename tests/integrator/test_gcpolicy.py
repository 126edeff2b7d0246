"""The engine process's collector settings (why: integrator/gcpolicy.py).

The check runs in a fresh interpreter: the settings are global to a process, and in a test
worker that has run a thousand tests first, the full collections the check makes walked a heap
big enough to take tens of seconds on a loaded machine (and the freeze would have touched every
later test in that worker).
"""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc
from integrator.gcpolicy import YOUNG_THRESHOLD, tune_for_service

long_lived = [object() for _ in range(10)], {"start-up": "state"}
tune_for_service()
assert gc.get_freeze_count() > 0, "nothing frozen"
assert gc.get_threshold()[0] == YOUNG_THRESHOLD > 700, gc.get_threshold()  # CPython's is 700
assert gc.is_tracked(long_lived)
# Cycles made after start-up are still collected.
cycle: list[object] = []
cycle.append(cycle)
del cycle
assert gc.collect() >= 1, "a cycle made after start-up was not collected"
print("checked")
"""


def test_start_up_objects_are_frozen_and_young_collections_rarer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "checked"
