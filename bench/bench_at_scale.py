"""The people's answers on a big store: every page, listing, export and check that support staff
and operators wait for, timed through its real front door.

    .venv/bin/python bench/bench_at_scale.py                       # 1,000,000 messages (~5 min)
    .venv/bin/python bench/bench_at_scale.py --small               # 100,000 messages (~1 min)
    .venv/bin/python bench/bench_at_scale.py --db /path/big.db     # fill once, keep, reuse
    .venv/bin/python bench/bench_at_scale.py --db /path/big.db --against REV --rounds 3

The store is an embedded SQLite store made by ``Store.open`` (the migrated schema and indexes)
and filled with bulk inserts: ``bench_search.py``'s rows (one event and one message each, 20
destinations in two clusters, a year of times, 95 % delivered / 3 % dead / 1 % retrying /
1 % cancelled), one attempt per message, the dead ones with eight different reasons, events no
destination serves (unrouted), rejected input, and an audit trail whose hash chain is whole
(``--audit`` entries). The destinations are files with ``enabled: false``, so the engine
delivers nothing while it is measured.

A measuring process (``--child``) starts the engine on that store, makes an API token and a
console session the way people get them (an invitation accepted with a second factor, then a
login), and asks each question through its door: the ASGI application in process
(``httpx.ASGITransport``) for the API and the console, ``python -m integrator`` as a
subprocess for the CLI. Cold is the first ask after the engine started; warm is the median of
``--repeat`` more. A CLI row also gives the process's peak memory (max RSS), which shows
whether an export is streamed or built whole.

On PostgreSQL (``--postgres postgresql://postgres@127.0.0.1:5432/at_scale_bench``): the same
rows in a database of the bench's own, made and filled when it holds no store (``at_scale_pg``:
``Store.open``, then COPY, then ``ANALYZE``), and the same questions. ``--explain FILE`` writes
``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statements of each API or console answer slower
than 500 ms warm. ``--save FILE`` keeps a run's results; ``--same-as FILE`` (another backend's
``--save``) lists each answer's status and bytes on both, to catch a wrong answer (give both
runs the same ``--dests``: the destinations' folder is named in two answers).
``AT_SCALE_BODIES=DIR`` keeps each API and console answer's body there, to diff.

``--against REV`` runs REV (checked out in a temporary worktree, ``ab.py``) and the working
tree alternately on the same store, ``--rounds`` times each, and prints warm B/A ratios (above
1: the working tree answers faster). ``--write`` puts the table into bench/results/at-scale.md.
SQLite: each side on a copy of the store of its own, A's taken back to A's schema revision.
PostgreSQL: both sides on the one database (a copy would double a load of minutes), so both
must expect the same schema revision; for a change of schema, alternate the sides by hand
(bench/results/at-scale.md, "0033", says how).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if not os.environ.get("PYTHONPATH"):  # a side of --against runs the tree PYTHONPATH names
    sys.path.insert(0, str(ROOT))

import ab  # noqa: E402

KEY = "bench-search-key-0123456789"
"""``bench_search.KEY``, whose patients' BSN hashes the store holds. That module is imported
only where the store is filled: it imports the engine from this tree, which a measuring
process of ``--against`` must import from the side's."""
CLUSTERS = ("CARD", "LAB")
REASONS = (
    "ACK AR (receiver's text withheld)",
    "ACK AE (receiver's text withheld); gave up after 20 attempts (max_attempts 20)",
    "AckTimeout: no ACK within 30s; gave up after 20 attempts (max_attempts 20)",
    "ConnectFailed: connect to 10.0.4.12:6661 failed: ConnectionRefusedError; gave up after 20 "
    "attempts (max_attempts 20)",
    "AckControlIdMismatch: MSA-2 (length 22) does not match the MSH-10 sent",
    "MalformedAck: no MSA segment",
    "gave up after 24h (max_age 24h)",
    "ACK CR (receiver's text withheld)",
)
PASSWORD = "correct horse battery staple"
ACTIONS = (
    "patient_data.view",
    "messages.search",
    "message.resend",
    "destination.update",
    "login",
    "messages.export",
)


# -- the store ---------------------------------------------------------------------------------


def _naive(value: Any) -> Any:
    if isinstance(value, datetime):
        # The engine's own text (``coltypes._sqlite_text``): microseconds always written. An
        # isoformat without them ("… 01:55:12") sorts before the engine's "… 01:55:12.000000"
        # of the same instant, so a keyset on the time (an export's pages) saw a row twice.
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    return value


