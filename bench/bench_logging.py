"""CPU per log line of the engine's console format: structlog's renderer against ours.

    .venv/bin/python bench/bench_logging.py

The engine writes a line per accepted event at info. Both renderers run in this process, in
alternating rounds, through the engine's whole processor chain (context, level, time stamp),
writing to an in-memory stream; prints the median ratio and its spread. Then the engine's line
as ``configure_logging`` sets it up, through structlog's call layers against written directly
(``integrator.logging._DirectLines``), the same text.
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

import integrator.logging
from integrator.logging import PlainConsoleRenderer, configure_logging, get_logger

LINES = 20_000
ROUNDS = 7


def _per_line_us(renderer: Any) -> float:
    """Through structlog's chain (the renderer swapped in: a configuration the engine did not
    make, so no line is written directly)."""
    configure_logging(level="info")
    processors = list(structlog.get_config()["processors"])
    processors[-1] = renderer
    structlog.configure(processors=processors)
    return _lines_us()


def _engine_line_us(*, direct: bool) -> float:
    """The engine's line as ``configure_logging`` sets it up, written directly or not."""
    configure_logging(level="info")
    if not direct:
        integrator.logging._direct = None
    return _lines_us()


def _lines_us() -> float:
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
        pairs, chains = [], []
        for _ in range(ROUNDS):
            old = _per_line_us(structlog.dev.ConsoleRenderer(colors=False))
            new = _per_line_us(PlainConsoleRenderer())
            pairs.append((old, new))
            chains.append((_engine_line_us(direct=False), _engine_line_us(direct=True)))
            sys.stderr.seek(0)
            sys.stderr.truncate()
    finally:
        sys.stderr = stderr
    print(
        json.dumps(
            {
                **_summary(pairs, "structlog_console", "plain_console"),
                **_summary(chains, "structlog_chain", "direct"),
            }
        )
    )


def _summary(pairs: list[tuple[float, float]], old: str, new: str) -> dict[str, Any]:
    ratios = [a / b for a, b in pairs]
    return {
        f"{old}_us_per_line": round(statistics.median(p[0] for p in pairs), 1),
        f"{new}_us_per_line": round(statistics.median(p[1] for p in pairs), 1),
        f"{new}_ratio_median": round(statistics.median(ratios), 2),
        f"{new}_ratio_spread": [round(min(ratios), 2), round(max(ratios), 2)],
    }


if __name__ == "__main__":
    main()
