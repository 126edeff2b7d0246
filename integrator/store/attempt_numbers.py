"""Which number each recorded attempt gets: its own, 1 to n, whichever engine made it.

An engine numbers an attempt from the message as it received it (``attempt_count + 1``). Two
engines can send the same message: the broker gives it again to the other engine when it
restarts, or when one engine's link is cut, while the message is on the wire; an engine frozen
past the heartbeat sends what it held when it wakes. Both then said "attempt #1": the history
had two rows numbered 1, and the message counted one attempt after two.

The rule, on both dialects: a message's ``attempt_count`` is the highest number stored for it.
An attempt whose number is free (above ``attempt_count``, which the write reads from the
message's row while holding it, so two engines at once take turns) keeps it: that is every
attempt but these. One whose number is taken gets the next free one, and the attempts after it
in the same batch move up with it, in the order they are recorded; ``attempt_count`` follows.
Which attempt decides the status is ``late_records``'s rule: an attempt recorded after its
message was delivered is in the history but leaves the message delivered.

The common path does not read the attempts: the statement that writes them checks the numbers
against the rows it updates and writes nothing when one is taken (``Taken``). Only then are the
message's attempts read, the numbers given out here, and the batch written under them, in one
transaction. The number is in the sealed ACK and error's associated data
(``codec.attempt_identity``), so a moved attempt is sealed again under its new one by the store.

A batch written again after a try whose answer was lost (``again``) passes over an attempt
stored already: the same message and start, under its own number or one it was moved up to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]
Renumbered = Callable[[int, int], tuple[Row, Row]]
"""(index in the batch, its new number) -> the message update and the attempt row, sealed under
that number: the store's, which holds the data keys."""


class Taken(Exception):
    """A number the batch gives is stored already: the statement wrote nothing."""


@dataclass(frozen=True, slots=True)
class Given:
    """One attempt of a batch as the driver sees it: its message, number and start (the start in
    the driver's form, compared with the stored one as read back)."""

    message_id: str
    number: int
    started_at: Any


def in_order(attempt_rows: Iterable[Row]) -> bool:
    """Whether each message's numbers rise along the batch (attempt rows, ``codec``), as one
    engine's do: then comparing the first with the message's ``attempt_count`` tells whether
    all are free."""
    last: dict[str, int] = {}
    for row in attempt_rows:
        message_id, number = row["message_id"], row["number"]
        if last.get(message_id, 0) >= number:
            return False
        last[message_id] = number
    return True


def numbered(
    given: Sequence[Given],
    counts: Mapping[str, int],
    stored: Iterable[tuple[str, int, Any]],
    *,
    again: bool,
) -> list[int | None]:
    """The number each attempt is stored under, or None when it is stored already (``again``).

    ``counts``: the messages' ``attempt_count`` (a message not there is unknown: its attempt
    keeps its number, and the foreign key refuses it). ``stored``: (message, number, start) of
    the messages' stored attempts.
    """
    top = dict(counts)
    starts: dict[str, list[tuple[int, Any]]] = {}
    for message_id, number, started_at in stored:
        top[message_id] = max(top.get(message_id, 0), number)
        starts.setdefault(message_id, []).append((number, started_at))
    out: list[int | None] = []
    for attempt in given:
        if again and any(
            number >= attempt.number and started_at == attempt.started_at
            for number, started_at in starts.get(attempt.message_id, ())
        ):
            out.append(None)
            continue
        if attempt.message_id not in counts:
            out.append(attempt.number)
            continue
        number = max(attempt.number, top[attempt.message_id] + 1)
        top[attempt.message_id] = number
        out.append(number)
    return out
