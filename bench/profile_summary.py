"""Where a scenario's engine time goes: py-spy's samples sorted into the engine's parts.

    .venv/bin/python bench/profile_summary.py e2e --destinations 1 --events 8000
    .venv/bin/python bench/profile_summary.py e2e --destinations 10 --events 8000
    .venv/bin/python bench/profile_summary.py paced --destinations 1 --rate 800
    .venv/bin/python bench/profile_summary.py rabbitmq --destinations 10 --events 6000
    .venv/bin/python bench/profile_summary.py --stacks FILE [--stacks FILE ...]   # already recorded
    .venv/bin/python bench/profile_summary.py --stacks FILE --detail "intake, the rest"

Needs py-spy in the virtualenv (``.venv/bin/pip install py-spy``; it is no dependency of the
project). Issue 15 asks that wherever a target is missed the results say where the time goes, per
scenario. A flame graph says it for one run and one reader; this sorts the samples into the same
dozen parts every time, so two scenarios (or two revisions) can be put side by side in a table.

- ``e2e`` and ``paced``: the engine runs inside the harness's process (``bench/scenarios.py``),
  sampled with ``py-spy --gil``: only the thread holding the GIL is sampled, which on the
  embedded default is the event loop's nearly always. Start-up (imports, opening the store) and
  the harness's own work (making events, and reading the store through SQLAlchemy to wait for
  it to settle and to read latencies back) are counted apart and left out of the shares.
- ``rabbitmq``: the first ``integrator run`` process, sampled while the events go through (all
  threads, idle ones too: samples waiting in ``epoll`` are counted apart as "waiting").

Each sample goes to the innermost part its stack passes through: a log line written while
mapping is "log lines", not "mapping". "socket write" is the MLLP exchange's own time, which is
the ``write`` to the receiver's socket (uvloop writes holding the GIL; on loopback the kernel
also wakes the receiver inside that call). Read that share as wall time, not CPU: a thread
descheduled inside the call (the receiver it woke taking its core) still holds the GIL and is
sampled there. Measured around the call in e2e-1, the write took 15-21 µs of the thread's CPU
and 24-31 µs of wall time a message, about 8 % of the loop's time, where this put 25 %
(bench/results/perf.md, ninth session). "hand-over to the SQLite thread" is the same kind of
share: samples at the line that puts work on the writer thread's queue
(``SqliteWriter._submit``). Timed there in an intake POST, the ``put`` took 15 µs of the loop
thread's CPU and 80 µs of wall time (the GIL and the core passing to the thread it woke), where
py-spy put a fifth of the POST's samples (perf.md, fifteenth session); before, they were counted
as "the SQLite writer thread", which read as the thread's work. Prints a markdown table, and
with ``--json`` one JSON object of the shares.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _function(frame: str) -> str:
    """``name (path:line)`` without the line: the rules below must not depend on line numbers."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def _file(function: str) -> str:
    return function.rpartition("(")[2].rstrip(")").rpartition("/")[2]


Rule = tuple[str, Callable[[str], bool]]
STARTING = ("Engine.start ", "Store.open ", "_find_and_load ", "tune_for_service ")
HARNESS = {"scenarios.py", "common.py", "ackserver.py", "bench_rabbitmq.py"}

# Checked for each frame from the leaf up; the first rule that matches a frame decides.
RULES: list[Rule] = [
    ("log lines", lambda f: "structlog/" in f or f.startswith("EngineLogger.")),
    ("validation (parse_event)", lambda f: f.startswith("parse_event (schemas/")),
    ("mapping (map_event)", lambda f: f.startswith("map_event (mappings/")),
    ("event JSON for the store", lambda f: f.startswith("BaseModel.model_dump_json")),
    ("committing events", lambda f: ".accept_events (" in f),
    ("ACK reading", lambda f: f.startswith(("parse_ack (", "_final_ack (", "MessageAnswers."))),
    ("recording attempts", lambda f: f.startswith("AttemptRecorder.") or "record_attempts" in f),
    ("publishing", lambda f: ".publish (integrator/transport" in f),
    ("intake, the rest", lambda f: f.startswith(("Intake.", "AmqpIntake.", "IntakeConsumer."))),
    ("delivery, the rest", lambda f: f.startswith(("DeliveryWorker.", "DestinationRunner."))),
    ("the SQLite writer thread", lambda f: "integrator/store/sqlite_" in f),
    ("start-up", lambda f: f.startswith(STARTING)),
    ("harness", lambda f: _file(f) in HARNESS and not f.startswith(("main (", "<module> ("))),
]
SOCKET_WRITE = "socket write (MLLP)"
HAND_OVER = "hand-over to the SQLite thread (wall, not CPU)"
WAITING = "waiting"
OTHER = "event loop and the rest"
STORE_READS = "reads through SQLAlchemy"
LEFT_OUT = {"start-up", "harness", WAITING, STORE_READS}


