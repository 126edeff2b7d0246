"""SQLite's own CPU for the store's hot writes, per event, with the ``messages`` rows and
indexes shaped in other ways, side by side in one process.

    .venv/bin/python bench/bench_sqlite_rows.py --rounds 9                      # the default set
    .venv/bin/python bench/bench_sqlite_rows.py --variant today --variant "payload table"
    .venv/bin/python bench/bench_sqlite_rows.py --list                          # the variants
    .venv/bin/python bench/bench_sqlite_rows.py --prefill 100000 --variant today \\
        --variant "no ix_messages_updated_at"                                    # a big store

On the embedded default about a quarter of the engine's CPU per delivered event is SQLite's on
the writer thread and the checkpoint thread (bench/results/perf.md, twenty-eighth session). This
measures that part alone: each variant gets a scratch file made by ``Store.open`` (the head
schema, the store's PRAGMAs), changed by the variant's DDL, and filled with ``--prefill`` events
first (untimed). Then, round by round and in alternating order (A B, then B A, ...), each variant
takes ``--events`` events the way a burst writes them: intake's accept (the events' and the
messages' INSERTs, batches of 200, rows as ``Store.accept_events`` builds them, event rows sorted
by id), then the attempt recorder's UPDATE + INSERT in groups of ``--group`` for the batch before,
and a passive checkpoint after each batch (the checkpoint thread runs one every 0.1 s, about a
batch at 2,000 events a second). The same statements the writer thread runs (compiled from the
store's own, ``SqliteHotWrites``), on a connection set up as the writer's (its page cache
too: "today" is the store as it is), timed by the thread's CPU clock around each transaction
and each checkpoint: the Python that builds the arguments (the event loop's, in the engine) is
left out.

Payloads are the sample referral's sizes (a 2.1 KB event JSON, a 1.9 KB HL7 message); message
ids are random UUIDs, control ids as ``integrator.ids`` makes them, BSN hashes random (one
patient per event). Printed: each variant's median µs per event (accept, record, checkpoint,
all three) and the median of its per-round ratios to the first variant with their spread
(above 1: the variant costs less).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(1, str(HERE.parent))

from integrator.ids import new_message_ids  # noqa: E402
from integrator.store import AttemptRecord, EventRecord, NewMessage, Store  # noqa: E402
from integrator.store.codec import attempt_row  # noqa: E402
from integrator.store.engine import set_sqlite_pragmas  # noqa: E402
from integrator.store.prepared import Prepared, prepare  # noqa: E402
from integrator.store.sqlite_hot_writes import SqliteHotWrites, _set_writer_pragmas  # noqa: E402
from integrator.store.store import _message_row  # noqa: E402

BATCH = 200
EVENT_JSON = '{"a": "' + "y" * 2100 + '"}'
HL7 = b"MSH|" + b"x" * 1853

# Not ``uq_messages_seq``: without it every INSERT's max(seq) + 1 reads the whole table.
SECONDARY = (
    "uq_messages_control_id",
    "ix_messages_control_id",
    "ix_messages_event_id",
    "ix_messages_destination_id_status_seq",
    "ix_messages_destination_id_seq",
    "ix_messages_version_seq",
    "ix_messages_status_seq",
    "ix_messages_created_at",
    "ix_messages_resend_of",
    "ix_messages_family_root_status_seq",
    "ix_messages_updated_at",
    "ix_messages_dead",
)
EVENT_INDEXES = ("ix_events_zd_number", "ix_events_bsn_hash", "ix_events_received_at")


@dataclass(frozen=True)
class Variant:
    name: str
    ddl: tuple[str, ...] = ()
    payload_table: bool = False
    """The payload in ``message_payloads``, keyed by the message's ``seq`` (appended, not
    placed by a random key), out of the row an attempt's UPDATE rewrites."""
    ordered_ids: bool = False
    """Message ids that grow with time (UUID version 7's layout) instead of random ones: what
    the random key of the id's own index costs (not a schema change)."""


