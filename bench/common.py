"""Pieces the end-to-end benchmarks share: the event stream and the receivers' process."""

from __future__ import annotations

import asyncio
import json
import uuid
from multiprocessing.connection import Connection
from pathlib import Path

from destinations.receiver import MllpReceiver

ROOT = Path(__file__).resolve().parent.parent


def make_events(n: int, providers: list[str]) -> list[bytes]:
    """``n`` copies of the sample referral, each its own event, spread over ``providers``."""
    base = json.loads((ROOT / "config" / "samples" / "referral.json").read_text())
    events = []
    for i in range(n):
        event = dict(base)
        event["event_id"] = str(uuid.uuid4())
        event["zd_number"] = f"ZD{200000000 + i:09d}"
        event["provider"] = {**base["provider"], "id": providers[i % len(providers)]}
        events.append(json.dumps(event).encode())
    return events


def serve_receivers(count: int, conn: Connection) -> None:
    """Child process: the hospitals' receivers, as in real life not in the engine's process.

    Sends the bound ports over ``conn``, then serves until anything arrives on it.
    """

    async def serve() -> None:
        receivers = [MllpReceiver() for _ in range(count)]
        conn.send([await r.start() for r in receivers])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        for r in receivers:
            await r.stop()

    asyncio.run(serve())
