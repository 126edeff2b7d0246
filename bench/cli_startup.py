"""The ``integrator`` command's start-up: a revision against the working tree, as ratios.

Every CLI call, and every test that runs ``integrator`` as a process, pays for the imports of
the whole command tree before the command does anything. Each case below runs as a fresh
process for REV (A) and for the working tree (B) in turn (A B, then B A, ...); a round's ratio
is A's time over B's (above 1: the working tree starts faster), and the median of the rounds is
reported with their spread. Wall time and the child's CPU time (user + system) are both given;
CPU time is the steadier of the two on a shared machine.

    .venv/bin/python bench/cli_startup.py 5e3dbd5 --rounds 9

The commands read a store made for the run (SQLite, empty, one destination from the examples).
REV is checked out into a temporary git worktree and the working tree's packages are copied
beside it (without ``__pycache__``); each runs with its source first on ``PYTHONPATH`` in this
virtualenv, as ``bench/compare.py`` does (the loop is ``bench/ab.py``'s). Bytecode is the same
for both: by default neither has any and none is written (``PYTHONDONTWRITEBYTECODE=1``: every
start compiles the project's modules, as in an environment that sets it, like this one's test
runs); with ``--compiled`` both are compiled first (an installed package, an image).
"""

from __future__ import annotations

import argparse
import compileall
import functools
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ab

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CASES: dict[str, list[str]] = {
    "python -c pass (the floor)": ["-c", "pass"],
    "import integrator.cli": ["-c", "import integrator.cli"],
    "integrator --help": ["-m", "integrator", "--help"],
    "integrator destinations --help": ["-m", "integrator", "destinations", "--help"],
    "integrator destinations list --json": ["-m", "integrator", "destinations", "list", "--json"],
    "integrator messages list": ["-m", "integrator", "messages", "list"],
    "integrator versions --json": ["-m", "integrator", "versions", "--json"],
    "integrator health (nobody answers: exit 1)": ["-m", "integrator", "health", "--timeout", "1"],
}
EXIT_CODES = {"integrator health (nobody answers: exit 1)": 1}

_MAKE_STORE = """
import asyncio
from integrator.settings import Settings
from integrator.store import Store

async def main() -> None:
    settings = Settings()
    store = await Store.open(settings.database_url, sealer=settings.sealer())
    await store.close()

asyncio.run(main())
"""


def timed(
    source: Path, args: list[str], env: dict[str, str], cwd: Path, code: int = 0
) -> tuple[float, float]:
    """Wall seconds and the child's CPU seconds of one run, which must exit with ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args],
        env={**env, "PYTHONPATH": str(source)},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != code:
        raise SystemExit(f"{args} on {source}: exit {done.returncode}, not {code}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("rev", help="the revision to compare with (A); the working tree is B")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--compiled", action="store_true", help="compile both sides' modules first")
    options = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="cli-startup-") as tmp,
        ab.worktree(options.rev, Path(tmp) / "rev") as old,
    ):
        work = Path(tmp)
        new = work / "tree"
        for package in sorted(ROOT.glob("*/__init__.py")):
            if package.parent.name not in ("tests", "bench"):
                shutil.copytree(
                    package.parent,
                    new / package.parent.name,
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
        bytecode: dict[str, str] = {}
        if options.compiled:
            for source in (old, new):
                for package in sorted(source.glob("*/__init__.py")):
                    compileall.compile_dir(package.parent, quiet=1)
        else:
            bytecode = {"PYTHONDONTWRITEBYTECODE": "1"}
        (work / "destinations").mkdir()
        example = ROOT / "integrator" / "examples" / "destinations"
        first = sorted(example.glob("*.yaml"))[0]
        shutil.copy(first, work / "destinations" / first.name)
        env = {
            **os.environ,
            **bytecode,
            "INTEGRATOR_DATABASE_URL": f"sqlite:///{work}/store.db",
            "INTEGRATOR_DESTINATIONS_DIR": str(work / "destinations"),
            "COLUMNS": "120",
            "INTEGRATOR_HTTP_PORT": str(_free_port()),
        }
        run_dir = work / "cwd"  # no source tree here: PYTHONPATH alone decides
        run_dir.mkdir()
        subprocess.run(
            [sys.executable, "-c", _MAKE_STORE],
            env={**env, "PYTHONPATH": str(new)},
            cwd=run_dir,
            check=True,
        )
        results = _rounds(options.rounds, old, new, env, run_dir)

    mode = "compiled first" if options.compiled else "no bytecode"
    print(ab.heading(options.rev, None, options.rounds, mode))
    print(
        "| case | wall A ms | wall B ms | A/B wall | spread "
        "| CPU A ms | CPU B ms | A/B CPU | spread |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---|")
    for name, pairs in results.items():
        cells = []
        for index in (0, 1):  # wall, CPU
            a = [p[0][index] for p in pairs]
            b = [p[1][index] for p in pairs]
            ratios = ab.ratios(a, b, b_over_a=False)
            cells += [
                f"{statistics.median(a) * 1000:,.0f}",
                f"{statistics.median(b) * 1000:,.0f}",
                f"{ratios.median:.2f}x",
                ratios.spread(),
            ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _rounds(
    rounds: int, old: Path, new: Path, env: dict[str, str], cwd: Path
) -> dict[str, list[tuple[tuple[float, float], tuple[float, float]]]]:
    results: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {}
    for n in range(rounds):
        for name, args in CASES.items():
            code = EXIT_CODES.get(name, 0)
            run = functools.partial(timed, args=args, env=env, cwd=cwd, code=code)
            got = ab.alternate(n, old, new, run)
            results.setdefault(name, []).append(got)
            (wall_a, cpu_a), (wall_b, cpu_b) = got
            print(
                f"round {n + 1} {name}: wall {wall_a * 1000:.0f} -> {wall_b * 1000:.0f} ms, "
                f"CPU {cpu_a * 1000:.0f} -> {cpu_b * 1000:.0f} ms",
                flush=True,
            )
    return results


if __name__ == "__main__":
    raise SystemExit(main())