VARIANTS = {
    v.name: v
    for v in [
        Variant("today"),
        *(Variant(f"no {name}", (f"DROP INDEX {name}",)) for name in SECONDARY + EVENT_INDEXES),
        Variant(
            "plain control_id over resends only",
            (
                "DROP INDEX ix_messages_control_id",
                "CREATE INDEX ix_messages_control_id ON messages (control_id) "
                "WHERE resend_of IS NOT NULL",
            ),
        ),
        # The column dropped and added again: the last in the row, after the updated ones.
        Variant(
            "payload last",
            (
                "ALTER TABLE messages DROP COLUMN payload",
                "ALTER TABLE messages ADD COLUMN payload BLOB NOT NULL DEFAULT x''",
            ),
        ),
        Variant(
            "payload table",
            (
                "ALTER TABLE messages DROP COLUMN payload",
                "CREATE TABLE message_payloads (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL)",
            ),
            payload_table=True,
        ),
        Variant("ordered ids", ordered_ids=True),
        # Settings of the writer's connection, not the schema: its page cache (32 MiB since
        # this bench's first runs; SQLite's default, 2,000 KiB, before), memory mapping.
        Variant("cache 2000 KiB (SQLite's default)", ("PRAGMA cache_size=-2000",)),
        *(
            Variant(f"cache {mib} MiB", (f"PRAGMA cache_size=-{mib * 1024}",))
            for mib in (8, 16, 32, 64)
        ),
        Variant("mmap 256 MiB", ("PRAGMA mmap_size=268435456",)),
        Variant("no secondary index (the bound)", tuple(f"DROP INDEX {n}" for n in SECONDARY)),
    ]
}
DEFAULT = [
    "today",
    "cache 2000 KiB (SQLite's default)",
    "no ix_messages_updated_at",
    "no ix_messages_control_id",
    "plain control_id over resends only",
    "payload last",
    "payload table",
    "ordered ids",
    "no secondary index (the bound)",
]


def variant(name: str) -> Variant:
    """A variant by its name, or several joined by " + " (their DDL in turn, every flag)."""
    parts = [VARIANTS[part.strip()] for part in name.split(" + ")]
    return Variant(
        name,
        tuple(statement for part in parts for statement in part.ddl),
        payload_table=any(part.payload_table for part in parts),
        ordered_ids=any(part.ordered_ids for part in parts),
    )


PAYLOAD_INSERT = (
    "INSERT INTO message_payloads (seq, payload) "
    "VALUES ((SELECT seq FROM messages WHERE id = ?), ?)"
)


