"""What reading the destination files again costs when they name TLS files, two revisions side
by side:

    .venv/bin/python bench/bench_tls_reads.py                          # this tree alone
    .venv/bin/python bench/bench_tls_reads.py --against REV --rounds 5  # REV (A) against it (B)

Every listing of the destinations (``integrator destinations list``, the API's, the console's
page) and every refresh of the console's dashboard (every 5 s for each one open) reads the
destination files through the engine's ``FileReads`` (``DestinationAdmin.catalog``), on the
engine's event loop. ``--destinations`` files (200), each with mutual TLS (a CA, a client
certificate and its key, made once by the openssl CLI and shared by both sides), are read once,
and then again ``--reads`` times, unchanged: the median of those is the figure. A side runs in
a process of its own with its tree first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def child(directory: Path, reads: int) -> dict[str, Any]:
    """Read ``directory`` once, then ``reads`` times again: milliseconds, and what was read."""
    from destinations import file_reads

    kept = file_reads.FileReads()
    started = time.perf_counter()
    loaded, errors = kept.load(directory)
    first_ms = (time.perf_counter() - started) * 1000
    again = []
    for _ in range(reads):
        started = time.perf_counter()
        kept.load(directory)
        again.append((time.perf_counter() - started) * 1000)
    return {
        "first_ms": first_ms,
        "again_ms": statistics.median(again),
        "loaded": len(loaded),
        "refused": len(errors),
        "source": str(Path(file_reads.__file__).resolve().parent.parent),
    }


def make_files(where: Path, count: int) -> Path:
    """``count`` destination files with mutual TLS, all naming the same three PKI files."""
    sys.path.insert(0, str(ROOT))
    from destinations.config import dump_destination
    from tests.destinations.test_tls import _ca, _leaf
    from tests.integrator.support import destination

    pki = where / "pki"
    pki.mkdir()
    _ca(pki, "ca")
    _leaf(pki, "client", "ca", "clientAuth")
    tls = {
        "ca_file": str(pki / "ca.pem"),
        "cert_file": str(pki / "client.pem"),
        "key_file": str(pki / "client.key"),
        "server_name": "localhost",
    }
    files = where / "destinations"
    files.mkdir()
    for n in range(count):
        config = destination(f"lab-{n:03d}", 2577, providers=[f"p{n}"], tls=tls)
        (files / f"{config.id}.yaml").write_text(dump_destination(config))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--destinations", type=int, default=200)
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--against", default=None, help="a revision to compare with (A)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.reads)))
        return
    sys.path.insert(0, str(HERE))
    from ab import heading, lower_is_better_table, rounds_of, run_json

    with tempfile.TemporaryDirectory(prefix="bench-tls-") as tmp:
        files = make_files(Path(tmp), args.destinations)
        script = [str(HERE / "bench_tls_reads.py"), "--child", str(files)]
        script += ["--reads", str(args.reads)]

        def once(source: Path) -> dict[str, Any]:
            return run_json(script, source, name="tls reads")

        if args.against is None:
            print(json.dumps(once(ROOT)))
            return
        rows = rounds_of(args.against, args.rounds, once, prefix="bench-tls-reads-")
    print(heading(args.against, None, args.rounds, f"{args.destinations} files with mutual TLS"))
    measures = (
        ("again_ms", "the files read again, unchanged, ms"),
        ("first_ms", "the first read, ms"),
    )
    print("\n".join(lower_is_better_table(rows, measures, digits=1)))


if __name__ == "__main__":
    main()