def classify(frames: list[str]) -> str:
    """The part one sample belongs to (``frames`` from the root to the leaf)."""
    functions = [_function(f) for f in frames]
    leaf = functions[-1] if functions else ""
    if leaf.startswith(("MllpClient.exchange ", "MllpClient._send_on ")):
        return SOCKET_WRITE
    if leaf.startswith("SqliteWriter._submit "):
        return HAND_OVER
    if leaf.startswith(("EpollSelector.select", "select (selectors")) or "poll" in leaf.lower():
        return WAITING
    for function in reversed(functions):
        for part, matches in RULES:
            if matches(function):
                return part
    if any("sqlalchemy/" in f or "aiosqlite/" in f for f in functions):
        # No hot path goes through SQLAlchemy (the hot writes use the drivers directly), so
        # this is the harness waiting for the store to settle and reading latencies back, or
        # a background task of the engine (presence, prune): left out of the shares.
        return STORE_READS
    return OTHER


def summarise(lines: Iterable[str]) -> dict[str, float]:
    """Shares (per cent) of the samples that count, per part; plus ``samples`` counted."""
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, number = line.rstrip().rpartition(" ")
        if not stack or not number.isdigit():
            continue
        counts[classify(stack.split(";"))] += int(number)
    counted = sum(n for part, n in counts.items() if part not in LEFT_OUT)
    shares = {
        part: round(100 * n / counted, 1)
        for part, n in counts.most_common()
        if part not in LEFT_OUT and counted
    }
    return {**shares, "samples": float(counted)}


def detail(lines: Iterable[str], part: str, top: int = 20) -> list[tuple[int, str]]:
    """The most sampled innermost two frames of one part: what to look at next."""
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, number = line.rstrip().rpartition(" ")
        if stack and number.isdigit():
            frames = stack.split(";")
            if classify(frames) == part:
                counts[" > ".join(_function(f) for f in frames[-2:])] += int(number)
    return [(n, where) for where, n in counts.most_common(top)]


def _record(scenario_args: list[str], out: Path) -> None:
    python = sys.executable
    scenarios = str(HERE / "scenarios.py")
    if scenario_args[0].startswith("rabbitmq"):
        command = [python, scenarios, *scenario_args, "--py-spy", str(out)]
    else:
        spy = str(Path(python).with_name("py-spy"))
        if not Path(spy).exists():
            sys.exit("py-spy is not installed here: .venv/bin/pip install py-spy")
        command = [spy, "record", "--gil", "-r", "250", "-f", "raw", "-o", str(out), "--"]
        command += [python, scenarios, *scenario_args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    figures = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not out.exists():
        sys.exit(f"the scenario failed ({result.returncode}):\n{result.stderr[-2000:]}")
    if figures:
        print(figures[-1], file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", type=Path, action="append", help="py-spy raw stacks to read")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    parser.add_argument("--save", type=Path, help="keep the recorded stacks in this file")
    parser.add_argument("--detail", metavar="PART", help="the most sampled frames of one part")
    args, scenario_args = parser.parse_known_args()
    files: list[Path] = list(args.stacks or [])
    with tempfile.TemporaryDirectory() as tmp:
        if not files:
            if not scenario_args:
                parser.error("name a scenario of bench/scenarios.py, or give --stacks FILE")
            files = [args.save or Path(tmp) / "stacks.txt"]
            _record(scenario_args, files[0])
        lines = [line for path in files for line in path.read_text().splitlines()]
    if args.detail:
        for number, where in detail(lines, args.detail):
            print(f"{number:6} {where}")
        return
    shares = summarise(lines)
    if args.json:
        print(json.dumps(shares))
        return
    samples = int(shares.pop("samples"))
    print(f"| part | share of {samples:,} samples |\n|---|---:|")
    for part, share in shares.items():
        print(f"| {part} | {share:.1f} % |")


if __name__ == "__main__":
    main()