def _ordered_id() -> str:
    """A UUID laid out as version 7: 48 bits of milliseconds, then random bits."""
    h = f"{time.time_ns() // 1_000_000:012x}7{secrets.token_hex(10)[1:]}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class Target:
    """One variant's scratch file, its connections and statements, and the CPU it took."""

    def __init__(self, variant: Variant, path: Path, store: Store) -> None:
        self.variant = variant
        self.conn = sqlite3.connect(path, isolation_level=None)
        _set_writer_pragmas(self.conn)
        self.checkpointer = sqlite3.connect(path, isolation_level=None)
        set_sqlite_pragmas(self.checkpointer)
        for statement in variant.ddl:
            self.conn.execute(statement)
        self.store = store
        self.now = datetime.datetime.now(datetime.UTC)
        self.zd = 0
        hot = store._hot
        assert isinstance(hot, SqliteHotWrites)
        sample = self._batch(1)
        self.insert_event: Prepared = hot._statement("event", sample[0][0])
        message_row = sample[0][1]
        if variant.payload_table:
            keys = [key for key in message_row if key != "payload"]
            self.insert_message = prepare(store._insert_messages, store._engine.dialect, keys)
        else:
            self.insert_message = hot._statement("messages", message_row)
        update, attempt = self._attempt(message_row["id"])
        self.update: Prepared = hot._statement("update", update)
        self.insert_attempt: Prepared = hot._statement("attempt", attempt)
        self.cpu = {"accept": 0.0, "record": 0.0, "checkpoint": 0.0}

    def _batch(self, n: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """``n`` (event row, message row) pairs, as ``Store.accept_events`` builds them."""
        pairs = []
        for _ in range(n):
            self.zd += 1
            event_id = str(uuid.uuid4())
            message_id, control_id = new_message_ids()
            if self.variant.ordered_ids:
                message_id = _ordered_id()
            event = EventRecord(
                id=event_id, type="referral", action="new", zd_number=f"ZD{self.zd:09d}",
                provider_id="provider-0", received_at=self.now, source="cli",
                payload=EVENT_JSON, bsn_hash=secrets.token_hex(32),
            )  # fmt: skip
            message = NewMessage(message_id, "dest-0", "ref-v2", "REF^I12", control_id, HL7)
            pairs.append(
                (
                    self.store._event_row(event, unrouted=False),
                    _message_row(event_id, message, self.now, self.store._sealer),
                )
            )
        return pairs

    def _attempt(self, message_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        attempt = AttemptRecord(
            message_id, 1, self.now, 3.0, "delivered", "AA", b"MSH|^~\\&|ACK" + b"x" * 80
        )
        return (
            self.store._attempt_update(attempt, "delivered", None, None),
            attempt_row(attempt, self.store._sealer),
        )

    def burst(self, events: int, group: int) -> None:
        """Accept ``events`` in batches, record each batch's attempts after the next one's
        accept, checkpoint after each batch; adds the CPU of each to ``cpu``."""
        previous: list[str] = []
        for start in range(0, events, BATCH):
            pairs = self._batch(min(BATCH, events - start))
            self._accept(pairs)
            self._record(previous, group)
            previous = [message["id"] for _, message in pairs]
            self._checkpoint()
        self._record(previous, group)
        self._checkpoint()

    def _accept(self, pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        event_sql, message_sql = self.insert_event.sql, self.insert_message.sql
        event_args = [self.insert_event.args(e) for e, _ in sorted(pairs, key=_event_id)]
        message_args = [self.insert_message.args(m) for _, m in pairs]
        payload_args = [(m["id"], m["payload"]) for _, m in pairs]
        cursor = self.conn.cursor()
        start = time.thread_time()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("SAVEPOINT accept_events")
        cursor.executemany(event_sql, event_args)
        assert cursor.rowcount == len(event_args)
        cursor.execute("RELEASE accept_events")
        cursor.executemany(message_sql, message_args)
        if self.variant.payload_table:
            cursor.executemany(PAYLOAD_INSERT, payload_args)
        cursor.execute("COMMIT")
        self.cpu["accept"] += time.thread_time() - start

    def _record(self, message_ids: Sequence[str], group: int) -> None:
        for start in range(0, len(message_ids), group):
            rows = [self._attempt(m) for m in message_ids[start : start + group]]
            update_args = self.update.all_args([u for u, _ in rows])
            attempt_args = self.insert_attempt.all_args([a for _, a in rows])
            cursor = self.conn.cursor()
            began = time.thread_time()
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(self.update.sql, update_args)
            cursor.executemany(self.insert_attempt.sql, attempt_args)
            cursor.execute("COMMIT")
            self.cpu["record"] += time.thread_time() - began

    def _checkpoint(self) -> None:
        began = time.thread_time()
        self.checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.cpu["checkpoint"] += time.thread_time() - began

    def taken(self) -> dict[str, float]:
        """The CPU since the last call, and start again."""
        taken, self.cpu = self.cpu, dict.fromkeys(self.cpu, 0.0)
        return taken

    def close(self) -> None:
        self.conn.close()
        self.checkpointer.close()


def _event_id(pair: tuple[dict[str, Any], dict[str, Any]]) -> str:
    return str(pair[0]["id"])


async def _open(path: Path) -> Store:
    return await Store.open(f"sqlite:///{path}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--variant",
        action="append",
        help="a name from --list, or names joined by ' + '; the first: the base",
    )
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--events", type=int, default=4000, help="events per variant a round")
    parser.add_argument("--prefill", type=int, default=20000, help="events stored first")
    parser.add_argument("--group", type=int, default=5, help="attempts per recording")
    parser.add_argument("--list", action="store_true", help="list the variants and stop")
    options = parser.parse_args()
    if options.list:
        print("\n".join(VARIANTS))
        return
    names: list[str] = options.variant or DEFAULT
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        targets = []
        for index, name in enumerate(names):
            path = Path(tmp) / f"v{index}.db"
            store = asyncio.run(_open(path))
            asyncio.run(store.close())
            targets.append(Target(variant(name), path, store))
        for target in targets:
            for start in range(0, options.prefill, 10 * BATCH):
                target.burst(min(10 * BATCH, options.prefill - start), options.group)
            target.taken()
        print(
            f"{len(names)} variants, {options.prefill} events stored first, then "
            f"{options.events} a round, {options.rounds} rounds, groups of {options.group}"
        )
        per_round: list[dict[str, dict[str, float]]] = []
        for round_ in range(options.rounds):
            order = targets if round_ % 2 == 0 else targets[::-1]
            got: dict[str, dict[str, float]] = {}
            for target in order:
                target.burst(options.events, options.group)
                cpu = {k: v / options.events * 1e6 for k, v in target.taken().items()}
                cpu["all"] = sum(cpu.values())
                got[target.variant.name] = cpu
            per_round.append(got)
            print(
                f"round {round_ + 1}: "
                + ", ".join(f"{n} {got[n]['all']:.1f}" for n in names)
                + " µs/event",
                flush=True,
            )
        for target in targets:
            target.close()
    _report(names, per_round)


def _report(names: Sequence[str], per_round: Sequence[dict[str, dict[str, float]]]) -> None:
    base = names[0]
    print(
        f"\n| variant | accept µs/event | record µs/event | checkpoint µs/event | "
        f"all µs/event | cheaper than {base} by (median ratio) | spread |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for name in names:
        medians = {
            part: statistics.median(r[name][part] for r in per_round)
            for part in ("accept", "record", "checkpoint", "all")
        }
        ratios = [r[base]["all"] / r[name]["all"] for r in per_round]
        print(
            f"| {name} | {medians['accept']:.1f} | {medians['record']:.1f} | "
            f"{medians['checkpoint']:.1f} | {medians['all']:.1f} | "
            f"{statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f} |"
        )


if __name__ == "__main__":
    main()
