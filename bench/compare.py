"""Compare a revision with the working tree, scenario by scenario, as ratios measured in one run.

Absolute figures on a shared machine drift by 2x from one hour to the next; a ratio of two
runs made side by side does not (much). So each scenario runs for REV and for the working
tree in turn (A B, then B A, ...), several rounds, and the median of the per-round ratios is
reported with their spread.

    .venv/bin/python bench/compare.py 40008a0                 # every scenario, 5 rounds
    .venv/bin/python bench/compare.py 40008a0 --quick         # small runs, 2 rounds (~2 min)
    .venv/bin/python bench/compare.py 40008a0 --only e2e-1 map-pdf --rounds 7

REV is checked out into a temporary git worktree and run with its source first on
``PYTHONPATH``, in this virtualenv (the dependencies are the same); the scenarios themselves
(``bench/scenarios.py``, the ACK-only receiver, the event stream) are always the working tree's.
A ratio above 1 means the working tree is better: faster, or less CPU per event. The loop is
``bench/ab.py``'s, which the other A/B benchmarks share.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ab

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    higher_is_better: bool


@dataclass(frozen=True)
class Scenario:
    name: str
    args: list[str]
    quick_args: list[str]
    metrics: tuple[Metric, ...]
    needs_services: bool = False


_E2E = (
    Metric("delivered_per_s", "delivered/s", True),
    Metric("cpu_us_per_event", "CPU per delivered event", False),
    Metric("ratio_to_bare_1", "delivered/s as a share of 1-connection bare MLLP", True),
)
_RABBITMQ = (
    Metric("delivered_per_s", "delivered/s", True),
    Metric("engine_cpu_us", "engine CPU per event (start-up included)", False),
    Metric("engine_cpu_us_run", "engine CPU per event (from the first event on)", False),
    Metric("database_cpu_us_run", "PostgreSQL CPU per event (its backends for the run)", False),
    Metric("broker_cpu_us_run", "broker CPU per event (shared broker: an upper bound)", False),
    Metric("receivers_cpu_us_run", "receivers' CPU per event", False),
    Metric("system_cpu_us_run", "engine + PostgreSQL + broker + receivers CPU per event", False),
)
_X3 = ("--in-flight", "3")
_HTTP = (
    Metric("accepted_per_s", "events accepted a second (202 answers)", True),
    Metric("delivered_per_s", "delivered/s", True),
    Metric("engine_cpu_us_run", "engine CPU per event", False),
    Metric("post_p50_ms", "p50 of a POST's round trip", False),
    Metric("post_p99_ms", "p99 of a POST's round trip", False),
)
#: What each process spent per event: beside a store in service's figures.
_CPU_BY_PROCESS = (
    Metric("database_cpu_us_run", "PostgreSQL CPU per event", False),
    Metric("engine_cpu_us_run", "engine CPU per event", False),
    Metric("broker_cpu_us_run", "broker CPU per event", False),
)


def in_service(base: Scenario) -> Scenario:
    """``base`` on a store in service: 3,000 events through first (1,000 quick), then the
    database analysed, as autovacuum keeps a store's statistics (the servers here run without
    it; bench/results/perf.md, twenty-third session). Its figures, and each process's CPU."""
    metrics = {m.key: m for m in (*base.metrics, *_CPU_BY_PROCESS)}
    return Scenario(
        f"{base.name}-in-service",
        [*base.args, "--in-service", "3000"],
        [*base.quick_args, "--in-service", "1000"],
        tuple(metrics.values()),
        needs_services=True,
    )


