"""Run every benchmark and gather the tables into ``bench/RESULTS.md``.

    .venv/bin/python bench/run.py           # full runs (a few minutes)
    .venv/bin/python bench/run.py --quick   # small runs (under a minute)

Each benchmark also runs alone and writes its own table under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["bench_mapping.py", "bench_e2e.py", "bench_search.py", "bench_intake_memory.py"]
NEEDS_SERVICES = {"bench_rabbitmq.py": [("RabbitMQ", 5672), ("PostgreSQL", 5432)]}


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--tables-only", action="store_true", help="only gather the existing result tables"
    )
    options = parser.parse_args()
    quick = options.quick
    benches = [] if options.tables_only else list(BENCHES)
    for bench, services in NEEDS_SERVICES.items() if not options.tables_only else ():
        missing = [name for name, port in services if not _answers(port)]
        if missing:
            print(f"== {bench} skipped: {', '.join(missing)} not running on 127.0.0.1")
        else:
            benches.append(bench)
    for bench in benches:
        if not (HERE / bench).exists():
            continue
        args = [sys.executable, str(HERE / bench), *(["--quick"] if quick else [])]
        print(f"== {bench}", flush=True)
        if subprocess.run(args, check=False).returncode != 0:
            print(f"{bench} failed", file=sys.stderr)
            return 1
    parts = ["# Benchmark results\n", "Regenerate with `make bench` (or `python bench/run.py`).\n"]
    for table in sorted((HERE / "results").glob("*.md")):
        parts.append(table.read_text(encoding="utf-8").replace("# ", "## ", 1))
    (HERE / "RESULTS.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
