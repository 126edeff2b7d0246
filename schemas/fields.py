"""Annotated field types carrying the intake rules.

Each type raises a rule error (see `schemas.rules`) so the translation to `FieldError` can name
the rule. The JSON Schema annotations mirror the checks so the generated schema tells upstream
developers the same rules the validator enforces.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Collection
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic_core import core_schema as cs

from schemas import identifiers, native
from schemas.countries import ALPHA3
from schemas.errors import rule_error
from schemas.native import Native, NativeJson


def _blank_to_none(value: Any) -> Any:
    """An empty optional string means "not given": upstream systems send `""` for absent."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _string_schema(
    pattern: str | None = None, fmt: str | None = None, max_length: int | None = None
) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if max_length is not None:
        schema["maxLength"] = max_length
    if pattern is not None:
        schema["pattern"] = pattern
    if fmt is not None:
        schema["format"] = fmt
    return WithJsonSchema(schema)


MAX_TEXT: Final = 1_000
"""The most characters of a name, title, code, identifier, phone number or short description."""

MAX_LONG_TEXT: Final = 65_536
"""The most characters of free text: a letter section, an open answer, clinical information,
collection instructions. HL7's FT and TX types hold 65536; a GP letter section of 30 pages fits.
Counted as given: escaped on the wire it can be up to five times as long, and is sent whole all
the same (product.md §4)."""

MAX_EVENT_TEXT: Final = 1_000_000
"""The most characters of text in one event, every string together except attachment data.

With it, the text of an accepted event always makes a message of a few MB at most (escaping
can make a character up to five on the wire), far below an MLLP frame: every accepted event
can be sent, whatever its number of questions, tests or options."""


# The checks run in pydantic-core (``schemas.native``): stripped (the models' config), not
# blank, at most so long, matching a pattern, each failure reported as its rule.
_TEXT: Final = native.at_most(MAX_TEXT, "text_too_long")
_LONG_TEXT: Final = native.at_most(MAX_LONG_TEXT, "long_text_too_long")
_NON_BLANK_TEXT: Final = native.required(native.not_blank(), _TEXT)
_NON_BLANK_LONG_TEXT: Final = native.required(native.not_blank(), _LONG_TEXT)

NonBlankStr = Annotated[
    str,
    Native(_NON_BLANK_TEXT),
    NativeJson(native.non_blank_at_most(MAX_TEXT)),
    _string_schema(max_length=MAX_TEXT),
]
"""A required string of at most ``MAX_TEXT`` characters: present and not only whitespace."""

LongText = Annotated[
    str,
    Native(_NON_BLANK_LONG_TEXT),
    NativeJson(native.non_blank_at_most(MAX_LONG_TEXT)),
    _string_schema(max_length=MAX_LONG_TEXT),
]
"""Required free text of at most ``MAX_LONG_TEXT`` characters."""

Base64Data = Annotated[str, Native(native.required(native.not_blank())), _string_schema()]
"""Attachment data: bounded by its decoded size (``schemas.attachments``), not by characters."""

_Text = Annotated[
    str,
    Native(native.required(_TEXT)),
    WithJsonSchema({"type": "string", "maxLength": MAX_TEXT}),
]
_LongText = Annotated[
    str,
    Native(native.required(_LONG_TEXT)),
    WithJsonSchema({"type": "string", "maxLength": MAX_LONG_TEXT}),
]

OptionalText = Annotated[
    _Text | None, BeforeValidator(_blank_to_none), NativeJson(native.optional(_TEXT))
]
"""An optional string of at most ``MAX_TEXT`` characters; blank counts as absent."""

OptionalLongText = Annotated[
    _LongText | None,
    BeforeValidator(_blank_to_none),
    NativeJson(native.optional(_LONG_TEXT)),
]
"""Optional free text of at most ``MAX_LONG_TEXT`` characters; blank counts as absent."""


def check_long_text(value: str) -> str:
    """The free-text rule for callers outside a field (open answers); raises a rule error."""
    if len(value) > MAX_LONG_TEXT:
        raise rule_error("long_text_too_long")
    return value


