"""The dashboard's "last hour" figures: listing up to 1,000 messages to take their number,
against one COUNT, on the same store in one run.

    .venv/bin/python bench/bench_dashboard_counts.py            # 3,000 dead messages this hour
    .venv/bin/python bench/bench_dashboard_counts.py --messages 1000

Every open dashboard polls its figures every 5 s, and each tile asked for the destination's
delivered and dead messages of the last hour as whole records (payloads unsealed) to count
them. After an outage thousands died within the hour. Both ways are timed alternately on one
SQLite store (median of 7 each; payloads of about 4 KB, as a referral's), and the ratio is
printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrator.clock import SystemClock  # noqa: E402
from integrator.store import MessageFilter, Store  # noqa: E402
from tests.store.factories import make_event, make_message  # noqa: E402


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{folder}/store.db")
        try:
            body = b"MSH|^~\\&|INTEGRATOR||HIS|NOORD|20261202||REF^I12^REF_I12|x|P|2.5.1\r"
            body += b"OBX|1|FT|" + b"x" * 4000 + b"\r"  # about a referral's size
            for n in range(count):
                message = make_message(destination_id="noord", payload=body)
                await store.accept_event(make_event(zd_number=f"ZD{n:09d}"), [message])
                await store.set_status(message.id, "dead")
            hour_ago = SystemClock().now() - timedelta(hours=1)
            flt = MessageFilter(destination_id="noord", status="dead", since=hour_ago)
            listed: list[float] = []
            counted: list[float] = []
            for _ in range(7):
                start = time.perf_counter()
                found = len(await store.list_messages(flt, limit=1000))
                listed.append(time.perf_counter() - start)
                start = time.perf_counter()
                number = await store.count_messages(flt)
                counted.append(time.perf_counter() - start)
            print(f"{count} dead messages this hour; listed {found} (capped), counted {number}")
            a, b = statistics.median(listed), statistics.median(counted)
            print(
                f"list (limit 1000): {a * 1000:.1f} ms   count: {b * 1000:.1f} ms   "
                f"count faster by {a / b:.1f}x"
            )
        finally:
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    asyncio.run(main(parser.parse_args().messages))
