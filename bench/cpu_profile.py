"""Run ``python -m integrator ARGS`` under cProfile with a CPU-time clock; write the stats.

    python bench/cpu_profile.py OUT run --no-http

cProfile's default clock is the wall clock: on a shared machine every wait for a CPU is then
charged to whatever function was running. ``time.process_time`` charges only this process's CPU.
The stats are written when the command returns (SIGTERM stops ``integrator run`` cleanly).
"""

from __future__ import annotations

import cProfile
import os
import sys
import time


def main() -> None:
    out, *args = sys.argv[1:]
    sys.argv = ["integrator", *args]
    sys.path.insert(0, os.getcwd())  # as ``python -m integrator`` has it
    from integrator.cli import main as cli

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        cli()
    except SystemExit:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
