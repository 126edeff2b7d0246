"""The bounds on a refused event's answer and work, and the rule on an event's text in all.

A body can break a rule for every item and every key it holds: a list of a million wrong items,
or an object of a million unknown keys, in a few MB. Lists have their maximum, checked before
their items (``schemas.native.AtMostItems``); keys have none. So an answer names at most
``MAX_LISTED`` broken rules and then says how many more there are (``listed``), and a body with
more errors than ``READ_AT_MOST`` has only a pruned copy of it read (``pruned``): turning each
of pydantic's errors into a ``FieldError`` costs some 20 µs, and a million of them froze intake
for a minute.

The text of an event in all (``event_text_too_long``) is judged alongside its fields, on the
raw body (``text_too_long``), so that a sender who broke it and field rules hears of all of
them in one answer; and it names the fields that hold the most text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from schemas.errors import FieldError
from schemas.fields import (
    MAX_ATTACHMENTS,
    MAX_EVENT_TEXT,
    MAX_ICPC,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAX_TESTS,
    event_text_by_field,
)
from schemas.keys import LIST_ITEM, MAX_COMPARED, WITHHELD_KEY, keys_by_place, shown_key
from schemas.rules import EVENT_TEXT_IN, MAX_LISTED, MORE_ERRORS
from schemas.translate import format_path

READ_AT_MOST: Final = 1_000
"""The most of pydantic's errors that are read as they are. A body with more is validated again
as a copy without the unknown keys past the first ``MAX_LISTED + 1`` (``pruned``), whose errors
are read instead: they begin the same answer, and pydantic need not hand over a million."""

LARGEST: Final = 3
"""How many of an event's fields an ``event_text_too_long`` error names."""

_LONGEST_LIST: Final = max(MAX_QUESTIONS, MAX_OPTIONS, MAX_TESTS, MAX_ICPC, MAX_ATTACHMENTS)


def listed(errors: tuple[FieldError, ...], found: int) -> tuple[FieldError, ...]:
    """``errors`` when there are at most ``MAX_LISTED``; else the first ``MAX_LISTED`` and one
    entry (rule ``more_errors``) that says how many more of the ``found`` there are: each
    broken rule, a repeated one too (a thousand unknown keys of one object are one error,
    ``patient.…``, and a thousand of those found)."""
    if len(errors) <= MAX_LISTED:
        return errors
    more = FieldError("$", "more_errors", MORE_ERRORS(count=found - MAX_LISTED))
    return (*errors[:MAX_LISTED], more)


def text_too_long(decoded: Any) -> FieldError | None:
    """The error of a raw event whose text in all is more than ``MAX_EVENT_TEXT`` characters,
    naming its ``LARGEST`` fields by their text; None when it fits, or is no object."""
    if not isinstance(decoded, dict):
        return None
    by_field = event_text_by_field(decoded)
    if sum(by_field.values()) <= MAX_EVENT_TEXT:
        return None
    largest = sorted(by_field.items(), key=lambda item: -item[1])[:LARGEST]
    parts = ", ".join(f"{_shown(key)} ({size})" for key, size in largest)
    return FieldError("$", "event_text_too_long", EVENT_TEXT_IN(parts=parts))


def _shown(key: Any) -> str:
    return format_path((key,)) if isinstance(key, str) else format_path(("…",))


def pruned(decoded: dict[str, Any], event_type: str) -> tuple[dict[str, Any], bool]:
    """A copy of a raw event of ``event_type`` whose errors make the same answer as its own
    (`listed`), and whether it has every error the answer could show (only repeats left out).

    The copy leaves out the keys the schema does not have at their place that only repeat an
    error (the unknown keys past the first ``MAX_COMPARED`` that its schema does not name make
    one error per object, ``patient.…``), and every such key once ``MAX_LISTED + 1`` errors are
    kept, with room for as many as may merge (``MAX_COMPARED``); and the items of a list of
    objects past the longest list's maximum (a list longer than its maximum is refused as a
    whole, its items unread). The keys are taken in the order pydantic reports them: an
    object's fields in the order its model declares them, each with what is inside it, then
    the object's unknown keys in their order. Only objects at a place the schema has are
    looked into; what else a value holds is kept as it is.
    """
    places = keys_by_place(event_type)
    kept_errors: set[tuple[Any, ...]] = set()
    withheld = [0]
    room = MAX_LISTED + 1 + MAX_COMPARED
    complete = [True]

    def walk(value: Any, loc: tuple[Any, ...], place: str) -> Any:
        if isinstance(value, dict):
            known = places.get(place)
            return value if known is None else fields(value, loc, place, known)
        if isinstance(value, list | tuple) and place + LIST_ITEM in places:
            items = value[: _LONGEST_LIST + 1]
            return [walk(item, (*loc, n), place + LIST_ITEM) for n, item in enumerate(items)]
        return value

    def fields(
        value: dict[Any, Any], loc: tuple[Any, ...], place: str, known: Mapping[str, None]
    ) -> dict[Any, Any]:
        kept = {
            key: walk(value[key], (*loc, key), f"{place}.{key}" if place else key)
            for key in known
            if key in value
        }
        for key, child in value.items():
            if key in known:
                continue
            error = unknown_key_error(loc, key)
            if error in kept_errors:
                continue
            if len(kept_errors) >= room:
                complete[0] = False
                continue
            kept_errors.add(error)
            kept[key] = child
        return kept

    def unknown_key_error(loc: tuple[Any, ...], key: Any) -> tuple[Any, ...]:
        """What tells the error of an unknown key from the others (`schemas.translate`): the
        key itself when it is named, or compared with the schema's keys; else its object."""
        if not isinstance(key, str) or shown_key(key) != WITHHELD_KEY:
            return (loc, key)
        withheld[0] += 1
        return (loc, key) if withheld[0] <= MAX_COMPARED else (loc,)

    copy = fields(decoded, (), "", places[""])
    return copy, complete[0]
