"""The engine process's collector settings (why: integrator/gcpolicy.py).

The check runs in a fresh interpreter: the settings are global to a process, and in a test
worker that has run a thousand tests first, the full collections the check makes walked a heap
big enough to take tens of seconds on a loaded machine (and the freeze would have touched every
later test in that worker).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


RUN = """
import asyncio, gc, os, signal, sys
from pathlib import Path

from integrator.engine import Engine
from integrator.gcpolicy import YOUNG_THRESHOLD
from integrator.runner import run_engine
from tests.integrator.support import settings_for

tmp = Path(sys.argv[1])
(tmp / "destinations").mkdir()
engine = Engine(settings_for(tmp), http=False)
seen = {}
start = engine.start


async def start_and_stop() -> None:
    # What was frozen when the start began, and what a full collection walks after it.
    seen["frozen at the start"] = gc.get_freeze_count()
    await start()
    seen["tracked after the start"] = len(gc.get_objects())
    os.kill(os.getpid(), signal.SIGTERM)


engine.start = start_and_stop
asyncio.run(run_engine(engine))
assert seen["frozen at the start"] > seen["tracked after the start"], seen
assert gc.get_threshold()[0] == YOUNG_THRESHOLD, gc.get_threshold()
print("checked")
"""


def test_most_of_the_heap_is_frozen_before_the_engine_starts(tmp_path: Path) -> None:
    """The full collection after the start walks only what the start made: made over the whole
    heap, it held the events that came in first (intake and delivery run once the start is
    done) for tens of milliseconds."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("checked"), done.stdout
