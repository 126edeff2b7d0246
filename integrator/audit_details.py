"""An audit entry's details as a person reads them: ``key: value``, for every front door.

The trail keeps ``details`` as JSON (``integrator.store``), which the API, ``--json`` and the
CSV export give as they are. Shown as Python writes them (``grants=['viewer@CARD']``,
``source=None``) a person reads brackets and a word that is neither Dutch nor English; so the
console's audit page and ``integrator audit list`` show each detail as ``key: value``: a list
joined with commas, nothing recorded as ``—``, a yes or no in the reader's language, a nested
object as its own ``key: value`` pairs (in parentheses when deeper still). The keys stay as
recorded: they are the trail's own names, the ones ``docs/access.md`` describes and a search
or a report refers to.

What is shown is what the trail recorded, as ``--json`` gives it, nothing more: the trail holds
no patient data (a BSN searched for is recorded as its keyed hash).

Plain text: each door escapes it for its own medium (the console's templates autoescape; the
CLI escapes rich markup), so a detail can never become markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

NOTHING: Final = "—"
"""A value the trail recorded as absent (``null``), or an empty list or object."""


@dataclass(frozen=True, slots=True)
class YesNo:
    """How a true or false detail reads: the console says it in the reader's language."""

    yes: str = "yes"
    no: str = "no"


ENGLISH: Final = YesNo()


TimeText = Callable[[datetime], str]
"""How a door shows a time (the CLI: in its time zone, to the second, ``presenters.shown_time``)."""

_RECORDED_TIME: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)"
)
"""A time as the trail records one in a detail (``expires_at``, ``dead_since``): ISO 8601 in
UTC. Shown so, it read an hour off every other time of the same listing."""


def value_text(
    value: Any, words: YesNo = ENGLISH, *, nested: bool = False, times: TimeText | None = None
) -> str:
    """One detail's value in words: ``viewer@CARD, lab@LAB``, ``yes``/``ja``, ``—``; a
    recorded time as ``times`` shows one, when given."""
    if value is None:
        return NOTHING
    if isinstance(value, bool):  # before int: a bool is one
        return words.yes if value else words.no
    if isinstance(value, str):
        if times is not None and _RECORDED_TIME.fullmatch(value):
            return times(datetime.fromisoformat(value))
        return value
    if isinstance(value, Mapping):
        pairs = ", ".join(
            f"{k}: {value_text(v, words, nested=True, times=times)}" for k, v in value.items()
        )
        if not pairs:
            return NOTHING
        return f"({pairs})" if nested else pairs
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v, words, nested=True, times=times) for v in value) or NOTHING
    return str(value)


def detail_pairs(
    details: Mapping[str, Any] | None,
    words: YesNo = ENGLISH,
    *,
    leave_out: Collection[str] = (),
    times: TimeText | None = None,
) -> list[tuple[str, str]]:
    """An entry's details as ``(key, value)`` in the order recorded, but for ``leave_out``
    (those a door shows in a column of their own); its times as ``times`` shows them."""
    return [
        (key, value_text(value, words, times=times))
        for key, value in (details or {}).items()
        if key not in leave_out
    ]