SCENARIOS = [
    Scenario(
        "e2e-1",
        ["e2e", "--destinations", "1", "--events", "5000"],
        ["e2e", "--destinations", "1", "--events", "1500", "--baseline-seconds", "1"],
        _E2E,
    ),
    Scenario(
        "e2e-10",
        ["e2e", "--destinations", "10", "--events", "5000"],
        ["e2e", "--destinations", "10", "--events", "1500", "--baseline-seconds", "1"],
        _E2E,
    ),
    Scenario(
        # Three batches in work at once, as the AMQP intake keeps them (amqp_intake.WORKERS).
        "e2e-1x3",
        ["e2e", "--destinations", "1", "--events", "5000", *_X3],
        ["e2e", "--destinations", "1", "--events", "1500", "--baseline-seconds", "1", *_X3],
        _E2E,
    ),
    Scenario(
        "e2e-10x3",
        ["e2e", "--destinations", "10", "--events", "5000", *_X3],
        ["e2e", "--destinations", "10", "--events", "1500", "--baseline-seconds", "1", *_X3],
        _E2E,
    ),
    Scenario(
        # The embedded default's own door: one event per POST to `integrator run`.
        "http-1",
        ["http", "--clients", "1", "--events", "1500"],
        ["http", "--clients", "1", "--events", "400"],
        _HTTP,
    ),
    Scenario(
        "http-8",
        ["http", "--clients", "8", "--events", "3000"],
        ["http", "--clients", "8", "--events", "800"],
        _HTTP,
    ),
    Scenario(
        "http-8-pg",
        ["http", "--clients", "8", "--events", "3000", "--store", "postgresql"],
        ["http", "--clients", "8", "--events", "800", "--store", "postgresql"],
        _HTTP,
    ),
    Scenario(
        "map-pdf",
        ["map-pdf", "--seconds", "3"],
        ["map-pdf", "--seconds", "1"],
        (Metric("ms_per_map", "time to map a referral with a 5 MiB PDF", False),),
    ),
    Scenario(
        "paced-1",
        ["paced", "--destinations", "1", "--fraction", "0.5", "--seconds", "10"],
        ["paced", "--destinations", "1", "--fraction", "0.5", "--seconds", "4"],
        (
            Metric("rate", "open-loop rate: half the burst's delivered/s (events/s)", True),
            Metric("p50_ms", "p50 accepted -> ACK at that rate", False),
            Metric("p99_ms", "p99 accepted -> ACK at that rate", False),
        ),
    ),
    Scenario(
        # The same rate for both: p99 at one load, however fast each revision's burst is.
        "paced-1-at-1000",
        ["paced", "--destinations", "1", "--rate", "1000", "--seconds", "8"],
        ["paced", "--destinations", "1", "--rate", "1000", "--seconds", "3"],
        (
            Metric("p50_ms", "p50 accepted -> ACK at 1,000 events/s", False),
            Metric("p99_ms", "p99 accepted -> ACK at 1,000 events/s", False),
            Metric("max_ms", "slowest accepted -> ACK at 1,000 events/s", False),
        ),
    ),
    Scenario(
        # Open loop on RabbitMQ + PostgreSQL at half the same revision's burst delivered/s.
        "rabbitmq-paced-10",
        ["rabbitmq-paced", "--destinations", "10", "--fraction", "0.5", "--seconds", "10"],
        ["rabbitmq-paced", "--destinations", "10", "--fraction", "0.5", "--seconds", "4"],
        (
            Metric("rate", "open-loop rate: half the burst's delivered/s (events/s)", True),
            Metric("p50_ms", "p50 accepted -> ACK at that rate", False),
            Metric("p99_ms", "p99 accepted -> ACK at that rate", False),
            Metric("p99_total_steady_ms", "p99 at that rate, after the first second", False),
            Metric("p99_total_first_ms", "p99 at that rate, in the first second", False),
            Metric("p50_from_publish_ms", "p50 published -> ACK at that rate", False),
            Metric("p99_from_publish_ms", "p99 published -> ACK at that rate", False),
        ),
        needs_services=True,
    ),
    Scenario(
        # The same rate for both, about half of what one engine delivers in a burst here.
        "rabbitmq-paced-10-at-550",
        ["rabbitmq", "--destinations", "10", "--rate", "550", "--seconds", "10"],
        ["rabbitmq", "--destinations", "10", "--rate", "550", "--seconds", "4"],
        (
            Metric("p50_ms", "p50 accepted -> ACK at 550 events/s", False),
            Metric("p99_ms", "p99 accepted -> ACK at 550 events/s", False),
            Metric("p99_total_steady_ms", "p99 at 550 events/s, after the first second", False),
            Metric("p99_total_first_ms", "p99 at 550 events/s, in the first second", False),
            Metric("p50_from_publish_ms", "p50 published -> ACK at 550 events/s", False),
            Metric("p99_from_publish_ms", "p99 published -> ACK at 550 events/s", False),
            Metric("database_cpu_us_run", "PostgreSQL CPU per event", False),
        ),
        needs_services=True,
    ),
    Scenario(
        "rabbitmq-1x10",
        ["rabbitmq", "--destinations", "10", "--events", "5000"],
        ["rabbitmq", "--destinations", "10", "--events", "1500"],
        _RABBITMQ,
        needs_services=True,
    ),
    Scenario(
        "rabbitmq-2x10",
        ["rabbitmq", "--engines", "2", "--destinations", "10", "--events", "5000"],
        ["rabbitmq", "--engines", "2", "--destinations", "10", "--events", "1500"],
        _RABBITMQ,
        needs_services=True,
    ),
]
SCENARIOS += [
    in_service(next(scenario for scenario in SCENARIOS if scenario.name == name))
    for name in ("rabbitmq-paced-10", "rabbitmq-paced-10-at-550", "rabbitmq-1x10")
]


