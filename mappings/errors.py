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
in logs and API answers, where patient data must not go.
"""

from __future__ import annotations

from collections.abc import Iterable


class MappingError(Exception):
    """Base of every refusal from `mappings`; retrying the same call cannot succeed."""


class UnknownVersionError(MappingError, LookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(
            f"unknown message version {name!r}; known versions: {', '.join(self.known)}"
        )


class RetiredVersionError(MappingError):
    def __init__(self, name: str, sunset: object, successor: str | None) -> None:
        self.name = name
        self.successor = successor
        hint = f"; use its successor {successor!r}" if successor else ""
        super().__init__(f"message version {name!r} is retired since {sunset}{hint}")


class NoMapperError(MappingError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"message version {name!r} has no mapper yet")


class EventTypeMismatch(MappingError):
    def __init__(self, name: str, expected: str, got: str) -> None:
        self.name = name
        self.expected = expected
        self.got = got
        super().__init__(f"message version {name!r} maps {expected!r} events, not {got!r} events")


class InvalidContext(MappingError, ValueError):
    """A MappingContext field breaks a rule; raised when the context is built."""


class InvalidControlId(InvalidContext):
    """MSH-10 must be 1-20 visible ASCII characters without HL7 delimiters."""


class UnknownCharsetError(MappingError, LookupError):
    def __init__(self, charset: str, known: Iterable[str]) -> None:
        self.charset = charset
        super().__init__(f"unsupported MSH-18 character set {charset!r}; known: {', '.join(known)}")
