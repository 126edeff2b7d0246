"""CPU per log line of the engine's console format: structlog's renderer against ours.

    .venv/bin/python bench/bench_logging.py

The engine writes a line per accepted event at info. Both renderers run in this process, in
alternating rounds, through the engine's whole processor chain (context, level, time stamp),
writing to an in-memory stream; prints the median ratio and its spread.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from integrator.logging import PlainConsoleRenderer, configure_logging, get_logger

LINES = 20_000
ROUNDS = 7


def _per_line_us(renderer: Any) -> float:
    configure_logging(level="info")
    processors = list(structlog.get_config()["processors"])
    processors[-1] = renderer
    structlog.configure(processors=processors)
    log = get_logger("bench")
    t0 = time.process_time()
    for i in range(LINES):
        log.info(
            "event accepted", event_id=f"e-{i}", zd_number="ZD200000000", source="cli", messages=1
        )
    return (time.process_time() - t0) / LINES * 1e6


def main() -> None:
    stderr, sys.stderr = sys.stderr, io.StringIO()
    try:
        pairs = []
        for _ in range(ROUNDS):
            old = _per_line_us(structlog.dev.ConsoleRenderer(colors=False))
            new = _per_line_us(PlainConsoleRenderer())
            pairs.append((old, new))
            sys.stderr.seek(0)
            sys.stderr.truncate()
    finally:
        sys.stderr = stderr
    ratios = [old / new for old, new in pairs]
    print(
        json.dumps(
            {
                "structlog_console_us_per_line": round(statistics.median(p[0] for p in pairs), 1),
                "plain_console_us_per_line": round(statistics.median(p[1] for p in pairs), 1),
                "ratio_median": round(statistics.median(ratios), 2),
                "ratio_spread": [round(min(ratios), 2), round(max(ratios), 2)],
            }
        )
    )


if __name__ == "__main__":
    main()
