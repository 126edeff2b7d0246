"""The full garbage collection after an engine's start: how long it holds the event loop.

``integrator run`` collects and freezes the heap once the engine has started
(``integrator.gcpolicy``), so that later collections never walk what start-up built. By then
the intake consumes and the delivery loops run: events that were waiting at a restart wait for
that collection too. Collecting and freezing once *before* the start as well leaves the
collection after it only what the start made.

Each round starts an engine in two fresh interpreters, taking turns: ``after`` collects only
after the start (as before), ``both`` also before it (as ``integrator run`` does now). Printed:
the milliseconds of the collection after the start (what the first events wait) and of the one
before (paid while nothing waits), medians over the rounds, and the ratio.

    .venv/bin/python bench/start_collection.py --rounds 5
    .venv/bin/python bench/start_collection.py --rounds 5 --database-url postgresql+asyncpg://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DESTINATIONS = 10


def _destinations(directory: Path) -> None:
    directory.mkdir()
    for i in range(DESTINATIONS):
        config = {
            "id": f"dest-{i}",
            "name": f"Destination {i}",
            "providers": [f"provider-{i}"],
            "host": "127.0.0.1",
            "port": 9,  # never reached: the engine is stopped before it sends
            "messages": {"referral": "ref-v2"},
        }
        (directory / f"dest-{i}.yaml").write_text(yaml.safe_dump(config))


async def _one(mode: str) -> dict[str, float]:
    from integrator.cli.common import load_settings
    from integrator.engine import Engine
    from integrator.gcpolicy import freeze_what_exists, tune_for_service

    before_ms = 0.0
    engine = Engine(load_settings(service=True), http=False)
    if mode == "both":
        t0 = time.perf_counter()
        freeze_what_exists()
        before_ms = (time.perf_counter() - t0) * 1000
    await engine.start()
    try:
        t0 = time.perf_counter()
        tune_for_service()
        after_ms = (time.perf_counter() - t0) * 1000
    finally:
        await engine.stop()
    return {"before_ms": before_ms, "after_ms": after_ms}


def _child(mode: str) -> None:
    sys.path.insert(0, str(ROOT))
    print(json.dumps(asyncio.run(_one(mode))))


def _run(mode: str, database_url: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        _destinations(Path(tmp) / "destinations")
        env = {
            **os.environ,
            "INTEGRATOR_DATABASE_URL": database_url or f"sqlite:///{tmp}/store.db",
            "INTEGRATOR_DESTINATIONS_DIR": str(Path(tmp) / "destinations"),
            "INTEGRATOR_LOG_LEVEL": "error",
            # A PostgreSQL store needs one; the bench's own when none is set.
            "INTEGRATOR_SEARCH_KEY": os.environ.get(
                "INTEGRATOR_SEARCH_KEY", "bench-search-key-a-run"
            ),
        }
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            sys.exit(f"the {mode} run failed:\n{done.stderr}")
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="the store (default: a new SQLite file a run)")
    parser.add_argument("--child", choices=["after", "both"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    runs: dict[str, list[dict[str, float]]] = {"after": [], "both": []}
    for n in range(args.rounds):
        for mode in ("after", "both") if n % 2 == 0 else ("both", "after"):
            runs[mode].append(_run(mode, args.database_url))
        print(f"round {n + 1}/{args.rounds}", file=sys.stderr)
    after = statistics.median(r["after_ms"] for r in runs["after"])
    both = statistics.median(r["after_ms"] for r in runs["both"])
    before = statistics.median(r["before_ms"] for r in runs["both"])
    ratios = sorted(
        a["after_ms"] / b["after_ms"] for a, b in zip(runs["after"], runs["both"], strict=True)
    )
    print("| measure | collected after the start only | also before it | better by | spread |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| the collection after the start, ms | {after:.1f} | {both:.1f} | "
        f"{after / both:.1f}x | {ratios[0]:.1f}-{ratios[-1]:.1f} |"
    )
    print(f"| the collection before the start (nothing waits), ms | - | {before:.1f} | | |")


if __name__ == "__main__":
    main()
