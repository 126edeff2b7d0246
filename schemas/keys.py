"""Which keys of an input an error may name, and what an unknown key is said to resemble.

A refused input's errors travel into the 422 answer, the CLI's output, the engine's log and the
rejected listing, which roles without ``patient_data.read`` see. An error names a key of the
input only when that key cannot carry patient data, and the one rule for that is a fixed list,
not the key's shape: a mapping bug upstream sends names, addresses and dates as keys, and
``jan``, ``de_vries`` or ``jansen`` look exactly like the schemas' own keys. So a key is named
only when it is

- one of the schemas' own keys, at any place in any event type (``bsn``, ``zd_number``): then
  it is named wherever it stands, and one at a place the schema does not have it is said to be
  at the places it has (``bsn: is not a field here; the schema has it at patient.bsn``); or
- one of ``WELL_KNOWN_KEYS``: the JSON Schema keywords a document written against the
  published ``*.schema.json`` files may carry (``$schema``), and the Dutch words the schemas'
  own descriptions use for a part of the event (``zorgvraag``, ``verwijsbrief``, ``bepaling``,
  ``afnamelocatie``) or that a Dutch system calls it (``verwijzer``), each said with the key it
  means (``zorgvraag: is not a known field; did you mean care_question?``).

Any other key is ``WITHHELD_KEY`` (``…``) and its error stands at its parent's path
(``patient.name.…``). It is never echoed, not even a plain misspelling (``zd_numer``,
``refferer``): whether a typed key is a typo or a surname cannot be told from the key. Such an
error still says which of the schema's keys the typed one resembles, when one does closely
(``…: is not a known field; did you mean zd_number?``): first a key the schema has at that
place, else one it has elsewhere in the event. The suggestion is always the schema's own key,
never the typed one, so it tells no more of the typed key than that it looks like that field.
Only the first ``MAX_COMPARED`` withheld keys of one input are compared.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Final, get_args, get_origin

from pydantic import BaseModel

from schemas.diagnostic import DiagnosticRequest
from schemas.referral import Referral

WITHHELD_KEY: Final = "…"

WELL_KNOWN_KEYS: Final[Mapping[str, str | None]] = {
    # JSON Schema keywords: the published schema files declare "$schema", and a document
    # written against them may carry these. They are refused as unknown keys, and named.
    "$schema": None,
    "$id": None,
    "$comment": None,
    # Dutch words for parts of the event, the ones the schemas' descriptions use and
    # "verwijzer", the referrer: each with the schema's key for it.
    "zorgvraag": "care_question",
    "verwijsbrief": "letter",
    "verwijzer": "referrer",
    "bepaling": "tests",
    "bepalingen": "tests",
    "afnamelocatie": "collection",
}
"""Keys that are not the schemas' but are named anyway: none can be patient data. The value is
the schema's key it means (said as "did you mean ...?"), or None."""

_EVENT_TYPES: Final[dict[str, type[BaseModel]]] = {
    "referral": Referral,
    "diagnostic_request": DiagnosticRequest,
}
MAX_PLACES: Final = 3
"""The most places a "the schema has it at" hint lists; more are shown as a final ``…``."""
_CLOSE: Final = 0.8  # difflib's ratio for "resembles": zd_numer/zd_number is 0.94
LIST_ITEM: Final = "[*]"
"""How a place inside a list is written in a hint (``questions[*].title``)."""


@dataclass
class _Catalogue:
    """Where one event type (or all) has each key, and which keys each place has."""

    places: dict[str, list[str]] = field(default_factory=dict)
    """key -> the paths it stands at (``bsn`` -> ``["patient.bsn"]``)."""
    keys_at: dict[str, dict[str, None]] = field(default_factory=dict)
    """a place (``""`` the top, ``questions[*]`` a list's item) -> its keys, in the order the
    model declares them (the order pydantic validates them in)."""

    def add(self, model: type[BaseModel], place: str) -> None:
        own = self.keys_at.setdefault(place, {})
        for name, info in model.model_fields.items():
            key = info.alias or name
            own[key] = None
            path = f"{place}.{key}" if place else key
            where = self.places.setdefault(key, [])
            if path not in where:
                where.append(path)
            for nested, listed in _models_in(info.annotation):
                self.add(nested, path + LIST_ITEM if listed else path)


