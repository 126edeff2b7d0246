"""The history of some ZD numbers, and a batch judged against it in the transaction that
accepts it.

Intake judges each batch against the events accepted before under its ZD numbers
(``integrator.zd_sequence``) and puts what it finds into the messages' stored warnings. On
SQLite the history is read inside the accepting transaction, in the same hand-over to the writer
thread (``SqliteHotWrites.accept``): a read of its own was a second hand-over per batch, about a
quarter of the CPU of an HTTP POST of one event (``bench/bench_zd_check.py``), and it let a
batch committed by another worker in between go unseen. On PostgreSQL the read stays a
statement of its own, just before the accepting one (one round trip each).

The store knows nothing of the rules: a ``HistoryJudge`` given by the caller turns the history
into the warnings each event's messages take.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrator.store.codec import dump_json, load_json
from integrator.store.records import ZdEvent

HistoryRow = tuple[str, str, str, str]
"""(zd_number, event id, type, action), as the history query returns them, oldest first."""

HistoryJudge = Callable[[Mapping[str, Sequence[ZdEvent]]], Mapping[str, Sequence[str]]]
"""Given the accepted events of the batch's ZD numbers (oldest first, a number with none left
out), the warnings to add to each event's messages, by event id. On SQLite it runs on the
store's writer thread, inside the transaction: it must be quick and touch no event loop."""


def history_of(rows: Iterable[HistoryRow]) -> dict[str, list[ZdEvent]]:
    """The rows of the history query as lists of events per ZD number, in the rows' order."""
    found: dict[str, list[ZdEvent]] = {}
    for zd_number, event_id, event_type, action in rows:
        found.setdefault(zd_number, []).append(ZdEvent(event_id, event_type, action))
    return found


@dataclass(frozen=True, slots=True)
class JudgedBatch:
    """What an accepting transaction reads first, and how the batch's message rows change by it.

    ``zd_numbers``: the batch's, each once. ``noted(rows)``: given the history's rows, the
    message rows that take warnings, as new rows by their index among the batch's message rows.
    """

    zd_numbers: Sequence[str]
    noted: Callable[[Iterable[HistoryRow]], dict[int, dict[str, Any]]]


def judged_batch(
    zd_numbers: Iterable[str],
    message_rows: Sequence[tuple[str, Mapping[str, Any]]],
    judge: HistoryJudge,
) -> JudgedBatch:
    """The ``JudgedBatch`` of a batch whose messages are ``message_rows`` ((event id, row))."""

    def noted(rows: Iterable[HistoryRow]) -> dict[int, dict[str, Any]]:
        notes = judge(history_of(rows))
        if not notes:
            return {}
        return {
            index: {**row, "warnings": dump_json([*load_json(row["warnings"]), *found])}
            for index, (event_id, row) in enumerate(message_rows)
            if (found := notes.get(event_id))
        }

    return JudgedBatch(list(dict.fromkeys(zd_numbers)), noted)
