"""Every outcome of a corpus of mapping inputs, as the mapping code gave it before segments were
built from templates (`mappings.templates`): every byte of every message, every warning, every
`MappingError` and its text, in every version (`tests.mappings.corpus`: the samples and their
variants in every version and context, then 600 events with texts around every length limit,
in ASCII, Latin-1, text outside Latin-1 and control characters).

`corpus_digests.txt` holds one digest per case, written by `bench/map_corpus.py digests
tests/mappings/corpus_digests.txt --count 600` in the tree before the templates. A change
that means to change output writes it again, and says so; `bench/map_corpus.py record` and
`check` compare far more cases across two trees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from tests.mappings import corpus

DIGESTS: Final = Path(__file__).resolve().parent / "corpus_digests.txt"
COUNT: Final = 600


def test_every_outcome_is_as_recorded() -> None:
    recorded = DIGESTS.read_text(encoding="utf-8").splitlines()
    differ = []
    number = -1
    for number, (version, event, ctx) in enumerate(corpus.cases(corpus.TEST_SEED, COUNT)):
        got = f"{version} {corpus.digest(corpus.outcome(version, event, ctx))}"
        if number >= len(recorded) or got != recorded[number]:
            differ.append(number)
    assert number + 1 == len(recorded)
    assert not differ, f"{len(differ)} cases differ, the first: {differ[:10]}"


def test_the_corpus_reaches_every_outcome() -> None:
    # What the digests pin down: messages of every version, cut and kept values (warnings),
    # transliteration, and each kind of refusal.
    outcomes = [
        corpus.outcome(version, event, ctx)
        for version, event, ctx in corpus.cases(corpus.TEST_SEED, 200)
    ]
    text = "\n".join(outcomes)
    for version in ("ref-v1", "ref-v2", "orm-lfdv2", "orm-v3", "oml-v3"):
        assert f"('{version}', " in text
    for needle in (
        "shortened to",
        "kept whole",
        "transliterated",
        "error EventTypeMismatch",
        "error RetiredVersionError",
        "error NoMapperError",
    ):
        assert needle in text, needle
