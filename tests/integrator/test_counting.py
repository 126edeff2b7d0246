"""A count is said with its noun in agreement, never with a lazy "(s)"."""

from __future__ import annotations

import pytest

from integrator.counting import counted


@pytest.mark.parametrize(
    ("count", "said"),
    [(0, "0 messages"), (1, "1 message"), (2, "2 messages"), (25_000, "25000 messages")],
)
def test_the_noun_agrees_with_the_count(count: int, said: str) -> None:
    assert counted(count, "message") == said


def test_an_irregular_plural_is_given() -> None:
    assert counted(1, "copy", "copies") == "1 copy"
    assert counted(3, "copy", "copies") == "3 copies"


def test_a_noun_of_several_words_takes_its_plural_at_the_end() -> None:
    assert counted(1, "running engine") == "1 running engine"
    assert counted(2, "running engine") == "2 running engines"
