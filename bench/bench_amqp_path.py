"""The RabbitMQ transport's own CPU per message: publish with confirms, then receive + settle.

Runs ``RabbitMQTransport`` of two revisions alternately, each round in its own process, on the
same broker, and prints the median ratio per step (above 1: the working tree is cheaper).

    .venv/bin/python bench/bench_amqp_path.py HEAD~1 --rounds 5 --messages 4000

Each child publishes ``--messages`` HL7-sized messages to one destination queue in batches of
200 (as the AMQP intake hands them over), awaiting every confirm, then receives and settles all
of them with one worker per destination (10 destinations). CPU is this process's
``time.process_time``: the broker's and the other jobs' CPU is not in it. Queue names are unique
per run and deleted afterwards.
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
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
BATCH = 200
DESTINATIONS = 10


async def child(n: int) -> dict[str, Any]:
    from common import delete_topology

    from destinations.worker import OutboundMessage
    from integrator.transport.rabbitmq import RabbitMQTransport

    prefix = f"integrator.bench.path.{uuid.uuid4().hex[:8]}"
    transport = RabbitMQTransport(AMQP_URL, prefix=prefix)
    await transport.start()
    payload = (b"MSH|^~\\&|INTEGRATOR|ZNOORD|HIS|ZNOORD|20250101120000||REF^I12|X|P|2.5\r" * 40)[
        :2600
    ]
    now = datetime.now(UTC)
    destinations = [f"dest-{i}" for i in range(DESTINATIONS)]
    messages = [
        OutboundMessage(
            message_id=str(uuid.uuid4()),
            destination_id=destinations[i % DESTINATIONS],
            control_id=f"C{i:019d}",
            payload=payload,
            created_at=now,
        )
        for i in range(n)
    ]
    try:
        await transport.publish(messages[:BATCH])  # declares the queues; not measured
        rest = messages[BATCH:]
        cpu0, t0 = time.process_time(), time.perf_counter()
        for start in range(0, len(rest), BATCH):
            await transport.publish(rest[start : start + BATCH])
        publish_cpu, publish_s = time.process_time() - cpu0, time.perf_counter() - t0

        async def worker(destination_id: str, count: int) -> None:
            for _ in range(count):
                delivery = await transport.receive(destination_id)
                await delivery.settle()

        # No consumer before this point: what is published above is not also received there.
        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(d, n // DESTINATIONS) for d in destinations))
        receive_cpu, receive_s = time.process_time() - cpu0, time.perf_counter() - t0
        await asyncio.sleep(0.2)  # the last acks go out
    finally:
        await transport.close()
        await delete_topology(AMQP_URL, transport.topology, destinations)
    return {
        "publish_cpu_us": publish_cpu / len(rest) * 1e6,
        "receive_cpu_us": receive_cpu / n * 1e6,
        "publish_per_s": len(rest) / publish_s,
        "receive_per_s": n / receive_s,
    }


def run_side(source: Path, n: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--messages", str(n)],
        env=env,
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rev", nargs="?", default="HEAD")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, os.getcwd())
        from integrator import eventloop
        from integrator.logging import configure_logging

        configure_logging(level="error")
        print(json.dumps(eventloop.run(child(args.messages))))
        return
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="amqp-path-") as tmp:
        old = Path(tmp) / "rev"
        add = ["worktree", "add", "--detach", "-q", str(old), args.rev]
        subprocess.run(["git", "-C", str(ROOT), *add], check=True)
        try:
            for n in range(args.rounds):
                order = [("A", old), ("B", ROOT)]
                if n % 2:
                    order.reverse()
                got = {side: run_side(source, args.messages) for side, source in order}
                rows.append((got["A"], got["B"]))
                print(f"round {n + 1}: A {got['A']}\n         B {got['B']}", flush=True)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False
            )
    print(
        f"\nA = {args.rev}, B = working tree; {args.rounds} rounds; load {os.getloadavg()[0]:.1f}"
    )
    for key, higher in [
        ("publish_cpu_us", False),
        ("receive_cpu_us", False),
        ("publish_per_s", True),
        ("receive_per_s", True),
    ]:
        a = [r[0][key] for r in rows]
        b = [r[1][key] for r in rows]
        ratios = [(y / x if higher else x / y) for x, y in zip(a, b, strict=True)]
        print(
            f"| {key} | {statistics.median(a):,.1f} | {statistics.median(b):,.1f} "
            f"| {statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f} |"
        )


if __name__ == "__main__":
    main()