def fill(path: Path, count: int, audit: int) -> None:
    """An empty migrated store at ``path``, filled as the module's docstring says."""
    from integrator.store import Store

    async def create() -> None:
        store = await Store.open(f"sqlite:///{path}")
        await store.close()

    asyncio.run(create())
    tables = rows(count, audit)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        for table, columns, data in tables:
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for start in range(0, len(data), BATCH):
                chunk = data[start : start + BATCH]
                conn.executemany(sql, [tuple(_naive(v) for v in row) for row in chunk])
                conn.commit()
        # No ANALYZE: the engine never runs it, so its stores' planner has no statistics.
        # (With them SQLite takes the resend family's "id IN … OR resend_of IN …" for a scan
        # of every message: resend_of is NULL on nearly every row.)
    finally:
        conn.close()


def fill_postgres(url: str, count: int, audit: int) -> None:
    """The same rows in the PostgreSQL database ``url`` names (made if absent), migrated by
    ``Store.open`` first, copied in, then analysed (``at_scale_pg.load``)."""
    import at_scale_pg

    from integrator.store import Store

    async def create() -> None:
        await at_scale_pg.create_database(url)
        store = await Store.open(url)
        await store.close()

    asyncio.run(create())
    asyncio.run(at_scale_pg.load(url, rows(count, audit)))


BATCH = 20_000
"""``bench_search.BATCH``: SQLite's rows per ``executemany`` and commit."""


