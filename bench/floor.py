"""The floor: what the work the engine must do per event costs with nothing around it.

Issue 15 asks for the engine's CPU per delivered event at a third of 40008a0's. Eight rounds
cut it by about a quarter, and the profile summary finds no part left whose removal gives 3x.
This asks the other question: how low can it go with these libraries at all? For the same
events and the same ACK-only receiver, one thread with no event loop does only what no design
can leave out:

- validate each event (``parse_event``), map it (``map_event``), mint its ids, write its JSON
  for the store (``model_dump_json``);
- insert a batch of events and their messages in one SQLite transaction (stdlib ``sqlite3``,
  the engine's own schema, indexes and pragmas, the SQL written by hand);
- send each message over one blocking MLLP socket, wait for and check its ACK (MSA-1 and
  MSA-2 read by hand);
- record the batch's attempts and the messages' new status in one transaction.

Left out: the event loop, delivery queues and windows, retry bookkeeping, logging, metrics,
the BSN's keyed hash, sealing, the writer thread. So no engine built from these parts can use
less CPU per event than this; the ratio engine / floor says how much is structure, and the
floor itself how much is the parts (pydantic-core, the mapping, sqlite3, the socket calls).

    .venv/bin/python bench/scenarios.py floor --events 8000
    .venv/bin/python bench/floor.py 40008a0 --rounds 3   # the floor and both engines' e2e-1
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import resource
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

from integrator.ids import new_control_id, new_message_id  # noqa: E402
from integrator.store import Store  # noqa: E402
from integrator.store.engine import SQLITE_PRAGMAS  # noqa: E402
from mappings import MappingContext, map_event  # noqa: E402
from schemas import parse_event  # noqa: E402

BATCH = 200
START, END = b"\x0b", b"\x1c\r"

INSERT_EVENT = (
    "INSERT INTO events (id, type, action, zd_number, provider_id, received_at, source, payload,"
    " bsn_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_MESSAGE = (
    "INSERT INTO messages (id, seq, event_id, destination_id, version, message_type, control_id,"
    " payload, status, attempt_count, created_at, updated_at, warnings, is_test)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, '[]', 0)"
)
UPDATE_MESSAGE = (
    "UPDATE messages SET status = 'delivered', attempt_count = 1, updated_at = ? WHERE id = ?"
)
INSERT_ATTEMPT = (
    "INSERT INTO attempts (message_id, number, started_at, duration_ms, outcome, ack_code,"
    " ack_bytes) VALUES (?, 1, ?, ?, 'delivered', ?, ?)"
)


def _schema(path: str) -> None:
    """The engine's own tables, indexes and migrations, made by the engine's store."""

    async def make() -> None:
        store = await Store.open(f"sqlite:///{path}")
        await store.close()

    asyncio.run(make())


def _read_ack(sock: socket.socket, pending: bytearray) -> bytes:
    while True:
        end = pending.find(END)
        if end >= 0:
            frame = bytes(pending[1:end])
            del pending[: end + 2]
            return frame
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the receiver closed the connection")
        pending += chunk


def floor(raws: list[bytes], port: int, destination: str = "dest-0") -> dict[str, Any]:
    """Run ``raws`` through the floor's pipeline against the receiver on ``port``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/floor.db"
        _schema(path)
        db = sqlite3.connect(path, isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            db.execute(pragma)
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = bytearray()
        seq = 0
        delivered = 0
        parts = dict.fromkeys(("prepare", "commit", "exchange", "record"), 0.0)
        clock = time.process_time
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = clock()
        t0 = time.perf_counter()
        for first in range(0, len(raws), BATCH):
            now = datetime.datetime.now(datetime.UTC)
            stamp = now.isoformat()
            mark = clock()
            events: list[tuple[Any, ...]] = []
            messages: list[tuple[Any, ...]] = []
            for raw in raws[first : first + BATCH]:
                event = parse_event(raw)
                control_id = new_control_id()
                context = MappingContext(
                    control_id=control_id,
                    now=now,
                    receiving_application="HIS",
                    receiving_facility="ZNOORD",
                )
                mapped = map_event("ref-v2", event, context)
                event_id = str(event.event_id)
                events.append(
                    (event_id, event.type, event.action, event.zd_number, event.provider.id,
                     stamp, "cli", event.model_dump_json(), None)
                )  # fmt: skip
                seq += 1
                messages.append(
                    (new_message_id(), seq, event_id, destination, "ref-v2", mapped.message_type,
                     control_id, bytes(mapped.data), stamp, stamp)
                )  # fmt: skip
                del event
            mark = _lap(parts, "prepare", mark, clock)
            db.execute("BEGIN IMMEDIATE")
            db.executemany(INSERT_EVENT, events)
            db.executemany(INSERT_MESSAGE, messages)
            db.execute("COMMIT")
            mark = _lap(parts, "commit", mark, clock)
            updates: list[tuple[str, str]] = []
            attempts: list[tuple[Any, ...]] = []
            for message in messages:
                started = time.time()
                sock.sendall(START + message[7] + END)
                ack = _read_ack(sock, pending)
                msa = ack[ack.index(b"\rMSA|") + 5 :].split(b"|", 2)
                if msa[0] != b"AA" or msa[1].rstrip(b"\r") != message[6].encode():
                    raise RuntimeError("the receiver did not accept a message")
                done = datetime.datetime.now(datetime.UTC).isoformat()
                updates.append((done, message[0]))
                attempts.append(
                    (message[0], done, (time.time() - started) * 1000, "AA", ack)
                )  # fmt: skip
                delivered += 1
            mark = _lap(parts, "exchange", mark, clock)
            db.execute("BEGIN IMMEDIATE")
            db.executemany(UPDATE_MESSAGE, updates)
            db.executemany(INSERT_ATTEMPT, attempts)
            db.execute("COMMIT")
            _lap(parts, "record", mark, clock)
        elapsed = time.perf_counter() - t0
        cpu_s = clock() - cpu0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        sock.close()
        db.close()
    return {
        "events": len(raws),
        "delivered": delivered,
        "delivered_per_s": delivered / elapsed,
        "cpu_us_per_event": cpu_s / max(delivered, 1) * 1e6,
        "system_us_per_event": (usage.ru_stime - usage0.ru_stime) / max(delivered, 1) * 1e6,
        **{f"{part}_us": seconds / max(delivered, 1) * 1e6 for part, seconds in parts.items()},
    }


def _lap(parts: dict[str, float], part: str, mark: float, clock: Any) -> float:
    now: float = clock()
    parts[part] += now - mark
    return now


def main() -> None:
    """The floor, this tree's engine and REV's engine (e2e-1), in turn, each in a fresh process."""
    import ab

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rev", nargs="?", default="40008a0", help="the base the target is of")
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    e2e = ["e2e", "--destinations", "1", "--events", str(args.events), "--baseline-seconds", "0"]
    floor_run = ["floor", "--events", str(args.events)]
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "engine": [], "base": []}
    with ab.sides(args.rev, None, prefix="floor-") as (base, tree):
        plan = (("floor", tree, floor_run), ("engine", tree, e2e), ("base", base, e2e))
        for n in range(args.rounds):
            for name, source, scenario in plan[n % 3 :] + plan[: n % 3]:
                got = ab.run_json([str(HERE / "scenarios.py"), *scenario], source, name=name)
                runs[name].append(got)
                print(f"round {n + 1} {name}: {got['cpu_us_per_event']:.0f} µs", flush=True)
    print(ab.heading(args.rev, None, args.rounds, "A's and B's e2e-1 against the floor"))

    def cpu(name: str) -> list[float]:
        return [run["cpu_us_per_event"] for run in runs[name]]

    floor_cpu, engine_cpu, base_cpu = cpu("floor"), cpu("engine"), cpu("base")
    print("| CPU µs per delivered event | median | over the floor (median of rounds) | spread |")
    print("|---|---:|---:|---|")
    rows = (
        ("the floor", floor_cpu),
        ("this tree's engine", engine_cpu),
        (f"{args.rev}'s engine", base_cpu),
        (f"the target: a third of {args.rev}'s", [b / 3 for b in base_cpu]),
    )
    for label, values in rows:
        over = [v / f for v, f in zip(values, floor_cpu, strict=True)]
        print(
            f"| {label} | {statistics.median(values):,.0f} | {statistics.median(over):.2f}x |"
            f" {min(over):.2f}-{max(over):.2f} |"
        )
    parts = ("prepare_us", "commit_us", "exchange_us", "record_us", "system_us_per_event")
    print(
        "\nThe floor's parts, µs per event (medians): "
        + ", ".join(
            f"{part.removesuffix('_us').removesuffix('_us_per_event')} "
            f"{statistics.median(run[part] for run in runs['floor']):.0f}"
            for part in parts
        )
    )


if __name__ == "__main__":
    main()
