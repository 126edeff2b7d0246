"""Where an embedded event's CPU goes, part by part, on whichever revision is first on the path.

    .venv/bin/python bench/breakdown.py            # this tree
    PYTHONPATH=<other tree> .venv/bin/python bench/breakdown.py
    .venv/bin/python bench/breakdown.py --store postgresql://postgres@127.0.0.1/test --only-store

Each part runs alone in this process (one core): validating the sample referral, mapping it
(ref-v2), committing it (``Store.accept_events`` in batches of 200, one message each), and
recording one delivery attempt (``Store.record_attempts`` in batches of 5, about what one busy
destination hands the recorder per commit). Prints one JSON line of microseconds per item.

``--store URL``: the store parts on that database instead of a fresh SQLite file (PostgreSQL:
in a schema of its own, dropped afterwards; the CPU counted is this process's only, not the
server's). ``--only-store``: skip validating and mapping.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

from common import make_events  # noqa: E402

import integrator  # noqa: E402
from integrator import eventloop  # noqa: E402
from integrator.store import AttemptRecord, EventRecord, NewMessage, Store  # noqa: E402
from mappings import MappingContext, map_event  # noqa: E402
from schemas import parse_event  # noqa: E402

N = 2000


def _per_item(fn: Any, items: list[Any]) -> float:
    t0 = time.process_time()
    for item in items:
        fn(item)
    return (time.process_time() - t0) / len(items) * 1e6


async def _store_parts(url: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        schema = None if url is None else f"bench_{uuid.uuid4().hex[:12]}"
        store = await Store.open(url or f"sqlite:///{tmp}/b.db", schema=schema)
        try:
            return await _timed_writes(store)
        finally:
            if schema is not None:
                async with store._engine.begin() as conn:
                    await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            await store.close()


async def _timed_writes(
    store: Store, n: int = N, event_payload: str = '{"a": 1}'
) -> dict[str, float]:
    """Accept ``n`` events (one 2 KB message each) in batches of 200, then record one attempt
    per message in batches of 5; CPU per item of the whole process. Also used by
    ``sqlite_settings.py`` and ``bench_message_indexes.py``."""
    now = datetime.datetime.now(datetime.UTC)
    batch = []
    for i in range(n):
        record = EventRecord(
            id=str(uuid.uuid4()), type="referral", action="new", zd_number=f"ZD{i:09d}",
            provider_id="p", received_at=now, source="cli", payload=event_payload,
            bsn_hash=None,
        )  # fmt: skip
        message = NewMessage(
            id=str(uuid.uuid4()), destination_id="d", version="ref-v2",
            message_type="REF^I12", control_id=uuid.uuid4().hex[:19].upper(),
            payload=b"MSH|" + b"x" * 2000,
        )  # fmt: skip
        batch.append((record, (message,)))
    t0 = time.process_time()
    for start in range(0, n, 200):
        await store.accept_events(batch[start : start + 200])
    accept = (time.process_time() - t0) / n * 1e6
    t0 = time.process_time()
    for start in range(0, n, 5):
        await store.record_attempts(
            [
                (
                    AttemptRecord(
                        message_id=m.id,
                        number=1,
                        started_at=now,
                        duration_ms=1.0,
                        outcome="delivered",
                        ack_code="AA",
                        ack_bytes=b"MSH|ack",
                        error=None,
                    ),
                    "delivered",
                    None,
                    None,
                )
                for _, (m,) in batch[start : start + 5]
            ]
        )
    recording = (time.process_time() - t0) / n * 1e6
    return {"accept_us_per_event": accept, "record_us_per_attempt": recording}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="database URL for the store parts (default: SQLite)")
    parser.add_argument("--only-store", action="store_true", help="skip validating and mapping")
    options = parser.parse_args()
    source = Path(integrator.__file__).resolve().parent.parent
    parts = eventloop.run(_store_parts(options.store))
    if options.only_store:
        print(json.dumps({**parts, "source": str(source)}))
        return
    raws = make_events(N, ["p"])
    parse = _per_item(parse_event, raws)
    events = [parse_event(raw) for raw in raws]
    context = MappingContext(
        control_id="BENCH000000000000001",
        now=datetime.datetime.now(datetime.UTC),
        receiving_application="HIS",
        receiving_facility="ZNOORD",
    )
    mapping = _per_item(lambda e: map_event("ref-v2", e, context), events)
    print(json.dumps({"parse_us": parse, "map_us": mapping, **parts, "source": str(source)}))


if __name__ == "__main__":
    main()