def rows(count: int, audit: int) -> list[tuple[str, list[str], list[tuple[Any, ...]]]]:
    """Each table's columns and rows (times timezone-aware), for either backend."""
    import bench_search

    from integrator.store.audit_chain import GENESIS, entry_hash

    events, messages = bench_search.rows(count)
    rng = random.Random(11)
    dead_ids: list[str] = []
    changed = []
    for row in messages:
        if row[8] == "dead":
            row = (*row[:13], REASONS[rng.randrange(len(REASONS))], *row[14:])
            dead_ids.append(row[0])
        changed.append(row)
    messages = changed
    attempts = []
    for row in messages:
        if row[8] in ("delivered", "dead", "retrying"):
            code = "AA" if row[8] == "delivered" else rng.choice(("AR", "AE", None))
            outcome = {"delivered": "delivered", "dead": "deadletter"}.get(row[8], "retry")
            attempts.append(
                (row[0], 1, row[10], 12.5, outcome, code, None, None if code else row[13])
            )
    served_until = bench_search.START + timedelta(days=365)
    unrouted = [
        (
            str(uuid.UUID(int=rng.getrandbits(128))),
            "referral",
            "new",
            f"ZD9{n:08d}",
            f"unserved-{n % 7}",
            served_until - timedelta(minutes=n),
            "amqp",
            '{"bench":true}',
            None,
        )
        for n in range(max(100, count // 500))
    ]
    rejected = [
        (
            str(uuid.UUID(int=rng.getrandbits(128))),
            served_until - timedelta(minutes=3 * n),
            "amqp",
            b'{"bench": "rejected"}',
            json.dumps([{"path": "patient.bsn", "rule": "fails the eleven-test"}]),
            f"ZD8{n:08d}",
            "ziekenhuis-01",
        )
        for n in range(max(100, count // 200))
    ]
    audit_rows = []
    prev = GENESIS
    step = timedelta(days=365) / max(audit, 1)
    for n in range(1, audit + 1):
        at = bench_search.START + step * n
        actor = f"person:{rng.randrange(40):02d}@example.nl"
        action = ACTIONS[rng.randrange(len(ACTIONS))]
        target = messages[rng.randrange(len(messages))][0]
        reason = "GP called: referral not arrived" if action == "message.resend" else None
        details = json.dumps({"bench": n})
        digest = entry_hash(prev, n, at, actor, action, target, reason, details)
        audit_rows.append((n, at, actor, action, target, reason, details, prev, digest))
        prev = digest
    return [
        ("events", bench_search.EVENT_COLUMNS, events + unrouted),
        ("messages", bench_search.MESSAGE_COLUMNS, messages),
        (
            "attempts",
            [
                *("message_id", "number", "started_at", "duration_ms", "outcome"),
                *("ack_code", "ack_bytes", "error"),
            ],
            attempts,
        ),
        (
            "rejected_events",
            ["id", "received_at", "source", "raw", "reason", "zd_number", "provider_id"],
            rejected,
        ),
        (
            "audit_log",
            ["id", "at", "actor", "action", "target", "reason", "details", "prev_hash", "hash"],
            audit_rows,
        ),
    ]


def write_destinations(folder: Path) -> None:
    """The 20 destinations as files, disabled: the engine keeps them and sends nothing."""
    import bench_search

    from destinations.config import destination_from_mapping, dump_destination

    folder.mkdir(parents=True, exist_ok=True)
    for n, dest_id in enumerate(bench_search.DESTINATIONS):
        config = destination_from_mapping(
            {
                "id": dest_id,
                "name": dest_id.replace("-", " ").title(),
                "cluster": CLUSTERS[n % 2],
                "providers": [dest_id, "provider"] if n == 0 else [dest_id],
                "host": "127.0.0.1",
                "port": 9,
                "messages": {"referral": "ref-v2", "diagnostic_request": "orm-v3"},
                "receiving_application": "HIS",
                "receiving_facility": f"H{n:02d}",
                "enabled": False,
            },
            source=f"{dest_id}.yaml",
        )
        (folder / f"{dest_id}.yaml").write_text(dump_destination(config))


# -- the measuring process ---------------------------------------------------------------------


def _environment(store_url: str, dests: Path) -> dict[str, str]:
    return {
        "INTEGRATOR_DATABASE_URL": store_url,
        "INTEGRATOR_DESTINATIONS_DIR": str(dests),
        "INTEGRATOR_SEARCH_KEY": KEY,
        "INTEGRATOR_HTTP_PORT": "0",
        # Kept for ever: the year of made-up history would otherwise be pruned by the daily
        # prune the engine starts with, a store-wide write running beside every answer timed
        # (and a store that changes from one run to the next).
        "INTEGRATOR_RETAIN_PAYLOAD_DAYS": "0",
        "INTEGRATOR_RETAIN_DEAD_LETTER_DAYS": "0",
        "INTEGRATOR_RETAIN_REJECTED_DAYS": "0",
        # Since the forty-third session; an older tree refuses a setting it does not know.
        **({"INTEGRATOR_RETAIN_UNROUTED_DAYS": "0"} if _knows("retain_unrouted_days") else {}),
    }


def _knows(setting: str) -> bool:
    """Whether the tree this process runs has ``setting``."""
    from integrator.settings import Settings

    return setting in Settings.model_fields


def _sample(db: Path) -> dict[str, str]:
    """Ids that exist: a message of the middle of the year (dead, so it has a timeline with
    an attempt), and the newest dead message's destination."""
    conn = sqlite3.connect(db)
    try:
        (count,) = conn.execute("SELECT max(seq) FROM messages").fetchone()
        mid = conn.execute(
            "SELECT id, destination_id FROM messages WHERE status = 'dead' AND seq > ? "
            "ORDER BY seq LIMIT 1",
            (count // 2,),
        ).fetchone()
        # The last message of the page before ``offset=count // 2``: where ``after`` starts
        # the same page (newest first by seq, so the message ``count // 2`` from the top).
        (deep_id,) = conn.execute(
            "SELECT id FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT 1",
            (count - count // 2 + 1,),
        ).fetchone()
    finally:
        conn.close()
    return {"message": mid[0], "destination": mid[1], "count": str(count), "deep": deep_id}


async def _people(engine: Any) -> tuple[str, str]:
    """An API token and a console session with every role for all clusters."""
    from integrator.access import Grant, Role, local_identity
    from integrator.access.totp import INTERVAL, code_at

    maker = local_identity("local:bench")
    every = [Grant(role) for role in Role]
    token = (await engine.access.create_token(maker, f"bench-{uuid.uuid4().hex[:8]}", every)).token
    email = f"bench-{uuid.uuid4().hex[:8]}@example.nl"
    link = await engine.access.invite(maker, email, every)
    secret = link.link.split("#", 1)[1]
    start = await engine.access.begin_accept(secret)
    now = engine.clock.now()
    if INTERVAL - now.timestamp() % INTERVAL < 2:
        await asyncio.sleep(2.1)
        now = engine.clock.now()
    earlier = now - timedelta(seconds=INTERVAL)
    await engine.access.finish_accept(secret, PASSWORD, code_at(start.totp_secret, earlier))
    session = await engine.access.login(
        email, PASSWORD, code_at(start.totp_secret, engine.clock.now()), source="127.0.0.1"
    )
    return token, session.session


def asks(sample: dict[str, str], small: bool) -> list[tuple[str, str, str]]:
    """(door, what, request): ``api``/``console`` a path, ``cli`` the arguments."""
    dest, message = sample["destination"], sample["message"]
    dead = f"destination={dest}&status=dead"
    day = "since=2026-05-28T00:00:00Z&until=2026-05-29T00:00:00Z"
    deep = int(sample["count"]) // 2
    big = 10_000 if small else 100_000
    return [
        ("console", "dashboard", "/"),
        ("console", "dashboard figures (polled every 5 s)", "/dashboard/figures"),
        ("console", "message search, no terms", "/messages"),
        (
            "console",
            "message search, destination + dead",
            f"/messages?{dead}",
        ),
        ("console", "message search, one day", f"/messages?{day}"),
        ("console", "one message with its timeline", f"/messages/{message}"),
        ("console", "dead letters grouped by reason", "/deadletters"),
        ("console", "unrouted events", "/events/unrouted"),
        ("console", "events", "/events"),
        ("console", "rejected input", "/rejected"),
        ("console", "audit", "/audit"),
        ("console", "destinations", "/destinations"),
        ("console", f"destination {dest}", f"/destinations/{dest}"),
        ("console", "messages.csv (search's export)", f"/messages.csv?destination={dest}"),
        ("api", "GET /messages", "/api/v1/messages"),
        (
            "api",
            "GET /messages?destination&status=dead",
            f"/api/v1/messages?{dead}",
        ),
        ("api", "GET /messages one day", f"/api/v1/messages?{day}"),
        ("api", f"GET /messages?offset={deep}", f"/api/v1/messages?offset={deep}"),
        (
            "api",
            f"GET /messages?after= (the same page as offset={deep})",
            f"/api/v1/messages?after={sample['deep']}",
        ),
        ("api", "GET /messages/{id}", f"/api/v1/messages/{message}"),
        ("api", "GET /messages.csv?limit=1000", "/api/v1/messages.csv?limit=1000"),
        ("api", "GET /deadletters", "/api/v1/deadletters"),
        ("api", "GET /events", "/api/v1/events"),
        ("api", f"GET /events?offset={deep}", f"/api/v1/events?offset={deep}"),
        ("api", "GET /rejected", "/api/v1/rejected"),
        ("api", "GET /audit", "/api/v1/audit"),
        ("api", "GET /destinations", "/api/v1/destinations"),
        # What Prometheus asks every 15-60 s: the backlog and the open dead letters counted.
        ("api", "GET /metrics (a scrape)", "/metrics"),
        ("cli", "messages list --json", "messages list --json"),
        (
            "cli",
            "messages list --destination --status dead --json",
            f"messages list --destination {dest} --status dead --json",
        ),
        ("cli", "deadletter list --json", "deadletter list --json"),
        ("cli", "audit list --json", "audit list --json"),
        ("cli", "audit verify", "audit verify"),
        ("cli", f"messages list --csv --limit {big}", f"messages list --csv --limit {big}"),
        ("cli", f"audit list --csv --limit {big}", f"audit list --csv --limit {big}"),
        ("cli", "versions (start-up floor)", "versions"),
    ]


def _cli(args: str, env: dict[str, str]) -> tuple[float, int, int, int]:
    """Seconds, exit code, bytes written, peak RSS in KiB of one ``python -m integrator``.

    The peak RSS is taken by ``/usr/bin/time``: a process started from this one (forked or
    spawned) counts this process's memory in its own peak, which exec records; one started
    by ``time`` counts ``time``'s few pages instead. Without ``time``: 0."""
    command = [sys.executable, "-m", "integrator", *args.split()]
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        timed = Path("/usr/bin/time").exists()
        if timed:
            command = ["/usr/bin/time", "-f", "%M", "-o", str(peak), *command]
        with (Path(tmp) / "out").open("wb") as out:
            started = time.perf_counter()
            code = subprocess.run(
                command, env=env, stdout=out, stderr=subprocess.DEVNULL, check=False
            ).returncode
            took = time.perf_counter() - started
            size = out.tell()
        rss = int(peak.read_text().split()[-1]) if timed else 0
    return took, code, size, rss


async def child(
    db: Path,
    dests: Path,
    repeat: int,
    small: bool,
    only: list[str],
    postgres: str | None = None,
    explain_to: Path | None = None,
) -> None:
    """Ask each question ``repeat + 1`` times and print the results as JSON. ``postgres``: the
    store is that database's, not the file ``db``. ``explain_to``: the plans of the slowest
    statements of each answer slower than 500 ms warm (PostgreSQL), written to that file."""
    import at_scale_pg
    import httpx

    from integrator.engine import Engine
    from integrator.http import create_app
    from integrator.settings import Settings

    store_url = postgres or f"sqlite:///{db}"
    os.environ.update(_environment(store_url, dests))
    sample = await at_scale_pg.sample(postgres) if postgres else _sample(db)
    plans: list[str] = []
    started = time.perf_counter()
    engine = Engine(Settings())
    await engine.start()
    start_s = time.perf_counter() - started
    rows: list[dict[str, Any]] = []
    try:
        token, session = await _people(engine)
        app = create_app(engine)
        transport = httpx.ASGITransport(app=app)
        api = httpx.AsyncClient(
            transport=transport,
            base_url="http://127.0.0.1",
            headers={"authorization": f"Bearer {token}"},
            timeout=600,
        )
        console = httpx.AsyncClient(
            transport=transport,
            base_url="http://127.0.0.1",
            cookies={"integrator_session": session},
            timeout=600,
        )
        from integrator.console.session import SESSION_COOKIE

        console.cookies.clear()
        console.cookies.set(SESSION_COOKIE, session)
        env = {**os.environ, **_environment(store_url, dests), "COLUMNS": "160"}
        # As installed: the modules' bytecode cached (a process that compiles every module
        # spends seconds on that alone, which says nothing about the answer).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for door, what, request in asks(sample, small):
            if only and not any(word in what for word in only):
                continue
            times: list[float] = []
            extra: dict[str, Any] = {}
            statements = at_scale_pg.Statements(engine.store._engine.sync_engine)
            for n in range(repeat + 1):
                if door == "cli":
                    took, code, size, rss = _cli(request, env)
                    extra = {"status": code, "bytes": size, "rss_kib": rss}
                else:
                    client = api if door == "api" else console
                    listening = explain_to is not None and n == repeat
                    with statements if listening else contextlib.nullcontext():
                        t0 = time.perf_counter()
                        answer = await client.get(request)
                        took = time.perf_counter() - t0
                    extra = {"status": answer.status_code, "bytes": len(answer.content)}
                    if bodies := os.environ.get("AT_SCALE_BODIES"):  # to diff two backends'
                        _keep_body(Path(bodies), what, answer.content)
                times.append(took)
            if statements.seen and postgres and took > 0.5:
                in_them = sum(s[0] for s in statements.seen) * 1000
                plans += [
                    f"## {door}: {what} ({took * 1000:.0f} ms; {len(statements.seen)} "
                    f"statements, {in_them:.0f} ms in them)",
                    "",
                ]
                plans += await at_scale_pg.explain(engine.store._engine, statements)
            rows.append(
                {
                    "door": door,
                    "what": what,
                    "cold_ms": times[0] * 1000,
                    "warm_ms": statistics.median(times[1:]) * 1000 if repeat else None,
                    **extra,
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        await api.aclose()
        await console.aclose()
    finally:
        await engine.stop()
    if explain_to is not None:
        _write_plans(explain_to, plans)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"source": _source(), "engine_start_s": start_s, "peak_kib": peak, "rows": rows}
    print(json.dumps(result), flush=True)  # the last line: what the parent reads
    # Out at once: a store read still running when the engine stopped (the unrouted events
    # count of an older revision, seconds on a million events) kept the process alive.
    os._exit(0)


def _keep_body(folder: Path, what: str, body: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "".join(c if c.isalnum() else "_" for c in what)).write_bytes(body)


def _write_plans(to: Path, plans: list[str]) -> None:
    to.write_text("\n".join(plans), encoding="utf-8")


def _source() -> str:
    """The source tree this process runs (``ab.run_json`` checks it is the one it meant)."""
    import integrator

    return str(Path(integrator.__file__).resolve().parent.parent)


# -- the parent --------------------------------------------------------------------------------


def _table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| door | answer | status | cold ms | warm ms | bytes | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        warm = f"{row['warm_ms']:.0f}" if row["warm_ms"] is not None else "-"
        rss = f"{row['rss_kib'] / 1024:.0f}" if "rss_kib" in row else "-"
        flag = " **slow**" if (row["warm_ms"] or row["cold_ms"]) > 500 else ""
        lines.append(
            f"| {row['door']} | {row['what']}{flag} | {row['status']} | {row['cold_ms']:.0f} | "
            f"{warm} | {row['bytes']:,} | {rss} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="100,000 messages, 10,000 audit")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--audit", type=int, default=None)
    parser.add_argument("--db", type=Path, default=None, help="store file: filled if absent")
    parser.add_argument("--dests", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help="warm asks after the cold one")
    parser.add_argument("--against", default=None, help="a revision to compare with (A)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=[], help="answers whose name has a word")
    parser.add_argument("--write", action="store_true", help="write bench/results/at-scale.md")
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="a PostgreSQL database of the bench's own (made and filled if absent) as the store",
    )
    parser.add_argument(
        "--explain",
        type=Path,
        default=None,
        metavar="FILE",
        help="PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of each slow answer's statements, to FILE",
    )
    parser.add_argument("--save", type=Path, default=None, help="the results as JSON, to a file")
    parser.add_argument(
        "--same-as",
        type=Path,
        default=None,
        metavar="JSON",
        help="a --save of another run (the other backend): status and bytes must agree",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = args.messages or (100_000 if args.small else 1_000_000)
    audit = args.audit or (10_000 if args.small else 100_000)
    with tempfile.TemporaryDirectory(prefix="at-scale-") as tmp:
        db = args.db or Path(tmp) / "store.db"
        dests = args.dests or db.parent / f"{db.stem}-destinations"
        if args.child:
            asyncio.run(
                child(db, dests, args.repeat, args.small, args.only, args.postgres, args.explain)
            )
            return 0  # not reached: the measuring process ends in ``child``
        if args.postgres is not None:
            import at_scale_pg

            if args.dests is None:
                dests = Path(tempfile.gettempdir()) / "at-scale-postgres-destinations"
            if not asyncio.run(at_scale_pg.is_filled(args.postgres)):
                started = time.perf_counter()
                fill_postgres(args.postgres, count, audit)
                print(f"filled {args.postgres} in {time.perf_counter() - started:.0f} s")
        elif not db.exists():
            started = time.perf_counter()
            fill(db, count, audit)
            print(f"filled {db} in {time.perf_counter() - started:.0f} s", flush=True)
        write_destinations(dests)
        child_args = [str(HERE / "bench_at_scale.py"), "--child", "--dests", str(dests)]
        child_args += ["--repeat", str(args.repeat), *(["--small"] if args.small else [])]
        child_args += ["--only", *args.only] if args.only else []
        child_args += ["--postgres", args.postgres] if args.postgres else []
        if args.against is None:
            explain = ["--explain", str(args.explain)] if args.explain else []
            result = ab.run_json([*child_args, *explain, "--db", str(db)], ROOT, name="at-scale")
            print(f"engine started in {result['engine_start_s']:.1f} s")
            lines = _table(result)
            print("\n".join(lines))
            if args.save:
                args.save.write_text(json.dumps(result), encoding="utf-8")
            if args.same_as:
                print("\n".join(_agreement(json.loads(args.same_as.read_text()), result)))
            if args.write:
                _write(args, count, audit, lines)
            return 0
        return _compare(args, child_args, db)


def _agreement(other: dict[str, Any], this: dict[str, Any]) -> list[str]:
    """Where this run's answers differ from ``other``'s (the other backend's, on the same rows)
    in status or size: a wrong answer, not a slow one, shows here."""
    theirs = {row["what"]: row for row in other["rows"]}
    lines = [
        "| answer | status (other / this) | bytes (other / this) | agree |",
        "|---|---|---|---|",
    ]
    for row in this["rows"]:
        them = theirs.get(row["what"])
        if them is None:
            continue
        same = them["status"] == row["status"] and them["bytes"] == row["bytes"]
        lines.append(
            f"| {row['what']} | {them['status']} / {row['status']} | "
            f"{them['bytes']:,} / {row['bytes']:,} | {'yes' if same else '**no**'} |"
        )
    return lines


def _copy(db: Path, to: Path) -> None:
    """A consistent copy of the store at ``db`` (SQLite's online backup)."""
    source = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    target = sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _downgrade(db: Path, revision: str) -> None:
    """The store at ``db`` taken back to ``revision`` by this tree's Alembic migrations: the
    schema an older revision of the engine expects (it refuses a newer store)."""
    from alembic import command
    from sqlalchemy import create_engine

    from integrator.store.migrate import alembic_config

    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), revision)
    finally:
        engine.dispose()


_HEAD = re.compile(r'^HEAD_REVISION(?:: Final)? = "(\d+)"', re.MULTILINE)


def _head_of(tree: Path) -> str:
    """The schema revision the engine in ``tree`` migrates its stores to."""
    # integrator/store_head.py since the forty-third session; the store's own module before.
    for place in ("store_head.py", "store/schema_version.py"):
        path = tree / "integrator" / place
        found = path.exists() and _HEAD.search(path.read_text(encoding="utf-8"))
        if found:
            return found.group(1)
    raise SystemExit(f"{tree}: no HEAD_REVISION found")


def _compare(args: argparse.Namespace, child_args: list[str], db: Path) -> int:
    """A (``--against``) and B (the working tree) alternately, each on a copy of the store of
    its own, A's taken back to A's schema revision."""
    runs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with ab.sides(args.against, None, prefix="at-scale-") as (old, new):
        stores = {old: db.parent / f"{db.stem}-a.db", new: db.parent / f"{db.stem}-b.db"}
        if args.postgres is not None:
            # One database for both sides: a copy of it would double a load of minutes. Both
            # must then expect the same schema revision (the engine refuses a newer store).
            if _head_of(old) != _head_of(new):
                raise SystemExit("--postgres --against: the two sides' schema revisions differ")
            stores = {old: db, new: db}
        for tree, copy in stores.items():
            if args.postgres is not None:
                break
            if not copy.exists():
                _copy(db, copy)
            if tree == old:
                _downgrade(copy, _head_of(old))
        for n in range(args.rounds):

            def run(source: Path) -> dict[str, Any]:
                side = [*child_args, "--db", str(stores[source])]
                return ab.run_json(side, source, name="at-scale")

            runs.append(ab.alternate(n, old, new, run))
            print(f"round {n + 1} done", flush=True)
    lines = [
        ab.heading(args.against, None, args.rounds),
        "| door | answer | A cold ms | B cold ms | A warm ms | B warm ms | B faster by "
        "(spread) | A / B peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for i, row in enumerate(runs[0][0]["rows"]):
        a = [r[0]["rows"][i]["warm_ms"] for r in runs]
        b = [r[1]["rows"][i]["warm_ms"] for r in runs]
        cold_a = statistics.median(r[0]["rows"][i]["cold_ms"] for r in runs)
        cold_b = statistics.median(r[1]["rows"][i]["cold_ms"] for r in runs)
        ratio = ab.ratios(a, b, b_over_a=False)
        rss = "-"
        if "rss_kib" in row:
            rss_a = max(r[0]["rows"][i]["rss_kib"] for r in runs) / 1024
            rss = f"{rss_a:.0f} / {max(r[1]['rows'][i]['rss_kib'] for r in runs) / 1024:.0f}"
        lines.append(
            f"| {row['door']} | {row['what']} | {cold_a:.0f} | {cold_b:.0f} | "
            f"{statistics.median(a):.0f} | {statistics.median(b):.0f} | "
            f"{ratio.median:.2f}x ({ratio.spread()}) | {rss} |"
        )
    (db.parent / f"{db.stem}-runs.json").write_text(json.dumps(runs), encoding="utf-8")
    print("\n".join(lines))
    return 0


def _write(args: argparse.Namespace, count: int, audit: int, lines: list[str]) -> None:
    out = HERE / "results" / "at-scale.md"
    out.write_text(
        "\n".join(
            [
                "# The people's answers on a big store",
                "",
                f"`python bench/bench_at_scale.py{' --small' if args.small else ''}`: "
                f"{count:,} messages, {audit:,} audit entries, measured "
                f"{datetime.now(UTC).date()}.",
                "",
                *lines,
                "",
            ]
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    raise SystemExit(main())
