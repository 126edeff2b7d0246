"""Where the latency of a paced RabbitMQ + PostgreSQL run goes, stage by stage.

    .venv/bin/python bench/latency_stages.py                          # 850 events/s, 10 s
    .venv/bin/python bench/latency_stages.py --rate 600 --runs 3

Issue 15 asks for a p99 from event accepted to ACK below 50 ms on RabbitMQ + PostgreSQL at half
the maximum rate, and, where a target is missed, for where the time goes. A CPU profile cannot
say it: at half the rate the engine mostly waits. So this runs ``scenarios.py rabbitmq`` paced,
with ``bench/probes`` first on the engines' ``PYTHONPATH``: its ``sitecustomize`` marks, in the
``integrator run`` process only, when each message passed each stage:

| stage | marked when |
|---|---|
| prepared | intake validated and mapped its event (the event's ``received_at``) |
| committing | its batch's ``accept_events`` began (after the rest of the batch was prepared) |
| committed | that transaction returned |
| publishing | its publish to the delivery queue began |
| consumed | the broker delivered it to the destination's consumer |
| handed out | a delivery worker took it (its attempt starts now) |

(``confirmed``, the publisher confirm, is printed apart: the broker delivers a quorum queue's
message once it is committed in the queue, which is also when it confirms, so the consumer
often has it before the confirm is read.) Each row gives p50, p90 and p99 of the gap from the
stage before, over every message; the last row the whole way from prepared to handed out. The
scenario's own p50/p99 (to the end of the attempt) are printed beside it.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ("prepared", "committing", "committed", "publishing", "consumed", "handed out")


def read_marks(directory: Path) -> dict[str, dict[str, float]]:
    """Every message's first mark of each stage, over the engine processes' files."""
    marks: dict[str, dict[str, float]] = collections.defaultdict(dict)
    for path in directory.glob("stages-*.jsonl"):
        for line in path.read_text().splitlines():
            stage, message_id, at = json.loads(line)
            marks[message_id].setdefault(stage, at)
    return marks


def spread(gaps: list[float]) -> str:
    """p50, p90 and p99 of gaps in seconds, as milliseconds."""
    ordered = sorted(gaps)
    p = [statistics.median(ordered), ordered[int(len(ordered) * 0.9)]]
    p.append(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])
    return " | ".join(f"{x * 1000:.1f}" for x in p)


def table(marks: dict[str, dict[str, float]]) -> list[str]:
    whole = [m for m in marks.values() if all(s in m for s in STAGES)]
    rows = [
        f"messages marked at every stage: {len(whole)} of {len(marks)}",
        "",
        "| from | to | p50 ms | p90 ms | p99 ms |",
        "|---|---|---:|---:|---:|",
    ]
    if not whole:
        return rows
    for before, after in itertools.pairwise(STAGES):
        rows.append(f"| {before} | {after} | {spread([m[after] - m[before] for m in whole])} |")
    confirmed = [m["confirmed"] - m["publishing"] for m in whole if "confirmed" in m]
    if confirmed:
        rows.append(f"| publishing | confirmed (apart) | {spread(confirmed)} |")
    rows.append(
        f"| prepared | handed out | {spread([m['handed out'] - m['prepared'] for m in whole])} |"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--destinations", type=int, default=10)
    parser.add_argument("--rate", type=float, default=850.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import scenarios

    from integrator import eventloop

    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="stages-") as tmp:
            os.environ["BENCH_STAGES_DIR"] = tmp
            os.environ["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(HERE / "probes"), os.environ.get("PYTHONPATH")) if p
            )
            events = int(args.rate * args.seconds)
            result = eventloop.run(
                scenarios.rabbitmq(events, args.destinations, 1, args.rate, None, None)
            )
            print(
                f"run {run}: {args.rate:.0f} events/s for {args.seconds:.0f} s, "
                f"{args.destinations} destinations; accepted -> ACK p50 "
                f"{result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms "
                f"(to the wire p99 {result['p99_to_wire_ms']:.1f}, "
                f"the exchange p99 {result['p99_exchange_ms']:.1f})"
            )
            print("\n".join(table(read_marks(Path(tmp)))), end="\n\n")


if __name__ == "__main__":
    main()