def run_one(
    source: Path, scenario: Scenario, quick: bool, env: dict[str, str] | None = None
) -> dict[str, Any]:
    args = scenario.quick_args if quick else scenario.args
    # A scenario on the shared broker and database fails when another job restarts them; it
    # is made again then (the others fail for real).
    return ab.run_json(
        [str(HERE / "scenarios.py"), *args],
        source,
        name=scenario.name,
        attempts=3 if scenario.needs_services else 1,
        env=env,
    )


def _run_side(
    source: Path, *, b: Path, env_b: dict[str, str], scenario: Scenario, quick: bool
) -> dict[str, Any]:
    """``run_one`` with B's variables where ``source`` is B's tree."""
    return run_one(source, scenario, quick, env_b if source == b else None)


def _variables(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs as a mapping."""
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--env-b takes NAME=VALUE, not {pair!r}")
        found[name] = value
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("rev", help="the revision to compare with (A); the working tree is B")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=[s.name for s in SCENARIOS])
    parser.add_argument("--json", type=Path, help="also write every raw result here")
    parser.add_argument(
        "--b", metavar="REV_B", help="compare with this revision instead of the working tree"
    )
    parser.add_argument(
        "--env-b",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a variable set for B's runs only: the same code with a setting on and off "
        "(compare.py HEAD --b HEAD --env-b INTEGRATOR_PREPARE_PROCESS=true)",
    )
    options = parser.parse_args()
    env_b = _variables(options.env_b)
    rounds = options.rounds or (2 if options.quick else 5)
    chosen = [s for s in SCENARIOS if options.only is None or s.name in options.only]
    if options.quick and options.only is None:
        chosen = [s for s in chosen if not s.needs_services]

    raw: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    with ab.sides(options.rev, options.b, prefix="compare-") as (old, new):
        for n in range(rounds):
            for scenario in chosen:
                got = ab.alternate(
                    n,
                    old,
                    new,
                    functools.partial(
                        _run_side, b=new, env_b=env_b, scenario=scenario, quick=options.quick
                    ),
                )
                raw.setdefault(scenario.name, []).append(got)
                line = _summary(scenario, *got)
                print(f"round {n + 1} {scenario.name}: {line}", flush=True)
    if options.json:
        options.json.write_text(json.dumps(raw, indent=1))
    detail = ", B with " + " ".join(options.env_b) if options.env_b else ""
    print(ab.heading(options.rev, options.b, rounds, detail.removeprefix(", ")))
    print("| scenario | measure | A (median) | B (median) | B better by (median ratio) | spread |")
    print("|---|---|---:|---:|---:|---|")
    for scenario in chosen:
        pairs = raw.get(scenario.name, [])
        for metric in scenario.metrics:
            a = [p[0].get(metric.key) for p in pairs]
            b = [p[1].get(metric.key) for p in pairs]
            ratios = ab.ratios(a, b, b_over_a=metric.higher_is_better)
            if not ratios.values:
                continue
            print(
                f"| {scenario.name} | {metric.label} "
                f"| {_fmt(statistics.median(v for v in a if v))} "
                f"| {_fmt(statistics.median(v for v in b if v))} "
                f"| {ratios.median:.2f}x | {ratios.spread()} |"
            )
    return 0


def _summary(scenario: Scenario, a: dict[str, Any], b: dict[str, Any]) -> str:
    return ", ".join(
        f"{m.key} {_fmt(a.get(m.key))} -> {_fmt(b.get(m.key))}" for m in scenario.metrics
    )


def _fmt(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"


if __name__ == "__main__":
    raise SystemExit(main())
