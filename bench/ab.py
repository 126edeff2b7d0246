"""The A/B loop of the comparison benchmarks: two revisions measured side by side, as ratios.

Absolute figures on a shared machine drift by 2x from one hour to the next; a ratio of two runs
made side by side does not (much). So A (a revision, checked out into a temporary git worktree)
and B (the working tree, or another revision) run alternately, each in its own process (A B,
then B A, ...: drift hits both sides alike), and a measure is reported as the median of the
per-round ratios with their spread. ``compare.py``, ``bench_mapping.py --ab``,
``bench_validation.py`` and ``cli_startup.py`` differ only in what a side runs and prints.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


@contextmanager
def worktree(rev: str, where: Path) -> Iterator[Path]:
    """``rev`` checked out (detached) at ``where`` while the block runs, removed after it."""
    add = ["worktree", "add", "--detach", "-q", str(where), rev]
    subprocess.run(["git", "-C", str(ROOT), *add], check=True)
    try:
        yield where
    finally:
        remove = ["worktree", "remove", "--force", str(where)]
        subprocess.run(["git", "-C", str(ROOT), *remove], check=False)


@contextmanager
def sides(rev: str, rev_b: str | None, *, prefix: str) -> Iterator[tuple[Path, Path]]:
    """A's and B's source trees: ``rev`` checked out, and ``rev_b`` too or the working tree."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, ExitStack() as trees:
        a = trees.enter_context(worktree(rev, Path(tmp) / "a"))
        b = trees.enter_context(worktree(rev_b, Path(tmp) / "b")) if rev_b else ROOT
        yield a, b


def alternate(n: int, a: Path, b: Path, run: Callable[[Path], T]) -> tuple[T, T]:
    """Round ``n``'s (from 0) results of A and B: A runs first in even rounds, B in odd ones."""
    if n % 2:
        got_b = run(b)
        return run(a), got_b
    got_a = run(a)
    return got_a, run(b)


def rounds_of(rev: str, rounds: int, run: Callable[[Path], T], *, prefix: str) -> list[tuple[T, T]]:
    """``rounds`` rounds of ``run`` on ``rev``'s tree (A) and the working tree (B), alternating
    (``alternate``), each round's results printed as it ends."""
    results = []
    with sides(rev, None, prefix=prefix) as (a, b):
        for n in range(rounds):
            got_a, got_b = alternate(n, a, b, run)
            print(f"round {n + 1}: A {got_a}\nround {n + 1}: B {got_b}", flush=True)
            results.append((got_a, got_b))
    return results


def per_size(
    rev: str,
    sizes: Iterable[int],
    args_for: Callable[[int], list[str]],
    *,
    name: str,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """One run of ``rev`` and one of the working tree per size, alternating which goes first
    (``alternate``), each the JSON its process printed (``run_json``, ``args_for(size)``); for
    the memory benches, where one run of each per size is the measure."""
    rows = []
    with sides(rev, None, prefix=f"{name}-") as (old, new):
        for n, size in enumerate(sizes):
            args = args_for(size)

            def run(source: Path, args: list[str] = args) -> dict[str, Any]:
                return run_json(args, source, name=name)

            a, b = alternate(n, old, new, run)
            print(f"{size}: A {a}\n{size}: B {b}", flush=True)
            rows.append((a, b))
    return rows


def run_json(
    args: list[str],
    source: Path,
    *,
    name: str,
    attempts: int = 1,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON object a measuring process prints last, run with ``source`` first on
    ``PYTHONPATH`` and as its directory; its ``source`` must say that it ran that tree (a
    wrong path would compare a tree with itself). A failed run is made again up to
    ``attempts`` times (for runs on shared services that another job may restart). ``env``:
    variables set for this run only (one side's settings, ``compare.py --env-b``)."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(source)}
    for attempt in range(attempts):
        if attempt:
            print(f"# {name} failed on {source}; again", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, *args],
            env=env,
            cwd=source,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            break
    if done.returncode != 0:
        raise SystemExit(f"{name} failed on {source}:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["source"]).resolve() != source.resolve():
        raise SystemExit(f"{name} ran {result['source']}, not {source}")
    return result


@dataclass(frozen=True, slots=True)
class Ratios:
    """One measure's per-round ratios: a table gives their median and their spread."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def spread(self, digits: int = 2) -> str:
        """Lowest-highest."""
        return f"{min(self.values):.{digits}f}-{max(self.values):.{digits}f}"


def ratios(a: Iterable[float | None], b: Iterable[float | None], *, b_over_a: bool) -> Ratios:
    """The per-round ratios of A's and B's figures (B/A, or A/B); a round where either side
    has no figure (or zero) gives none."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x and y]
    return Ratios(tuple(y / x if b_over_a else x / y for x, y in pairs))


def heading(rev: str, rev_b: str | None, rounds: int, detail: str = "") -> str:
    """The line above a table: what A and B are, how they ran, and the machine's load."""
    how = f"{rounds} rounds, interleaved" + (f", {detail}" if detail else "")
    return (
        f"\nA = {rev}, B = {rev_b or 'working tree'}; {how}; "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )


def lower_is_better_table(
    rows: Sequence[tuple[Mapping[str, float], Mapping[str, float]]],
    measures: Sequence[tuple[str, str]],
    digits: int = 2,
) -> list[str]:
    """A markdown table of ``measures`` (key, words) over rounds of (A's, B's) figures, each a
    time or a cost (lower is better): the medians, and B's gain as the median ratio A/B."""
    lines = [
        "| measure | A (median) | B (median) | B better by (median ratio) | spread |",
        "|---|---:|---:|---:|---|",
    ]
    for key, what in measures:
        a_values = [a[key] for a, _ in rows]
        b_values = [b[key] for _, b in rows]
        r = ratios(a_values, b_values, b_over_a=False)
        lines.append(
            f"| {what} | {statistics.median(a_values):,.{digits}f} | "
            f"{statistics.median(b_values):,.{digits}f} | {r.median:.2f}x | {r.spread()} |"
        )
    return lines
