"""Message ids as people type them: in full, or shortened to a prefix that only one id has.

Listings show ids shortened, the way git shows commits (docs/product.md §6). Message ids are
UUIDs, lower-case hex with dashes; people copy them in upper case, or without the dashes, so a
prefix is normalised before it is looked up.
"""

from __future__ import annotations

import re

from integrator.store.errors import NotFound, StoreError, UnknownMessage, no_such_id

MIN_PREFIX = 4
"""Hex digits a prefix needs: fewer match so many messages that the answer cannot help."""

MAX_CANDIDATES = 10
"""How many matching ids an ambiguous prefix lists; enough to pick from, short on a screen."""

_HEX = "0123456789abcdef"
_ID_TEXT = re.compile(r"[0-9a-f-]+")
_UUID_GROUPS = (8, 4, 4, 4, 12)
_WHOLE_ID = 36
_SEPARATORS = re.compile(r"[\s.-]")


class BadIdPrefix(StoreError, ValueError):
    """A prefix too short to look up."""

    exit_code = 2


class UnknownIdPrefix(NotFound):
    """No id of that kind (``message``, ``event``) starts with the prefix."""

    exit_code = 2

    def __init__(self, shown: str, kind: str = "message", *, whole: bool = False) -> None:
        super().__init__(no_such_id(kind, shown, starting=not whole))


class AmbiguousIdPrefix(StoreError, LookupError):
    """Several ids start with the prefix; ``candidates`` lists some, in id order (``more``:
    there are more than those)."""

    exit_code = 2

    def __init__(
        self, shown: str, candidates: list[str], *, more: bool, kind: str = "message"
    ) -> None:
        listed = ", ".join(candidates) + (", …" if more else "")
        super().__init__(
            f"{kind} id {shown} is ambiguous: {'more than ' if more else ''}"
            f"{len(candidates)} {kind}s have an id starting so ({listed}); give more characters"
        )
        self.candidates = tuple(candidates)
        self.more = more


def normalise(text: str) -> str:
    """Lower case, with a UUID's dashes put back where they were left out; no dash at the end."""
    value = text.strip().lower()
    if "-" not in value and _ID_TEXT.fullmatch(value):
        groups, start = [], 0
        for size in _UUID_GROUPS:
            if start < len(value):
                groups.append(value[start : start + size])
            start += size
        value = "-".join(groups)
    return value.rstrip("-")


def checked_prefix(text: str, kind: str = "message") -> str:
    """The normalised prefix of ``text``; refused if it cannot start an id or is too short."""
    prefix = normalise(text)
    if not prefix or not _ID_TEXT.fullmatch(prefix):
        raise (
            UnknownIdPrefix(shown(text), kind) if kind != "message" else UnknownMessage(shown(text))
        )
    if len(prefix.replace("-", "")) < MIN_PREFIX:
        article = "an" if kind[:1] in ("a", "e", "i", "o", "u") else "a"
        raise BadIdPrefix(
            f"{article} {kind} id needs at least {MIN_PREFIX} characters to be looked up by its "
            "start"
        )
    return prefix


def bounds(prefix: str) -> tuple[str, str]:
    """The range of ids starting with ``prefix``: ``low <= id < high``.

    ``high`` raises the last digit within the hex digits (``9`` to ``a``), not to the next
    character (``9`` to ``:``): under a linguistic collation such as ``en_US`` on PostgreSQL,
    punctuation is ignored at first, and ``…:`` would sort before every id starting with ``…9``.
    """
    last = prefix[-1]
    following = _HEX[_HEX.index(last) + 1] if last != "f" else "g"
    return prefix, prefix[:-1] + following


def the_one(text: str, prefix: str, found: list[str], kind: str = "message") -> str:
    """The single id of ``found`` (up to ``MAX_CANDIDATES + 1`` ids starting with ``prefix``)."""
    if not found:
        # As typed: the dashes put back into ``prefix`` made an MSH-10 read out on the phone
        # (``1A2506E014A7293F52D``) come back as ``1a2506e0-14a7-293f-52d``, which nobody typed.
        raise UnknownIdPrefix(shown(text), kind, whole=len(prefix) == _WHOLE_ID)
    if len(found) > 1:
        more = len(found) > MAX_CANDIDATES
        raise AmbiguousIdPrefix(shown(text), found[:MAX_CANDIDATES], more=more, kind=kind)
    return found[0]


def partial_id(text: str) -> bool:
    """Whether ``text`` reads as an id shortened as listings show it: the start of a UUID,
    long enough to look up, not a whole one."""
    prefix = normalise(text)
    return (
        _id_shaped(prefix)
        and len(prefix) < _WHOLE_ID
        and len(prefix.replace("-", "")) >= MIN_PREFIX
    )


DIGITS_SHOWN_AT_MOST = 5
"""An id typed with more digits than this and nothing else is not repeated: a date of birth
(``19610412``, as PID-7 shows it; ``120461``) or a phone number (``0612345678``) is hex
digits too. A real prefix of only digits is rare (under 3 % at 8 characters), and its
refusal says why it is not shown."""


def shown(text: str) -> str:
    """``text`` for an error message, unless it may be patient data typed into the wrong
    place: nine digits (a BSN), digits only (a date of birth, a phone number), or anything that
    is no id at all (a name, a date of birth with dashes), which is said to be no id without
    being repeated."""
    digits = _SEPARATORS.sub("", text)
    if len(digits) == 9 and digits.isdigit():
        return "(9 digits, not repeated here: if they are a patient's BSN, search by BSN instead)"
    if not _id_shaped(normalise(text)):
        return "(not an id, not repeated here: ids are hex digits and dashes)"
    if len(digits) > DIGITS_SHOWN_AT_MOST and digits.isdigit():
        return "(digits only, not repeated here: a date of birth or a phone number may be one)"
    return text.strip()


def could_start_id(text: str) -> bool:
    """Whether ``text`` could be an id or its start as people type it (any case, dashes left
    out): hex digits in a UUID's groups. A name, a date of birth written with dashes, a word
    is not, whatever its length; ``shown`` says so of it without repeating it."""
    return _id_shaped(normalise(text))


def _id_shaped(prefix: str) -> bool:
    """Whether ``prefix`` could start a UUID: hex digits, in groups of its sizes. A date of
    birth (``1970-01-31``) is hex digits and dashes too, but not in a UUID's groups."""
    if not _ID_TEXT.fullmatch(prefix):
        return False
    groups = prefix.split("-")
    if len(groups) > len(_UUID_GROUPS):
        return False
    *whole, last = groups
    return all(len(g) == size for g, size in zip(whole, _UUID_GROUPS, strict=False)) and (
        len(last) <= _UUID_GROUPS[len(whole)]
    )
