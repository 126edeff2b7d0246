"""Record what mapping gives for a large corpus, and check another tree against the record.

    python bench/map_corpus.py record FILE [--count 20000] [--hypothesis 1000]
    python bench/map_corpus.py check FILE

`record` maps `tests.mappings.corpus.cases` (the samples and their variants in every version
and context, then `--count` events with texts around every length limit, in four alphabets)
and, with `--hypothesis N`, N events of each of the test suite's generators
(`tests.mappings.test_generated`: widths that fit, far too long, and drawn around the
limits), kept beside FILE (suffix `.events.pickle`: hypothesis draws from the literals of the
code it runs beside, so another tree would draw other events). It writes one JSON line per
case: its number, version, a digest of the full outcome (message bytes, warnings, or the
error and its text) and its start. `check` maps the same cases with this tree's code and
reports every case whose outcome differs. `digests FILE --count N` writes the digests that
`tests/mappings/test_corpus.py` compares with (its seed, N mutated events). For a change
that must not change any output: record with the old tree, check with the new one (both in
the same virtual environment).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mappings import REGISTRY, MappingContext  # noqa: E402
from tests.mappings import corpus  # noqa: E402
from tests.mappings import test_generated as generated  # noqa: E402

Case = tuple[str, corpus.Event, MappingContext]


def _drawn(count: int) -> Iterator[Case]:
    """`count` events from each of the suite's generators, in each of their versions."""
    events: list[corpus.Event] = []
    widths = st.fixed_dictionaries(
        {key: st.sampled_from(corpus.WIDTHS[1:]) for key in generated.FITTING}
    )
    strategies: list[Any] = []
    for make in (generated.referrals, generated.diagnostic_requests):
        strategies += [make(generated.FITTING), make(generated.LONG), widths.flatmap(make)]
    for strategy in strategies:

        @settings(
            max_examples=count,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def collect(event: corpus.Event) -> None:
            events.append(event)

        collect()
    rng = random.Random(7)
    for number, event in enumerate(events):
        own = [name for name in sorted(REGISTRY) if REGISTRY[name].event_type == event.type]
        for version in own:
            yield version, event, corpus.context(number, rng)


def cases(count: int, drawn: int, events: Path) -> Iterator[Case]:
    """The corpus; the drawn events are drawn when recording and kept in `events`: hypothesis
    draws from the literals of the code it runs beside, so another tree would draw others."""
    yield from corpus.cases(20261130, count)
    if not drawn:
        return
    if events.exists():
        kept: list[Case] = pickle.loads(events.read_bytes())
    else:
        kept = list(_drawn(drawn))
        events.write_bytes(pickle.dumps(kept))
    yield from kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["record", "check", "digests"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--hypothesis", type=int, default=0)
    args = parser.parse_args()
    start = time.monotonic()
    events = args.file.with_suffix(".events.pickle")
    if args.mode == "digests":
        # What tests/mappings/test_corpus.py compares with: a digest per case of the corpus
        # with the test's seed and count, from the tree this runs in.
        lines = [
            f"{version} {corpus.digest(corpus.outcome(version, event, ctx))}\n"
            for version, event, ctx in corpus.cases(corpus.TEST_SEED, args.count)
        ]
        args.file.write_text("".join(lines), encoding="utf-8")
        print(f"{len(lines)} digests in {time.monotonic() - start:.0f} s")
        return
    if args.mode == "record":
        events.unlink(missing_ok=True)
        with args.file.open("w", encoding="utf-8") as out:
            out.write(json.dumps({"count": args.count, "hypothesis": args.hypothesis}) + "\n")
            total = 0
            for number, (version, event, ctx) in enumerate(
                cases(args.count, args.hypothesis, events)
            ):
                got = corpus.outcome(version, event, ctx)
                line = {
                    "n": number,
                    "version": version,
                    "digest": corpus.digest(got),
                    "start": got[:400],
                }
                out.write(json.dumps(line) + "\n")
                total += 1
        print(f"recorded {total} cases in {time.monotonic() - start:.0f} s")
        return
    with args.file.open(encoding="utf-8") as recorded:
        head = json.loads(next(recorded))
        expected = (json.loads(line) for line in recorded)
        differ = total = errors = 0
        for (version, event, ctx), want in zip(
            cases(head["count"], head["hypothesis"], events), expected, strict=True
        ):
            got = corpus.outcome(version, event, ctx)
            total += 1
            errors += got.startswith("error ")
            if corpus.digest(got) != want["digest"] or version != want["version"]:
                differ += 1
                if differ <= 5:
                    print(f"case {want['n']} ({version}) differs:")
                    print(f"  want {want['start']}\n  got  {got[:400]}")
    print(f"{total} cases ({errors} errors), {differ} differ, {time.monotonic() - start:.0f} s")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
