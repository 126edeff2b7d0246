"""Which delivery errors are the receiver's answer (``ack_reason.from_receiver``): a negative
ACK, with its words, by its code, or cut to its code by ``short_reason`` or by retention. Those
are a message's fact, for who may read the messages; every other error is the engine's own
words, shown to an operator too (``integrator.last_attempt``). Every error the engine really
writes is judged in ``tests/console/test_delivery_text.py``; here the forms no delivery writes
today but a stored row may hold."""

from __future__ import annotations

import pytest

from integrator.ack_reason import from_receiver, short_reason

PATIENT = "Patient J. van der Berg onbekend"
GAVE_UP = "; gave up after 3 attempts (max_attempts 3)"


@pytest.mark.parametrize(
    "error",
    [
        f"ACK AE: {PATIENT}",
        f"ACK AR: {PATIENT}{GAVE_UP}",
        "ACK CE",
        "ACK AE (receiver's text withheld)",  # as retention stores it
        f"ACK AR (receiver's text withheld){GAVE_UP}",
        f"ACK None: {PATIENT}",  # the worker's shape allows a code of None
        f"ACK AE: a receiver that writes{GAVE_UP} itself",
    ],
)
def test_a_negative_ack_is_the_receivers_and_never_shown_with_its_words(error: str) -> None:
    assert from_receiver(error)
    shown = short_reason(error)
    assert shown is not None and PATIENT not in shown and "writes" not in shown


@pytest.mark.parametrize(
    "error",
    [
        None,
        "ConnectFailed: connect to 10.0.0.1:2575 failed: ConnectionRefusedError: refused",
        "ConnectFailed: connect to 10.0.0.1:2575 timed out after 5s",
        "ConnectFailed: connect to his.example:2575 failed: TLS error (WRONG_VERSION_NUMBER)",
        f"AckTimeout: no ACK within 2s{GAVE_UP}",
        "MalformedAck: ACK has no MSA segment",
        "AckControlIdMismatch: MSA-2 (length 5) does not match the MSH-10 sent 'C1'",
        "ACKNOWLEDGED nothing",
    ],
)
def test_the_engines_own_words_are_not_the_receivers(error: str | None) -> None:
    assert not from_receiver(error)
    assert short_reason(error) == error
