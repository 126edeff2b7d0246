"""Support searches on a store of one million messages: every filter of ``messages list``.

    python bench/bench_search.py                      # 1,000,000 messages, SQLite (~2 min)
    python bench/bench_search.py --quick              # 100,000 messages
    python bench/bench_search.py --backend postgresql # also: the `test` database on 127.0.0.1

The store is created by ``Store.open`` (so it has exactly the migrated schema and indexes), then
filled with bulk inserts (sqlite3 ``executemany``; PostgreSQL ``COPY``): one event and one
message per row, 20 destinations, 300,000 patients (BSN hashes with a real HMAC key), a year of
creation times in ``seq`` order, 95 % delivered / 3 % dead / 1 % retrying / 1 % cancelled, 90 %
referrals. Payloads are short (about 200 bytes): the searches read indexes and 50 rows, so a
bigger payload makes the file bigger, not the lookup slower.

Each search is run through ``Store.list_messages`` (the code path of the CLI and the API,
``limit=50``, newest first): once cold, then the median of five. Writes bench/results/search.md.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrator.store import MessageFilter, Store, bsn_hash  # noqa: E402

KEY = b"bench-search-key-0123456789"
DESTINATIONS = [f"ziekenhuis-{n:02d}" for n in range(20)]
START = datetime(2025, 11, 27, tzinfo=UTC)
PATIENTS = 300_000
BATCH = 20_000


@dataclass(frozen=True)
class Sample:
    """Values the searches look for, taken from rows that exist."""

    zd_number: str
    event_id: str
    control_id: str
    bsn: str
    day: datetime


def patient_bsn(n: int) -> str:
    """Row n's patient: 300,000 patients, each with a few events spread over the year."""
    return f"{100000000 + (n * 7919) % PATIENTS:09d}"


def rows(count: int, seed: int = 7) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    span = timedelta(days=365) / count
    events: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    for n in range(count):
        event_id = str(uuid.UUID(int=rng.getrandbits(128)))
        is_referral = rng.random() < 0.9
        created = START + span * n
        bsn = patient_bsn(n)
        events.append(
            (
                event_id,
                "referral" if is_referral else "diagnostic_request",
                "new",
                f"ZD{n:09d}",
                "provider",
                created,
                "amqp",
                '{"bench":true}',
                bsn_hash(bsn, KEY),
            )
        )
        roll = rng.random()
        status = (
            "delivered"
            if roll < 0.95
            else "dead"
            if roll < 0.98
            else "retrying"
            if roll < 0.99
            else "cancelled"
        )
        messages.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128))),
                n + 1,
                event_id,
                DESTINATIONS[rng.randrange(len(DESTINATIONS))],
                "ref-v2" if is_referral else ("orm-v3" if rng.random() < 0.7 else "orm-lfdv2"),
                "REF^I12^REF_I12" if is_referral else "ORM^O01^ORM_O01",
                f"{n:011X}{rng.getrandbits(32):08X}",
                b"MSH|^~\\&|INTEGRATOR||HIS|ZNOORD|20261120091500+0100||REF^I12^REF_I12|x|P|2.5.1\r"
                * 2,
                status,
                1,
                created,
                created,
                None,
                "AR: rejected" if status == "dead" else None,
                "[]",
                False,
                None,
            )
        )
    return events, messages


EVENT_COLUMNS = [
    "id",
    "type",
    "action",
    "zd_number",
    "provider_id",
    "received_at",
    "source",
    "payload",
    "bsn_hash",
]
MESSAGE_COLUMNS = [
    "id",
    "seq",
    "event_id",
    "destination_id",
    "version",
    "message_type",
    "control_id",
    "payload",
    "status",
    "attempt_count",
    "created_at",
    "updated_at",
    "next_attempt_at",
    "last_error",
    "warnings",
    "is_test",
    "resend_of",
]


