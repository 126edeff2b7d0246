"""CPU per event of intake's preparation (validate, route, serialise, hash, map) of a revision
against the working tree, as intake runs it on a burst.

    .venv/bin/python bench/bench_prepare.py HEAD                      # 8 rounds, 1 destination
    .venv/bin/python bench/bench_prepare.py HEAD --destinations 10    # 10 messages per event
    .venv/bin/python bench/bench_prepare.py HEAD~1 --b HEAD

End to end, a few per cent of intake's CPU are below what a burst on a shared machine tells
apart (an A/A run of ``compare.py`` spreads ±8 %); this measures only the step that changed. A
process runs its revision's own ``Intake._prepare_here`` on batches of 200 copies of the sample
referral (``bench/common.make_events``), as ``submit_many`` hands them over, with no store: every
event is valid, so none is kept as rejected. It reports the median CPU microseconds per event
(``time.process_time``) of several passes. As ``bench/compare.py`` (the loop is
``bench/ab.py``'s): REV is checked out into a temporary git worktree, A and B alternate, each in
its own process, and the table gives the median of the per-round ratios with their spread; a
ratio above 1 means B takes less CPU per event.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import functools
import json
import statistics
import time
from pathlib import Path
from typing import Any, cast

import ab

HERE = Path(__file__).resolve().parent
BATCH = 200
MEASURES = [
    ("best_us", "CPU µs per event, best pass"),
    ("median_us", "CPU µs per event, median pass"),
]


def child(events: int, destinations: int, passes: int) -> None:
    """Runs in the measured revision's process: one JSON line of µs per event."""
    from common import make_events

    import integrator
    from destinations.config import destination_from_mapping
    from integrator.catalog import build_catalog
    from integrator.clock import SystemClock
    from integrator.intake import Intake
    from integrator.settings import Settings
    from integrator.store import Store

    today = datetime.date.today()
    configs = [
        destination_from_mapping(
            {
                "id": f"dest-{i}",
                "name": f"Destination {i}",
                "providers": ["provider-0"],
                "host": "127.0.0.1",
                "port": 1,
                "messages": {"referral": "ref-v2"},
            },
            source=f"dest-{i}.yaml",
        )
        for i in range(destinations)
    ]
    intake = Intake(
        store=cast(Store, None),  # never used: no event is refused
        transport=None,
        catalog=build_catalog(((f"{c.id}.yaml", c) for c in configs), today=today),
        settings=Settings(database_url="sqlite:///unused.db", search_key="k" * 43),
        clock=SystemClock(),
    )
    raws: list[bytes | str | dict[str, Any]] = list(make_events(events, ["provider-0"]))
    batches = [raws[start : start + BATCH] for start in range(0, len(raws), BATCH)]
    born_by = today + datetime.timedelta(days=1)

    async def one_pass() -> float:
        start = time.process_time()
        for batch in batches:
            await intake._prepare_here(batch, "cli", None, born_by, None)
        return (time.process_time() - start) / events * 1e6

    async def measure() -> list[float]:
        await one_pass()  # warm up: caches, the allocator, the mappings' templates
        return [await one_pass() for _ in range(passes)]

    per_pass = asyncio.run(measure())
    source = str(Path(integrator.__file__).resolve().parent.parent)
    result = {"source": source, "best_us": min(per_pass), "median_us": statistics.median(per_pass)}
    print(json.dumps(result))


def run_one(source: Path, events: int, destinations: int, passes: int) -> dict[str, Any]:
    args = ["--child", "--events", str(events), "--destinations", str(destinations)]
    args += ["--passes", str(passes)]
    return ab.run_json([str(Path(__file__).resolve()), *args], source, name="the prepare bench")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("rev", nargs="?", help="the revision to compare with (A)")
    parser.add_argument("--b", metavar="REV_B", help="B instead of the working tree")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--events", type=int, default=4000, help="events per pass")
    parser.add_argument("--destinations", type=int, default=1, help="messages per event")
    parser.add_argument("--passes", type=int, default=7, help="passes per process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.events, options.destinations, options.passes)
        return 0
    if not options.rev:
        parser.error("REV is required")

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    run = functools.partial(
        run_one,
        events=options.events,
        destinations=options.destinations,
        passes=options.passes,
    )
    with ab.sides(options.rev, options.b, prefix="bench-prepare-") as (old, new):
        for n in range(options.rounds):
            got = ab.alternate(n, old, new, run)
            pairs.append(got)
            print(f"round {n + 1}: {got[0]['best_us']:.1f} -> {got[1]['best_us']:.1f} µs")
    detail = f"{options.destinations} destination(s), {options.events} events a pass"
    print(ab.heading(options.rev, options.b, options.rounds, detail))
    print("\n".join(ab.lower_is_better_table(pairs, MEASURES, digits=1)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
