"""The ack window: one multiple-ack never reaches a delivery that is still in work."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrator.transport.acks import AckWindow


def test_in_order_settles_ack_up_to_the_last() -> None:
    window = AckWindow()
    for tag in (1, 2, 3):
        window.settle(tag)
    assert window.advance() == 3
    assert window.advance() is None  # nothing new


def test_a_gap_holds_the_acks_behind_it() -> None:
    window = AckWindow()
    window.settle(1)
    window.settle(3)  # 2 is still being committed
    assert window.advance() == 1
    assert window.waiting == 1
    window.settle(2)
    assert window.advance() == 3
    assert window.waiting == 0


def test_a_nacked_delivery_closes_the_gap_but_is_never_named() -> None:
    window = AckWindow()
    window.settle(1)
    window.settle(2, nacked=True)
    assert window.advance() == 1  # 2 went back to the broker: acking it would be an error
    window.settle(3)
    assert window.advance() == 3  # the ack of 3 passes over the nacked 2
    window.settle(4, nacked=True)
    assert window.advance() is None
    assert window.acked_upto == 4


def test_settling_an_already_acked_tag_changes_nothing() -> None:
    window = AckWindow()
    window.settle(1)
    assert window.advance() == 1
    window.settle(1)
    assert window.advance() is None


def test_tags_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        AckWindow().settle(0)


@given(st.integers(min_value=1, max_value=60), st.randoms(use_true_random=False))
def test_any_settle_order_acks_exactly_the_settled_prefix(n: int, rng: random.Random) -> None:
    tags = list(range(1, n + 1))
    rng.shuffle(tags)
    nacked = {t for t in tags if rng.random() < 0.2}
    window = AckWindow()
    settled: set[int] = set()
    acked_upto = 0
    for tag in tags:
        window.settle(tag, nacked=tag in nacked)
        settled.add(tag)
        upto = window.advance()
        prefix = 0
        while prefix + 1 in settled:
            prefix += 1
        if upto is not None:
            assert upto not in nacked
            assert acked_upto < upto <= prefix  # never beyond what is settled without a gap
            acked_upto = upto
        assert window.acked_upto == prefix
    assert window.acked_upto == n
    assert window.waiting == 0
    wanted = [t for t in range(1, n + 1) if t not in nacked]
    assert acked_upto == (max(wanted) if wanted else 0)