# Each list has its maximum (`schemas.native.AtMostItems`), checked before any of its items is:
# a list of a million wrong items (a body of 3 MB) made a million errors and a minute of work.
# The numbers are far above what a GP sends, and below what a message can number: it numbers
# its OBX segments (letter sections, questions, attachments), DG1 (ICPC codes) and OBR (tests)
# in SI fields of 4 digits.
MAX_QUESTIONS: Final = 1_000
"""The most ``questions`` of one event."""
MAX_OPTIONS: Final = 1_000
"""The most ``options`` of one question."""
MAX_TESTS: Final = 1_000
"""The most ``tests`` of one diagnostic request."""
MAX_ICPC: Final = 100
"""The most ``icpc`` codes of one referral."""
MAX_ATTACHMENTS: Final = 100
"""The most ``attachments`` of one event (50 MiB in all, `schemas.attachments`)."""


def event_text_length(data: Any) -> int:
    """Characters of text in a raw event: every string (keys too), attachment data left out."""
    if isinstance(data, dict):
        return sum(event_text_by_field(data).values())
    return _text(data)


def event_text_by_field(data: dict[Any, Any]) -> dict[Any, int]:
    """`event_text_length` of each of a raw object's fields, its key included."""
    return {
        key: (len(key) if isinstance(key, str) else 0)
        + (_attachments_text(value) if key == "attachments" else _text(value))
        for key, value in data.items()
    }


def _attachments_text(value: Any) -> int:
    if not isinstance(value, list | tuple):
        return _text(value)
    return sum(
        _text({k: v for k, v in item.items() if k != "data"})
        if isinstance(item, dict)
        else _text(item)
        for item in value
    )


def _text(data: Any) -> int:
    if isinstance(data, str):
        return len(data)
    if isinstance(data, dict):
        if "attachments" in data:
            return sum(event_text_by_field(data).values())
        return _texts(data.keys()) + _texts(data.values())
    if isinstance(data, list | tuple):
        return _texts(data)
    return 0


def _texts(values: Collection[Any]) -> int:
    """`_text` of each of ``values``. A refused body can hold millions of numbers, or keys: the
    types are told apart by built-ins, and each value of a type with no text is passed over."""
    kinds = set(map(type, values))
    if kinds <= _NO_TEXT:
        return 0
    if kinds == {str}:
        return sum(map(len, values))
    return sum(_text(value) for value in values if type(value) not in _NO_TEXT)


_NO_TEXT: Final = frozenset({int, float, bool, type(None)})


def _eleven_test(value: str) -> str:
    # The last step of `_BSN`: pydantic-core has matched the nine digits before it.
    if not identifiers.eleven_test_passes(value):
        raise rule_error("bsn_eleven_test")
    return value


# The patterns of `schemas.identifiers`, anchored, in the regex syntax of pydantic-core; a test
# checks each against its Python function. An e-mail's "whitespace" is Python's (see above).
_ZD_NUMBER: Final = native.required(native.matching(r"^ZD[0-9]{9}$", "zd_number_format"))
_BSN: Final = native.required(
    native.matching(r"^[0-9]{9}$", "bsn_format"),
    cs.no_info_after_validator_function(_eleven_test, cs.str_schema(strip_whitespace=False)),
)
MAX_PROVIDER_ID: Final = 128
"""The most characters of ``provider.id``: the width the store keeps it in (and routes by)."""
_PROVIDER_ID_PATTERN: Final = f"^[^\\x00-\\x1F\\x7F-\\x9F]{{1,{MAX_PROVIDER_ID}}}$"
_PROVIDER_ID: Final = native.required(
    native.not_blank(), native.matching(_PROVIDER_ID_PATTERN, "provider_id_format")
)
_AGB: Final = native.required(native.matching(r"^[0-9]{8}$", "agb_format"))
_BIG: Final = native.required(native.matching(r"^[0-9]{11}$", "big_format"))
_UZOVI: Final = native.required(native.matching(r"^[0-9]{4}$", "uzovi_format"))
COUNTRY: Final = native.required(
    native.matching(f"^(?:{'|'.join(sorted(ALPHA3))})$", "country_format")
)
_NO_AT_OR_SPACE: Final = f"[^@{native.PY_SPACE_CLASS}]"
_NO_AT_SPACE_OR_DOT: Final = f"[^@.{native.PY_SPACE_CLASS}]"
_EMAIL: Final = native.required(
    native.matching(
        f"^{_NO_AT_OR_SPACE}+@{_NO_AT_SPACE_OR_DOT}+(?:\\.{_NO_AT_SPACE_OR_DOT}+)+$",
        "email_format",
    )
)
_ICPC: Final = native.required(native.matching(r"^[A-Z][0-9]{2}(?:\.[0-9]{1,2})?$", "icpc_format"))

