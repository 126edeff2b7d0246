"""The engine's sentences with a count agree with it, for one and for more: a person reads
"1 message waits", not "1 message(s) wait". These sentences have no command-line test that
brings both numbers about."""

from __future__ import annotations

from deadletter.resend import Selection
from integrator.operators import DestinationBusy, stranded_said
from integrator.runner import AttemptsNotRecorded
from integrator.store.destination_history import MessagesWaiting
from integrator.token_scope import Narrowed


def test_attempts_not_recorded() -> None:
    assert str(AttemptsNotRecorded(1)).startswith("stopped with the attempts of 1 message not ")
    assert str(AttemptsNotRecorded(3)).startswith("stopped with the attempts of 3 messages not ")


def test_messages_waiting_for_a_removed_destination() -> None:
    assert str(MessagesWaiting("noord", 1)) == "1 message waits for destination noord"
    assert str(MessagesWaiting("noord", 2)) == "2 messages wait for destination noord"
    assert stranded_said("noord", 1).startswith(
        "1 message waits for noord, which no file defines any more (its file was deleted by "
        "hand), and is not sent"
    )
    assert "to send it; to dead-letter it instead" in stranded_said("noord", 1)
    assert "to send them; to dead-letter them instead" in stranded_said("noord", 2)


def test_a_busy_destination() -> None:
    assert DestinationBusy("noord", 1).explain("use --force") == (
        "destination 'noord' still has 1 message waiting; deliver it first, or use --force to "
        "dead-letter it"
    )
    assert DestinationBusy("noord", 2).explain("use --force") == (
        "destination 'noord' still has 2 messages waiting; deliver them first, or use --force "
        "to dead-letter them"
    )


def test_messages_outside_the_token_clusters() -> None:
    empty = Selection((), frozenset())
    one = Narrowed(empty, outside=1, token="token:desk", named_outside=1)
    two = Narrowed(empty, outside=2, token="token:desk", named_outside=2)
    assert (one.refused() or "").startswith(
        "MESSAGE_IDS: 1 named message lies outside the clusters of INTEGRATOR_TOKEN "
        "(token:desk), which may not resend it; nothing was resent"
    )
    assert (two.refused() or "").startswith("MESSAGE_IDS: 2 named messages lie outside")
    assert (one.said() or "").startswith("1 of the selected messages lies outside")
    assert (two.said() or "").startswith("2 of the selected messages lie outside")
