"""The generated JSON Schema and the parser decide edge values alike.

Upstream developers code against the JSON Schema files; the engine decides with
``parse_event``. A value one takes and the other refuses is a sender who passes their own
validation and is refused, or one whose event the schema calls wrong and the engine takes.
Each edge value here goes through both: the committed schema file, with a validator that
asserts ``format`` (jsonschema-rs, a development dependency), and the parser.

Where the parser is the more lenient on purpose (surrounding white space, which every string
loses; a UUID in braces or without hyphens, which it writes in the usual form), the schema is
stricter, so whatever the schema takes is taken; those spellings are not listed here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from schemas import EventValidationError, parse_event

from .support import edited

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


@cache
def validator_schema(filename: str) -> Any:
    """A committed schema file, read."""
    return json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))


@cache
def validator(filename: str) -> Any:
    return jsonschema_rs.validator_for(validator_schema(filename), validate_formats=True)


def schema_takes(data: dict[str, Any]) -> bool:
    return bool(validator(f"{data['type']}.schema.json").is_valid(data))


def parser_takes(data: dict[str, Any]) -> bool:
    try:
        parse_event(json.dumps(data))
    except EventValidationError:
        return False
    return True


def test_the_samples_are_taken_by_both(referral_data: dict[str, Any]) -> None:
    assert schema_takes(referral_data) and parser_takes(referral_data)


@pytest.mark.parametrize(
    ("event_id", "taken"),
    [
        ("6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001", True),
        ("6F1C2A4E-8B1D-4A53-9D0E-3C2B1A000001", True),
        ("00000000-0000-0000-0000-000000000001", True),
        ("00000000-0000-0000-0000-000000000000", False),
        ("ffffffff-ffff-ffff-ffff-ffffffffffff", False),
        ("FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF", False),
        ("6f1c2a4e-8b1d-4a53-9d0e", False),
    ],
)
def test_event_id(referral_data: dict[str, Any], event_id: str, taken: bool) -> None:
    data = edited(referral_data, "event_id", event_id)
    assert (schema_takes(data), parser_takes(data)) == (taken, taken)


PDF = "JVBERi0xLjQKJSVFT0YK"  # %PDF-1.4


@pytest.mark.parametrize(
    ("content_type", "taken"),
    [
        ("application/pdf", True),
        ("application/PDF", True),
        ("APPLICATION/PDF", True),
        ("Application/Pdf", True),
        ("application/pdf; charset=binary", False),
        ("application/x-pdf", False),
        ("application/pdfx", False),
        ("xapplication/pdf", False),
        ("applİcation/pdf", False),
    ],
)
def test_content_type(referral_data: dict[str, Any], content_type: str, taken: bool) -> None:
    attachment = {"filename": "brief.pdf", "content_type": content_type, "data": PDF}
    data = edited(referral_data, "attachments", [attachment])
    assert (schema_takes(data), parser_takes(data)) == (taken, taken)


CREATED_AT_EDGES = [
    ("2026-11-20T09:15:00+01:00", True),
    ("2026-11-20 09:15:00+01:00", True),  # a space for T: Python's str() of a time
    ("2026-11-20t09:15:00z", True),
    ("2026-11-20T08:15:00Z", True),
    ("2026-11-20T09:15:00-00:00", True),
    ("2026-11-20T09:15:00.5+01:00", True),
    ("2026-11-20T09:15:00.123456789Z", True),  # more digits than microseconds: cut
    ("2016-12-31T23:59:60Z", True),  # a leap second
    ("2017-01-01T00:59:60.5+01:00", True),
    ("2026-11-20T12:30:60Z", True),  # second 60 at any minute (a pattern cannot place it)
    ("2026-11-20T09:15:00+23:59", True),
    ("2026-11-20T09:15:00", False),  # no offset
    ("2026-11-20 09:15:00", False),
    ("2026-11-20T09:15:00+24:00", False),
    ("2026-11-20T09:15:00+00:60", False),  # was taken as +01:00
    ("2026-11-20T09:15:00+0100", False),
    ("2026-11-20T09:15:00+01", False),
    ("2026-11-20T09:15Z", False),
    ("2026-11-20T24:00:00Z", False),
    ("2026-11-20T09:60:00Z", False),
    ("2026-11-20T09:15:61Z", False),
    ("2026-11-20T09:15:00.Z", False),
    ("2026-11-20T09:15:00,5Z", False),
    ("2026-13-20T09:15:00Z", False),
    ("2026-11-32T09:15:00Z", False),
    ("2026-11-20_09:15:00Z", False),
    ("2026-11-20TT09:15:00Z", False),
    ("20261120T091500Z", False),
    ("2026-11-20", False),
    ("２０２６-11-20T09:15:00Z", False),  # digits, but not ASCII ones
]


@pytest.mark.parametrize(("created_at", "taken"), CREATED_AT_EDGES)
def test_created_at(referral_data: dict[str, Any], created_at: str, taken: bool) -> None:
    data = edited(
        edited(referral_data, "created_at", created_at), "patient.birth_date", "1980-01-01"
    )
    assert (schema_takes(data), parser_takes(data)) == (taken, taken)


@pytest.mark.parametrize(
    ("created_at", "rule"),
    [
        ("2026-02-30T09:15:00Z", "datetime_format"),
        ("2027-02-29T09:15:00Z", "datetime_format"),
        ("0001-01-01T00:00:00Z", "datetime_range"),
        ("9999-12-31T12:00:00Z", "datetime_range"),
    ],
)
def test_created_at_what_the_pattern_cannot_say_its_description_does(
    referral_data: dict[str, Any], created_at: str, rule: str
) -> None:
    """A day that does not exist, and the instants intake cannot move between zones: the
    schema's pattern takes them, its description names them and their rules."""
    data = edited(
        edited(referral_data, "created_at", created_at), "patient.birth_date", "0001-01-01"
    )
    assert schema_takes(data) and not parser_takes(data)
    description = validator_schema("referral.schema.json")["properties"]["created_at"]
    assert rule in description["description"]
    with pytest.raises(EventValidationError) as refused:
        parse_event(json.dumps(data))
    assert [(e.path, e.rule) for e in refused.value.errors] == [("created_at", rule)]


def test_created_at_has_no_format_that_refuses_what_intake_takes() -> None:
    """``format: date-time`` is RFC 3339's ``T`` only: a validator asserting it refused the
    space intake takes (and a validator that does not took anything)."""
    for filename in ("referral.schema.json", "diagnostic_request.schema.json"):
        created_at = validator_schema(filename)["properties"]["created_at"]
        assert "format" not in created_at and created_at["pattern"].startswith("^")