ZdNumber = Annotated[str, Native(_ZD_NUMBER), _string_schema(r"^ZD[0-9]{9}$")]
Bsn = Annotated[str, Native(_BSN), _string_schema(r"^[0-9]{9}$")]
ProviderId = Annotated[
    str, Native(_PROVIDER_ID), _string_schema(_PROVIDER_ID_PATTERN, max_length=MAX_PROVIDER_ID)
]
"""What routing selects destinations by: a printable id of at most ``MAX_PROVIDER_ID``
characters. A longer one, or one with a NUL, was accepted here and refused by PostgreSQL's
column (an HTTP 500, the input lost), while SQLite kept it."""
Agb = Annotated[str, Native(_AGB), _string_schema(r"^[0-9]{8}$")]
Big = Annotated[str, Native(_BIG), _string_schema(r"^[0-9]{11}$")]
Uzovi = Annotated[str, Native(_UZOVI), _string_schema(r"^[0-9]{4}$")]
CountryCode = Annotated[str, Native(COUNTRY), _string_schema(r"^[A-Z]{2}$")]
Email = Annotated[str, Native(_EMAIL), _string_schema(fmt="email")]
IcpcCode = Annotated[str, Native(_ICPC), _string_schema(r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$")]

OptionalBsn = Annotated[
    Bsn | None, BeforeValidator(_blank_to_none), NativeJson(native.optional(_BSN))
]
OptionalAgb = Annotated[
    Agb | None, BeforeValidator(_blank_to_none), NativeJson(native.optional(_AGB))
]
OptionalBig = Annotated[
    Big | None, BeforeValidator(_blank_to_none), NativeJson(native.optional(_BIG))
]
OptionalEmail = Annotated[
    Email | None, BeforeValidator(_blank_to_none), NativeJson(native.optional(_EMAIL))
]


_UNSET_UUIDS: Final = frozenset({uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1)})
_UNSET_UUID_PATTERN: Final = (
    "^(0{8}-?0{4}-?0{4}-?0{4}-?0{12}|[Ff]{8}-?[Ff]{4}-?[Ff]{4}-?[Ff]{4}-?[Ff]{12})$"
)


def _made_for_the_event(value: uuid.UUID) -> uuid.UUID:
    """Neither the nil UUID nor the max UUID (RFC 9562 sections 5.9 and 5.10): each is what
    an unset field defaults to, not an id made for an event. As the idempotency key, one would
    make the second sender's event a duplicate of the first sender's: a referral lost."""
    if value in _UNSET_UUIDS:
        raise rule_error("uuid_unset")
    return value


EventId = Annotated[
    uuid.UUID,
    AfterValidator(_made_for_the_event),
    WithJsonSchema(
        {
            "type": "string",
            "format": "uuid",
            "not": {"pattern": _UNSET_UUID_PATTERN},
            "description": (
                "The idempotency key: a UUID made once for this event (version 4 or 7, say). "
                "The nil UUID (all 0) and the max UUID (all f) are refused (rule uuid_unset): "
                "they are what an unset field defaults to, and events of different senders "
                "would be taken as one."
            ),
        }
    ),
]
"""`event_id`: a UUID, not the nil or the max UUID."""


def _house_number(value: Any) -> Any:
    """JSON senders disagree on whether a house number is a number; both mean the same."""
    if isinstance(value, bool):
        raise rule_error("house_number")
    if isinstance(value, int):
        if value <= 0:
            raise rule_error("house_number")
        return str(value)
    if isinstance(value, str):
        if not value.strip():
            raise rule_error("house_number")
        return value.strip()
    raise rule_error("house_number")


HouseNumber = Annotated[
    str,
    BeforeValidator(_house_number),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer", "minimum": 1}]}
    ),
]


def _schema_version(value: Any) -> Any:
    """Only the JSON integer 1: pydantic's lax Literal would also take `true` and `1.0`."""
    if type(value) is not int or value != 1:
        raise rule_error("schema_version")
    return value


SchemaVersion = Annotated[
    Literal[1],
    BeforeValidator(_schema_version),
    # A JSON 1.0 or true is a float or a bool, which a strict int refuses.
    NativeJson(native.rule(cs.int_schema(strict=True, ge=1, le=1), "schema_version")),
]


_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATE_ANCHORED: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]"  # date and separator
    r"[0-9]{2}:[0-9]{2}:(?P<second>[0-9]{2})(\.[0-9]+)?"  # time with optional fraction
    # The offset, optional here so its absence gets its own rule. Its hour and minute are
    # RFC 3339's (00-23, 00-59): Python took +00:60 as +01:00, and the JSON Schema refuses it.
    r"([Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)
