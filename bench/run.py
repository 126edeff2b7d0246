"""Run every benchmark and gather the tables into ``bench/RESULTS.md``.

    .venv/bin/python bench/run.py           # full runs (a few minutes)
    .venv/bin/python bench/run.py --quick   # small runs (under a minute)

Each benchmark also runs alone and writes its own table under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["bench_mapping.py", "bench_e2e.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    for bench in BENCHES:
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
