"""The shipped sample events are valid and come out with the types mappers rely on."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import DiagnosticRequest, Referral, parse_event

from .support import parse_both

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "samples"


def test_referral_sample_parses(referral_data: dict[str, Any]) -> None:
    event = parse_both(referral_data)
    assert isinstance(event, Referral)
    assert event.event_id == uuid.UUID("6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001")
    assert event.created_at.utcoffset() == datetime.timedelta(hours=1)
    assert event.patient.bsn == "999990019"
    assert event.patient.birth_date == datetime.date(1961, 4, 12)
    assert event.questions[0].answer is False
    assert event.questions[1].answer == ("binnen 4 weken",)
    pdf = base64.b64decode(referral_data["attachments"][0]["data"])
    assert event.attachments[0].size == len(pdf)
    assert event.icpc[0].code == "K74"


def test_diagnostic_request_sample_parses(diagnostic_request_data: dict[str, Any]) -> None:
    event = parse_both(diagnostic_request_data)
    assert isinstance(event, DiagnosticRequest)
    assert [test.code for test in event.tests] == ["HB", "TSH"]
    assert event.tests[0].coding_system == "L"
    assert event.patient.bsn is None
    assert event.patient.address is not None
    assert event.patient.address.postcode == "2511 AB"
    assert event.patient.address.country == "NL"
    assert event.collection is not None
    assert event.collection.requested_date == datetime.date(2026, 11, 24)


def test_every_sample_file_parses_from_raw_bytes() -> None:
    files = sorted(SAMPLES.glob("*.json"))
    assert files, "no sample events found"
    for path in files:
        event = parse_event(path.read_bytes())
        assert event.type == json.loads(path.read_text(encoding="utf-8"))["type"]


def test_text_and_bytes_and_mapping_agree(referral_data: dict[str, Any]) -> None:
    text = json.dumps(referral_data)
    raw = text.encode()
    expected = parse_event(referral_data)
    for body in (text, raw, bytearray(raw), memoryview(raw)):
        assert parse_event(body) == expected


def test_defaults_apply(diagnostic_request_data: dict[str, Any]) -> None:
    data = {k: v for k, v in diagnostic_request_data.items() if k not in {"action", "priority"}}
    event = parse_both(data)
    assert (event.action, event.priority, event.attachments, event.cluster) == (
        "new",
        "routine",
        (),
        None,
    )


def test_events_are_frozen(referral_data: dict[str, Any]) -> None:
    event = parse_both(referral_data)
    with pytest.raises(ValidationError, match="frozen"):
        event.zd_number = "ZD999999999"  # type: ignore[misc]
    assert event.zd_number == "ZD100000001"
