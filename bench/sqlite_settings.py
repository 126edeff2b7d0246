"""CPU of the store's two hot writes on SQLite under other connection settings, side by side.

    .venv/bin/python bench/sqlite_settings.py --rounds 3 \\
        --variant "" --variant "PRAGMA wal_autocheckpoint=1000" \\
        --variant "PRAGMA page_size=4096;PRAGMA wal_autocheckpoint=1000"

Each variant runs in its own process, the variants alternating round by round. A variant is a
';'-separated list of PRAGMAs for every store connection: one the store sets too
(``integrator.store.engine.SQLITE_PRAGMAS``) takes the place of the store's (a page size must
come before WAL is switched on), others come after. The empty variant is the store as it is.
Each process accepts ``--events`` events of realistic size (a 2.5 KB event and a 2 KB message
each) in batches of 200, then records one attempt per message in batches of 5, and prints the
CPU per item of the whole process (the writer thread included). Printed: every run, then each
variant's median and its ratio to the first variant's median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

from alternating import alternated

ROOT = Path(__file__).resolve().parent.parent


async def _measure(events: int) -> dict[str, float]:
    from breakdown import _timed_writes

    from integrator.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite:///{tmp}/bench.db")
        try:
            return await _timed_writes(store, events, '{"a": "' + "y" * 2500 + '"}')
        finally:
            await store.close()


def _child(variant: str, events: int) -> None:
    sys.path.insert(0, str(ROOT))
    import integrator.store.engine as engine

    store_pragmas = list(engine.SQLITE_PRAGMAS)
    for pragma in (p.strip() for p in variant.split(";") if p.strip()):
        name = _name(pragma)
        same = [i for i, p in enumerate(store_pragmas) if _name(p) == name]
        if same:  # in its place: a page size must come before WAL is switched on
            store_pragmas[same[0]] = pragma
        else:
            store_pragmas.append(pragma)
    engine.SQLITE_PRAGMAS = tuple(store_pragmas)  # type: ignore[assignment]
    print(json.dumps(asyncio.run(_measure(events))))


def _name(pragma: str) -> str:
    return pragma.removeprefix("PRAGMA ").split("=")[0].strip().lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", action="append", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child is not None:
        _child(options.child, options.events)
        return
    variants: list[str] = options.variant or [""]
    runs = alternated(
        __file__,
        variants,
        rounds=options.rounds,
        events=options.events,
        label=lambda v: v or "as it is",
    )
    base = variants[0]
    for key in ("accept_us_per_event", "record_us_per_attempt"):
        base_median = statistics.median(r[key] for r in runs[base])
        for variant in variants:
            median = statistics.median(r[key] for r in runs[variant])
            print(
                f"{key:24} {variant or 'as it is':60} median {median:7.1f} µs"
                f"  {median / base_median:.2f} of the first"
            )


if __name__ == "__main__":
    main()
