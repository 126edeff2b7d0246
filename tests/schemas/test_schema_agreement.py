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
def validator(filename: str) -> Any:
    schema = json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema, validate_formats=True)


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