def fill_sqlite(path: Path, events: list[tuple[Any, ...]], messages: list[tuple[Any, ...]]) -> None:
    def naive(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        return value

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        for table, columns, data in (
            ("events", EVENT_COLUMNS, events),
            ("messages", MESSAGE_COLUMNS, messages),
        ):
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for start in range(0, len(data), BATCH):
                conn.executemany(
                    sql, [tuple(naive(v) for v in row) for row in data[start : start + BATCH]]
                )
                conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()


async def fill_postgres(
    url: str, schema: str, events: list[tuple[Any, ...]], messages: list[tuple[Any, ...]]
) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        await conn.copy_records_to_table("events", records=events, columns=EVENT_COLUMNS)
        # seq is an identity column; COPY gives our values, the sequence is not used here.
        await conn.copy_records_to_table("messages", records=messages, columns=MESSAGE_COLUMNS)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def searches(sample: Sample) -> list[tuple[str, MessageFilter]]:
    day_end = sample.day + timedelta(days=1)
    return [
        ("ZD number", MessageFilter(zd_number=sample.zd_number)),
        ("patient BSN (keyed hash)", MessageFilter(bsn_hash=bsn_hash(sample.bsn, KEY))),
        ("event id", MessageFilter(event_id=sample.event_id)),
        ("control id (MSH-10)", MessageFilter(control_id=sample.control_id)),
        ("destination", MessageFilter(destination_id=DESTINATIONS[3])),
        ("status dead", MessageFilter(status="dead")),
        ("version orm-lfdv2", MessageFilter(version="orm-lfdv2")),
        ("event type diagnostic_request", MessageFilter(event_type="diagnostic_request")),
        ("period: one day, half a year ago", MessageFilter(since=sample.day, until=day_end)),
        (
            "destination + status dead",
            MessageFilter(destination_id=DESTINATIONS[3], status="dead"),
        ),
        (
            "destination + one day",
            MessageFilter(destination_id=DESTINATIONS[3], since=sample.day, until=day_end),
        ),
        (
            "status dead + one day (a batch resend)",
            MessageFilter(status="dead", since=sample.day, until=day_end),
        ),
        ("no match (unknown ZD number)", MessageFilter(zd_number="ZD999999999X")),
    ]


async def measure(store: Store, sample: Sample) -> list[tuple[str, int, float, float]]:
    results = []
    for name, flt in searches(sample):
        started = time.perf_counter()
        found = await store.list_messages(flt, limit=50)
        cold = time.perf_counter() - started
        times = []
        for _ in range(5):
            started = time.perf_counter()
            await store.list_messages(flt, limit=50)
            times.append(time.perf_counter() - started)
        results.append((name, len(found), cold * 1000, statistics.median(times) * 1000))
    return results


async def run_backend(
    backend: str, count: int, events: list[tuple[Any, ...]], messages: list[tuple[Any, ...]]
) -> tuple[float, list[tuple[str, int, float, float]]]:
    middle = count // 2
    sample = Sample(
        zd_number=events[middle][3],
        event_id=events[middle][0],
        control_id=messages[middle][6],
        bsn=patient_bsn(middle),
        day=(START + timedelta(days=182)),
    )
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            path = Path(tmp) / "search.db"
            store = await Store.open(f"sqlite:///{path}")
            await store.close()
            started = time.perf_counter()
            fill_sqlite(path, events, messages)
            fill = time.perf_counter() - started
            store = await Store.open(f"sqlite:///{path}")
        else:
            from tests.services import require_postgres

            url = require_postgres()
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            store = await Store.open(url, schema=schema)
            started = time.perf_counter()
            await fill_postgres(url, schema, events, messages)
            fill = time.perf_counter() - started
        try:
            results = await measure(store, sample)
        finally:
            if backend == "postgresql":
                async with store._engine.begin() as conn:
                    await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            await store.close()
    return fill, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 messages")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    count = args.rows or (100_000 if args.quick else 1_000_000)
    started = time.perf_counter()
    events, messages = rows(count)
    print(f"generated {count:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    lines = [
        "# Support searches",
        "",
        f"`python bench/bench_search.py{' --quick' if args.quick else ''} --backend "
        f"{args.backend}` — {count:,} messages (one event each), Python "
        f"{platform.python_version()}, {platform.machine()}, measured "
        f"{datetime.now(UTC).date()}. Each search: `Store.list_messages(filter, limit=50)`, "
        "newest first; cold = first run, warm = median of five.",
        "",
    ]
    for backend in backends:
        fill, results = asyncio.run(run_backend(backend, count, events, messages))
        print(f"{backend}: filled in {fill:.1f} s", flush=True)
        lines += [
            f"## {backend} (bulk fill {fill:.0f} s)",
            "",
            "| search | rows | cold ms | warm ms |",
            "|---|---:|---:|---:|",
        ]
        for name, found, cold, warm in results:
            lines.append(f"| {name} | {found} | {cold:.1f} | {warm:.1f} |")
            print(f"  {name:42} {found:3} rows  cold {cold:8.1f} ms  warm {warm:8.1f} ms")
        lines.append("")
    out = ROOT / "bench" / "results" / "search.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