def _models_in(annotation: Any, listed: bool = False) -> Iterator[tuple[type[BaseModel], bool]]:
    """The models an annotation holds (through optional, union, list and ``Annotated``), each
    with whether it stands in a list."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, listed
        return
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        yield from _models_in(args[0], listed)
        return
    in_list = isinstance(origin, type) and issubclass(origin, list | tuple | set | frozenset)
    for arg in args:
        yield from _models_in(arg, listed or in_list)


@cache
def _catalogue(event_type: str | None) -> _Catalogue:
    catalogue = _Catalogue()
    for tag, model in _EVENT_TYPES.items():
        if event_type in (None, tag):
            catalogue.add(model, "")
    return catalogue


def keys_by_place(event_type: str) -> Mapping[str, Mapping[str, None]]:
    """For each place in an event of ``event_type`` that holds an object (``""`` the top,
    ``patient.address``, ``questions[*]``), the keys the schema has there, in the order its
    model declares them."""
    return _catalogue(event_type if event_type in _EVENT_TYPES else None).keys_at


@cache
def named_keys() -> frozenset[str]:
    """Every key an error may name: the schemas' own, anywhere, and ``WELL_KNOWN_KEYS``."""
    return frozenset(_catalogue(None).places) | frozenset(WELL_KNOWN_KEYS)


def shown_key(key: str) -> str:
    """``key`` itself when an error may name it (``named_keys``), else ``WITHHELD_KEY``."""
    return key if key in named_keys() else WITHHELD_KEY


def place_of(loc: Sequence[str | int]) -> str:
    """The place a location's keys stand at, as the catalogue writes it: ``("questions", 0)``
    -> ``questions[*]``."""
    place = ""
    for part in loc:
        if isinstance(part, int):
            place += LIST_ITEM
        else:
            place += f".{part}" if place else part
    return place


@dataclass(frozen=True, slots=True)
class UnknownKey:
    """What an error says of an unknown key besides "is not a known field": the places the
    schema has it (a schema key at the wrong place), or the schema's key it resembles."""

    places: tuple[str, ...] = ()
    resembles: str | None = None


MAX_COMPARED: Final = 20
"""The most withheld keys of one input compared with the schema's for a resemblance: an input
of a hundred thousand unknown keys must be refused in milliseconds, not minutes; the keys past
these are refused without a suggestion."""


def judge_unknown(
    event_type: str | None, parent: Sequence[str | int], key: str, *, compare: bool = True
) -> UnknownKey:
    """What to say of ``key``, refused as unknown at ``parent`` of an event of ``event_type``
    (None: any type). Never the key itself: whether it is named is ``shown_key``'s say.
    Without ``compare``, a key that is neither the schemas' nor well known is not compared
    with theirs (see ``MAX_COMPARED``)."""
    catalogue = _catalogue(event_type if event_type in _EVENT_TYPES else None)
    if key in catalogue.places:
        return UnknownKey(places=tuple(catalogue.places[key]))
    meant = WELL_KNOWN_KEYS.get(key)
    if meant is not None:
        return UnknownKey(resembles=meant)
    if key in WELL_KNOWN_KEYS or not compare:
        return UnknownKey()
    typed = key.strip().lower()
    here = sorted(catalogue.keys_at.get(place_of(parent), ()))
    for candidates in (here, sorted(catalogue.places)):
        close = difflib.get_close_matches(typed, candidates, n=1, cutoff=_CLOSE)
        if close:
            return UnknownKey(resembles=close[0])
    return UnknownKey()
