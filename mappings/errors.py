"""Why a mapping was refused, sorted by what the caller has to change.

::

    MappingError                    anything this package refuses; always permanent (no retry)
    ├── UnknownVersionError         the version name is not in the registry
    ├── RetiredVersionError         past its sunset; the message names the successor
    ├── NoMapperError               registered, but no mapper written yet
    ├── EventTypeMismatch           e.g. a referral handed to an ORM version
    ├── InvalidContext              the caller's MappingContext cannot produce a valid MSH
    │   └── InvalidControlId        MSH-10 too long, empty or holding delimiter characters
    └── UnknownCharsetError         an MSH-18 value `mappings.charset` cannot encode

Messages name versions, fields and rules only, never a value taken from an event: they end up
in logs and API answers, where patient data must not go. A message held because its mapping was
refused keeps the refusal among its warnings (`held: …`); the texts of the refusals `map_event`
makes are `Shape`s, so the console can word them (`shapes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from shapes import DATE, VERSION, Shape

_NAME: Final = r"[^']+"
_EVENT_TYPE: Final = r"[a-z_]+"
_VERSIONS: Final = rf"{VERSION}(?:, {VERSION})*"

UNKNOWN_VERSION: Final = Shape(
    "mapping.unknown_version",
    "unknown message version {version!r}; known versions: {known}",
    version=_NAME,
    known=_VERSIONS,
)
RETIRED: Final = Shape(
    "mapping.retired",
    "message version {version!r} is retired since {sunset}; use its successor {successor!r}",
    version=VERSION,
    sunset=DATE,
    successor=VERSION,
)
RETIRED_NO_SUCCESSOR: Final = Shape(
    "mapping.retired_no_successor",
    "message version {version!r} is retired since {sunset}",
    version=VERSION,
    sunset=DATE,
)
NO_MAPPER: Final = Shape(
    "mapping.no_mapper", "message version {version!r} has no mapper yet", version=VERSION
)
EVENT_TYPE_MISMATCH: Final = Shape(
    "mapping.event_type_mismatch",
    "message version {version!r} maps {expected!r} events, not {got!r} events",
    version=VERSION,
    expected=_EVENT_TYPE,
    got=_EVENT_TYPE,
)
UNKNOWN_CHARSET: Final = Shape(
    "mapping.unknown_charset",
    "unsupported MSH-18 character set {charset!r}; known: {known}",
    charset=_NAME,
    known=r"[^;]+",
)


class MappingError(Exception):
    """Base of every refusal from `mappings`; retrying the same call cannot succeed."""


class UnknownVersionError(MappingError, LookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(UNKNOWN_VERSION(version=name, known=", ".join(self.known)))


class RetiredVersionError(MappingError):
    def __init__(self, name: str, sunset: object, successor: str | None) -> None:
        self.name = name
        self.successor = successor
        shape = RETIRED if successor else RETIRED_NO_SUCCESSOR
        super().__init__(shape(version=name, sunset=sunset, successor=successor))


class NoMapperError(MappingError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(NO_MAPPER(version=name))


class EventTypeMismatch(MappingError):
    def __init__(self, name: str, expected: str, got: str) -> None:
        self.name = name
        self.expected = expected
        self.got = got
        super().__init__(EVENT_TYPE_MISMATCH(version=name, expected=expected, got=got))


class InvalidContext(MappingError, ValueError):
    """A MappingContext field breaks a rule; raised when the context is built."""


class InvalidControlId(InvalidContext):
    """MSH-10 must be 1-20 visible ASCII characters without HL7 delimiters."""


class UnknownCharsetError(MappingError, LookupError):
    def __init__(self, charset: str, known: Iterable[str]) -> None:
        self.charset = charset
        super().__init__(UNKNOWN_CHARSET(charset=charset, known=", ".join(known)))
