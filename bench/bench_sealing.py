"""What sealing payloads at rest costs: the same work on a store without and with a data key.

    python bench/bench_sealing.py            # 1,000 events per mode
    python bench/bench_sealing.py --events 5000

Each mode gets a fresh SQLite store and does what intake and delivery do with a payload:
parse the sample referral, map it to `ref-v2`, store event and message in batches of 100
(`accept_events`), record an attempt with an ACK for each message, then read every message
and its attempts back. The key is the only difference, so the ratio of the two times is the
price of sealing (AES-256-GCM on write, and opening on read). Both modes run in one process,
alternating, and the best of three rounds is kept per mode.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrator.datakeys import sealer_for  # noqa: E402
from integrator.ids import new_control_id, new_message_id  # noqa: E402
from integrator.store import AttemptRecord, EventRecord, NewMessage, Store  # noqa: E402
from mappings import MappingContext, map_event  # noqa: E402
from schemas import parse_event  # noqa: E402

SAMPLE = json.loads((ROOT / "config" / "samples" / "referral.json").read_text(encoding="utf-8"))
ACK = b"MSH|^~\\&|HIS|ZNOORD|INTEGRATOR||20261120091600||ACK^I12|A1|P|2.5.1\rMSA|AA|X\r"
BATCH = 100


async def one_round(events: int, keys: str | None, directory: Path) -> float:
    """Seconds for mapping, storing, recording and reading ``events`` referrals."""
    url = f"sqlite:///{directory / f'{uuid.uuid4().hex}.db'}"
    store = await Store.open(url, sealer=sealer_for(keys))
    try:
        started = time.perf_counter()
        ids: list[str] = []
        for start in range(0, events, BATCH):
            batch = []
            for i in range(start, min(start + BATCH, events)):
                raw = json.dumps({**SAMPLE, "event_id": str(uuid.uuid4())}).encode()
                event = parse_event(raw)
                now = datetime.now(UTC)
                context = MappingContext(
                    control_id=new_control_id(),
                    now=now,
                    receiving_application="HIS",
                    receiving_facility="ZNOORD",
                )
                mapped = map_event("ref-v2", event, context)
                message = NewMessage(
                    id=new_message_id(),
                    destination_id="ziekenhuis-noord",
                    version="ref-v2",
                    message_type=mapped.message_type,
                    control_id=context.control_id,
                    payload=mapped.data,
                )
                record = EventRecord(
                    id=str(event.event_id),
                    type=event.type,
                    action=event.action,
                    zd_number=f"ZD{300000000 + i:09d}",
                    provider_id=event.provider.id,
                    received_at=now,
                    source="http",
                    payload=event.model_dump_json(),
                )
                batch.append((record, [message]))
                ids.append(message.id)
            await store.accept_events(batch)
            attempts = [
                (
                    AttemptRecord(m.id, 1, datetime.now(UTC), 2.0, "delivered", "AA", ACK),
                    "delivered",
                    None,
                    None,
                )
                for _, (m,) in batch
            ]
            await store.record_attempts(attempts)
        for message_id in ids:
            assert await store.get_message(message_id) is not None
            assert len(await store.list_attempts(message_id)) == 1
        return time.perf_counter() - started
    finally:
        await store.close()


async def main(events: int, rounds: int) -> None:
    keys = "bench:" + base64.b64encode(os.urandom(32)).decode()
    best: dict[str, float] = {"plain": float("inf"), "sealed": float("inf")}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(rounds):
            best["plain"] = min(best["plain"], await one_round(events, None, Path(scratch)))
            best["sealed"] = min(best["sealed"], await one_round(events, keys, Path(scratch)))
    print(f"| mode | {events} events: map, store, attempt, read back | per event |")
    print("|---|---:|---:|")
    for mode, seconds in best.items():
        print(f"| {mode} | {seconds:.3f} s | {seconds / events * 1e6:.0f} µs |")
    print(f"\nsealed / plain: {best['sealed'] / best['plain']:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.rounds))