_RFC3339_SCHEMA: Final = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
"""What ``_RFC3339`` and ``datetime.fromisoformat`` take, as the JSON Schema's pattern. Not
``format: date-time``: that is RFC 3339's ``date-time`` with ``T`` only, and intake takes a
space too (RFC 3339 section 5.6 lets an application; Python's ``str()`` of a time writes one).
A pattern cannot say that the day exists or the range: the description does."""


def _iso_date(value: Any) -> Any:
    """`YYYY-MM-DD` only; pydantic's lax date would also accept Unix timestamps."""
    if isinstance(value, datetime.datetime):
        raise rule_error("date_format")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise rule_error("date_format") from None
    raise rule_error("date_format")


def _from_rfc3339(match: re.Match[str]) -> datetime.datetime:
    """The time ``_RFC3339`` matched. A leap second (``23:59:60``, RFC 3339 section 5.6) is
    taken as the last microsecond before it: Python's times have no second 60, and HL7's
    timestamps carry no fraction finer than that."""
    text = match.group(0).upper()
    if match.group("second") != "60":
        return datetime.datetime.fromisoformat(text)
    start, end = match.span("second")
    before = datetime.datetime.fromisoformat(f"{text[:start]}59{text[end:]}")
    return before.replace(microsecond=999_999)


def _rfc3339(value: Any) -> Any:
    """An RFC 3339 string or an aware datetime; a naive one would be misread across zones."""
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, str) and (match := _RFC3339.fullmatch(value.strip())):
        try:
            parsed = _from_rfc3339(match)
        except ValueError:
            raise rule_error("datetime_format") from None
    else:
        raise rule_error("datetime_format")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise rule_error("timezone_required")
    try:
        instant = parsed.astimezone(datetime.UTC)
    except OverflowError:  # year 1 with an offset east of UTC: before Python's first instant
        raise rule_error("datetime_range") from None
    if not _FIRST_INSTANT <= instant <= _LAST_INSTANT:
        raise rule_error("datetime_range")
    return parsed


# A day inside Python's range of times at either end: intake, the store and the mappings move
# an instant into other zones (up to 14 hours, UTC+14, for the birth date rule; the engine's
# zone for HL7), and a well-formed 0001-01-01T00:00:00+01:00 overflowed there, a 500 that kept
# nothing, where every other broken rule is named and the input kept.
_FIRST_INSTANT: Final = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)
_LAST_INSTANT: Final = datetime.datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=datetime.UTC)


# For JSON input: a plain YYYY-MM-DD is parsed in pydantic-core; anything else (surrounding
# Python whitespace, a number, a date pydantic-core refuses) gets the Python rule, which
# decides it exactly as before.
_JSON_DATE: Final = native.rule(
    cs.union_schema(
        [
            cs.chain_schema(
                [
                    cs.str_schema(strict=True, strip_whitespace=True, pattern=_ISO_DATE_ANCHORED),
                    cs.date_schema(),
                ]
            ),
            cs.no_info_plain_validator_function(_iso_date),
        ],
        mode="left_to_right",
    ),
    "date_format",
)
IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date), NativeJson(_JSON_DATE)]
OptionalIsoDate = Annotated[IsoDate | None, BeforeValidator(_blank_to_none)]
AwareDateTime = Annotated[
    datetime.datetime,
    BeforeValidator(_rfc3339),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _RFC3339_SCHEMA,
            "description": (
                "An RFC 3339 date-time with its UTC offset (Z or +hh:mm), e.g. "
                "2026-11-20T09:15:00+01:00. T and Z may be lower case, and a space may stand "
                "for T (RFC 3339 section 5.6); any number of fraction digits (microseconds "
                "kept); second 60 is a leap second. The day must exist (rule datetime_format), "
                "and the instant lie between 0001-01-02 and 9999-12-30 in UTC (datetime_range)."
            ),
            "examples": ["2026-11-20T09:15:00+01:00", "2026-11-20T08:15:00Z"],
        }
    ),
]


def parse_iso_date(value: Any) -> datetime.date:
    """The date rule for callers outside a field (question answers); raises a rule error."""
    result: datetime.date = _iso_date(value)
    return result


def parse_aware_datetime(value: Any) -> datetime.datetime:
    """The date-time rule for callers outside a field (deferred cross-field rules)."""
    result: datetime.datetime = _rfc3339(value)
    return result
