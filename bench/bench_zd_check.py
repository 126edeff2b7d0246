"""What intake's ZD number check costs: CPU per event of ``Intake.submit_many`` with the check
and with it switched off, alternating in one process.

    .venv/bin/python bench/bench_zd_check.py                      # SQLite, batches of 1 and 100
    .venv/bin/python bench/bench_zd_check.py --store postgresql://postgres@127.0.0.1/test

Each round submits ``--events`` fresh events (the sample referral, each its own ZD number, one
destination, no transport: validate, map, check, commit) once with the check and once without
(``Store.accept_events`` called without intake's ``judge``, so nothing is read), in turn A B,
then B A, and prints the median CPU µs per event of each and the median of the per-round ratios
with their spread. Batches of 1 are an HTTP POST's; batches of 100 are about an AMQP batch's.
The run without the check is the same code in every revision since the check came, so the
ratios of two revisions can be put side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(1, str(HERE.parent))

from common import make_events  # noqa: E402

from destinations.config import destination_from_mapping  # noqa: E402
from integrator.catalog import build_catalog  # noqa: E402
from integrator.clock import SystemClock  # noqa: E402
from integrator.intake import Intake  # noqa: E402
from integrator.logging import configure_logging  # noqa: E402
from integrator.settings import Settings  # noqa: E402
from integrator.store import Store  # noqa: E402


def _unjudged(store: Store) -> Callable[..., Awaitable[list[bool]]]:
    """``store.accept_events`` without intake's judge: the batch is not checked, nothing read."""
    accept = store.accept_events

    async def accept_events(batch: Any, *, judge: Any = None) -> list[bool]:
        return await accept(batch)

    return accept_events


def _fresh(n: int) -> list[bytes]:
    events = []
    for raw in make_events(n, ["p0"]):
        event = json.loads(raw)
        event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
        events.append(json.dumps(event).encode())
    return events


async def _measure(url: str | None, size: int, events: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        schema = None if url is None else f"bench_{uuid.uuid4().hex[:12]}"
        store = await Store.open(url or f"sqlite:///{tmp}/b.db", schema=schema)
        settings = Settings(
            database_url=f"sqlite:///{tmp}/b.db",
            destinations_dir=Path(tmp),
            search_key="k" * 32,
        )
        hospital = destination_from_mapping(
            {
                "id": "d",
                "name": "D",
                "cluster": "C",
                "providers": ["p0"],
                "host": "127.0.0.1",
                "port": 1,
                "messages": {"referral": "ref-v2"},
                "receiving_application": "HIS",
                "receiving_facility": "D",
            },
            source="d.yaml",
        )
        catalog = build_catalog([("d.yaml", hospital)], today=date.today())
        intake = Intake(
            store=store, transport=None, catalog=catalog, settings=settings, clock=SystemClock()
        )
        cpu: dict[str, list[float]] = {"checked": [], "unchecked": []}
        unjudged = _unjudged(store)
        try:
            await intake.submit_many(_fresh(200), source="cli")  # warm up
            for index in range(rounds):
                order = ("checked", "unchecked") if index % 2 == 0 else ("unchecked", "checked")
                for mode in order:
                    if mode == "checked":
                        vars(store).pop("accept_events", None)
                    else:
                        store.accept_events = unjudged  # type: ignore[method-assign,assignment]
                    stream = _fresh(events)
                    t0 = time.process_time()
                    for start in range(0, events, size):
                        await intake.submit_many(stream[start : start + size], source="cli")
                    cpu[mode].append((time.process_time() - t0) / events * 1e6)
        finally:
            vars(store).pop("accept_events", None)
            if schema is not None:
                async with store._engine.begin() as conn:
                    await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            await store.close()
    ratios = sorted(a / b for a, b in zip(cpu["checked"], cpu["unchecked"], strict=True))
    return {
        "batch": size,
        "checked_us": round(statistics.median(cpu["checked"])),
        "unchecked_us": round(statistics.median(cpu["unchecked"])),
        "ratio": round(statistics.median(ratios), 3),
        "spread": [round(ratios[0], 3), round(ratios[-1], 3)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--events", type=int, default=400)
    options = parser.parse_args()
    configure_logging(level="warning")
    for size in (1, 100):
        result = asyncio.run(_measure(options.store, size, options.events, options.rounds))
        print(json.dumps({"store": "postgresql" if options.store else "sqlite", **result}))


if __name__ == "__main__":
    main()
