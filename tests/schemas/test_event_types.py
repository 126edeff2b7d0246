"""Rules specific to each event type: the referral letter and ICPC codes, the lab tests."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from schemas import DiagnosticRequest, Referral

from .support import edited, errors_of, parse_both, single_error

# --- referral ----------------------------------------------------------------------------------


def test_letter_reason_required(referral_data: dict[str, Any]) -> None:
    assert single_error(edited(referral_data, "letter.reason")) == ("letter.reason", "required")


def test_letter_with_only_reason_accepted(referral_data: dict[str, Any]) -> None:
    event = parse_both(edited(referral_data, "letter", {"reason": "Pijn op de borst."}))
    assert isinstance(event, Referral)
    assert event.letter.history is None


def test_letter_keeps_line_breaks(referral_data: dict[str, Any]) -> None:
    event = parse_both(referral_data)
    assert isinstance(event, Referral)
    assert event.letter.history == "Hypertensie sinds 2019.\nRookt 10 sigaretten per dag."


def test_care_question_text_required(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "care_question.text")
    assert single_error(data) == ("care_question.text", "required")


@pytest.mark.parametrize("code", ["K77", "A01", "T90.02", "R05.1"])
def test_icpc_codes_accepted(referral_data: dict[str, Any], code: str) -> None:
    event = parse_both(edited(referral_data, "icpc[0].code", code))
    assert isinstance(event, Referral)
    assert event.icpc[0].code == code


@pytest.mark.parametrize("code", ["k77", "K7", "K777", "77K", "K77.123", "K77."])
def test_bad_icpc_codes_refused(referral_data: dict[str, Any], code: str) -> None:
    assert single_error(edited(referral_data, "icpc[0].code", code)) == (
        "icpc[0].code",
        "icpc_format",
    )


def test_icpc_optional(referral_data: dict[str, Any]) -> None:
    event = parse_both(edited(referral_data, "icpc"))
    assert isinstance(event, Referral)
    assert event.icpc == ()


def test_referral_refuses_diagnostic_fields(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "tests", [{"code": "HB", "name": "Hemoglobine"}])
    assert single_error(data) == ("tests", "unknown_field")


# --- diagnostic request ---------------------------------------------------------------------------


@pytest.mark.parametrize("tests", [[], None])
def test_at_least_one_test(diagnostic_request_data: dict[str, Any], tests: object) -> None:
    data = edited(diagnostic_request_data, "tests", tests)
    expected_rule = "at_least_one" if tests == [] else "type"
    assert single_error(data) == ("tests", expected_rule)


def test_tests_required(diagnostic_request_data: dict[str, Any]) -> None:
    assert single_error(edited(diagnostic_request_data, "tests")) == ("tests", "required")


def test_test_fields(diagnostic_request_data: dict[str, Any]) -> None:
    data = edited(diagnostic_request_data, "tests[1].name")
    data = edited(data, "tests[0].specimen.colour", "red")
    assert set(errors_of(data)) == {
        ("tests[1].name", "required"),
        ("tests[0].specimen.…", "unknown_field"),  # not the schemas' key: not named
    }


def test_coding_system_and_container(diagnostic_request_data: dict[str, Any]) -> None:
    data = edited(diagnostic_request_data, "tests[0].coding_system", "99zda")
    data = edited(data, "tests[0].specimen.container", "EDTA")
    event = parse_both(data)
    assert isinstance(event, DiagnosticRequest)
    assert event.tests[0].coding_system == "99zda"
    assert event.tests[0].specimen is not None
    assert event.tests[0].specimen.container == "EDTA"
    assert event.tests[1].coding_system == "L"


def test_specimen_needs_type(diagnostic_request_data: dict[str, Any]) -> None:
    data = edited(diagnostic_request_data, "tests[0].specimen", {"container": "EDTA"})
    assert single_error(data) == ("tests[0].specimen.type", "required")


@pytest.mark.parametrize("requested", ["24-11-2026", "2026-11-24T08:00:00+01:00", 20261124])
def test_collection_date_is_a_date(
    diagnostic_request_data: dict[str, Any], requested: object
) -> None:
    data = edited(diagnostic_request_data, "collection.requested_date", requested)
    assert single_error(data) == ("collection.requested_date", "date_format")


def test_collection_all_optional(diagnostic_request_data: dict[str, Any]) -> None:
    event = parse_both(edited(diagnostic_request_data, "collection", {}))
    assert isinstance(event, DiagnosticRequest)
    assert event.collection is not None
    assert event.collection.requested_date is None
    without = parse_both(edited(diagnostic_request_data, "collection"))
    assert isinstance(without, DiagnosticRequest)
    assert without.collection is None


def test_collection_requested_date_parsed(diagnostic_request_data: dict[str, Any]) -> None:
    event = parse_both(diagnostic_request_data)
    assert isinstance(event, DiagnosticRequest)
    assert event.collection is not None
    assert event.collection.requested_date == datetime.date(2026, 11, 24)


def test_diagnostic_request_refuses_letter(diagnostic_request_data: dict[str, Any]) -> None:
    data = edited(diagnostic_request_data, "letter", {"reason": "x"})
    assert single_error(data) == ("letter", "unknown_field")
