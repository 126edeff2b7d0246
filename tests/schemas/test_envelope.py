"""Envelope rules: identifiers, version, timestamps, the type switch, unknown keys, bad JSON."""

from __future__ import annotations

import datetime
import json
from types import MappingProxyType
from typing import Any

import pytest

from schemas import EventValidationError, parse_event

from .support import edited, errors_of, parse_both, single_error


@pytest.mark.parametrize(
    "event_id",
    ["6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001", "6F1C2A4E8B1D4A539D0E3C2B1A000001"],
)
def test_event_id_accepts_uuids(referral_data: dict[str, Any], event_id: str) -> None:
    event = parse_both(edited(referral_data, "event_id", event_id))
    assert str(event.event_id) == "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001"


@pytest.mark.parametrize("event_id", ["not-a-uuid", "", 12345, "6f1c2a4e-8b1d-4a53-9d0e"])
def test_event_id_refuses_non_uuids(referral_data: dict[str, Any], event_id: object) -> None:
    assert single_error(edited(referral_data, "event_id", event_id)) == ("event_id", "uuid_format")


@pytest.mark.parametrize(
    "event_id",
    [
        "00000000-0000-0000-0000-000000000000",
        "00000000000000000000000000000000",
        "{00000000-0000-0000-0000-000000000000}",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
        "urn:uuid:ffffffff-ffff-ffff-ffff-ffffffffffff",
    ],
)
def test_event_id_refuses_the_nil_and_the_max_uuid(
    referral_data: dict[str, Any], event_id: str
) -> None:
    """What an unset field defaults to: taken as the idempotency key, the second sender's event
    was a duplicate of the first sender's, its referral lost. Any spelling the parser takes."""
    assert single_error(edited(referral_data, "event_id", event_id)) == ("event_id", "uuid_unset")


@pytest.mark.parametrize(
    "event_id", ["00000000-0000-0000-0000-000000000001", "7fffffff-ffff-ffff-ffff-ffffffffffff"]
)
def test_event_id_next_to_the_nil_and_the_max_uuid_is_taken(
    referral_data: dict[str, Any], event_id: str
) -> None:
    assert str(parse_both(edited(referral_data, "event_id", event_id)).event_id) == event_id


def test_schema_version_one_accepted(referral_data: dict[str, Any]) -> None:
    assert parse_both(edited(referral_data, "schema_version", 1)).schema_version == 1


@pytest.mark.parametrize("version", [2, 0, "1", True, 1.0, None])
def test_schema_version_other_refused(referral_data: dict[str, Any], version: object) -> None:
    data = edited(referral_data, "schema_version", version)
    assert single_error(data) == ("schema_version", "schema_version")


def test_schema_version_missing(referral_data: dict[str, Any]) -> None:
    assert single_error(edited(referral_data, "schema_version")) == ("schema_version", "required")


@pytest.mark.parametrize("zd", ["ZD000000000", "ZD123456789", " ZD123456789 "])
def test_zd_number_accepted(referral_data: dict[str, Any], zd: str) -> None:
    assert parse_both(edited(referral_data, "zd_number", zd)).zd_number == zd.strip()


@pytest.mark.parametrize(
    "zd", ["ZD12345678", "ZD1234567890", "zd123456789", "XY123456789", "123456789", "ZD١٢٣٤٥٦٧٨٩"]
)
def test_zd_number_refused(referral_data: dict[str, Any], zd: str) -> None:
    assert single_error(edited(referral_data, "zd_number", zd)) == ("zd_number", "zd_number_format")


@pytest.mark.parametrize(
    ("text", "offset_hours"),
    [
        ("2026-11-20T09:15:00+01:00", 1),
        ("2026-11-20T08:15:00Z", 0),
        ("2026-11-20t08:15:00z", 0),
        ("2026-11-20T09:15:00.123456+01:00", 1),
        ("2026-11-20 04:15:00-04:00", -4),
    ],
)
def test_created_at_rfc3339_with_offset(
    referral_data: dict[str, Any], text: str, offset_hours: int
) -> None:
    event = parse_both(edited(referral_data, "created_at", text))
    assert event.created_at.utcoffset() == datetime.timedelta(hours=offset_hours)
    assert event.created_at.astimezone(datetime.UTC).hour == 8


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999+00:00"),
        ("2017-01-01T00:59:60.5+01:00", "2016-12-31T23:59:59.999999+00:00"),
    ],
)
def test_created_at_leap_second_is_the_last_microsecond_before_it(
    referral_data: dict[str, Any], text: str, utc: str
) -> None:
    # RFC 3339 section 5.6 allows second 60; Python's times have none. Before, it was refused as
    # "must be an RFC 3339 date-time", which it is.
    data = edited(edited(referral_data, "created_at", text), "patient.birth_date", "1980-01-01")
    event = parse_both(data)
    assert event.created_at.astimezone(datetime.UTC).isoformat() == utc


@pytest.mark.parametrize(
    "created_at",
    ["2025-02-28T23:30:00Z", "2025-03-01T00:30:00+01:00", "2025-02-28T10:00:00-12:00"],
)
def test_born_on_created_at_date_anywhere_accepted(
    referral_data: dict[str, Any], created_at: str
) -> None:
    # One instant, three spellings: 00:30 on 1 March in Amsterdam. Before, the UTC spelling
    # refused a baby born that night (its date in UTC was still 28 February).
    data = edited(
        edited(referral_data, "created_at", created_at), "patient.birth_date", "2025-03-01"
    )
    assert parse_both(data).patient.birth_date == datetime.date(2025, 3, 1)


def test_born_after_created_at_date_everywhere_refused(referral_data: dict[str, Any]) -> None:
    # 10:00 UTC is 00:00 the next day at UTC+14, the furthest ahead: a birth on 2 March is
    # later than that instant's date anywhere.
    data = edited(
        edited(referral_data, "created_at", "2025-02-28T10:00:00Z"),
        "patient.birth_date",
        "2025-03-02",
    )
    assert single_error(data) == ("patient.birth_date", "birth_date_after_created_at")
    data = edited(
        edited(referral_data, "created_at", "2025-02-28T09:59:59Z"),
        "patient.birth_date",
        "2025-03-01",
    )
    assert single_error(data) == ("patient.birth_date", "birth_date_after_created_at")


@pytest.mark.parametrize("text", ["2026-11-20T09:15:00", "2026-11-20 09:15:00.5"])
def test_created_at_without_offset_refused(referral_data: dict[str, Any], text: str) -> None:
    data = edited(referral_data, "created_at", text)
    assert single_error(data) == ("created_at", "timezone_required")


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20",
        "20-11-2026 09:15",
        "2026-13-20T09:15:00+01:00",
        "2026-11-20T09:15+01:00",
        "yesterday",
        1763626500,
        "",
    ],
)
def test_created_at_malformed_refused(referral_data: dict[str, Any], value: object) -> None:
    data = edited(referral_data, "created_at", value)
    assert single_error(data) == ("created_at", "datetime_format")


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",  # before Python's first instant once in UTC
        "0001-01-01T00:30:00+14:00",
        "0001-01-01T00:00:00Z",  # representable, but not 14 hours earlier or in another zone
        "9999-12-31T23:30:00-01:00",  # after its last
        "9999-12-31T12:00:00Z",
    ],
)
def test_created_at_at_the_ends_of_time_is_refused_naming_the_rule(
    referral_data: dict[str, Any], text: str
) -> None:
    """Well-formed, these overflowed where intake moves the instant into another zone (the
    birth date rule, the store, HL7): an OverflowError, over HTTP a 500 that kept nothing."""
    data = edited(referral_data, "created_at", text)
    assert single_error(data) == ("created_at", "datetime_range")


def test_created_at_a_day_inside_the_ends_of_time_is_taken(referral_data: dict[str, Any]) -> None:
    born_early = edited(referral_data, "patient.birth_date", "0001-01-01")
    parse_both(edited(born_early, "created_at", "0001-01-02T00:00:00Z"))
    parse_both(edited(referral_data, "created_at", "9999-12-30T23:59:59Z"))


def test_naive_datetime_object_refused_in_mapping(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "created_at", datetime.datetime(2026, 11, 20, 9, 15))
    with pytest.raises(EventValidationError) as caught:
        parse_event(data)
    assert [(e.path, e.rule) for e in caught.value.errors] == [("created_at", "timezone_required")]


@pytest.mark.parametrize("field", ["action", "priority"])
def test_enumerations_refuse_other_values(referral_data: dict[str, Any], field: str) -> None:
    assert single_error(edited(referral_data, field, "later")) == (field, "allowed_values")


def test_cancel_and_urgent_accepted(referral_data: dict[str, Any]) -> None:
    event = parse_both(edited(edited(referral_data, "action", "cancel"), "priority", "urgent"))
    assert (event.action, event.priority) == ("cancel", "urgent")


def test_unknown_type_refused(referral_data: dict[str, Any]) -> None:
    assert single_error(edited(referral_data, "type", "prescription")) == ("type", "allowed_values")


def test_missing_type_refused(referral_data: dict[str, Any]) -> None:
    assert single_error(edited(referral_data, "type")) == ("type", "required")


@pytest.mark.parametrize("wrong", ["verwijzing", None, 5])
def test_a_missing_or_unknown_type_still_names_what_every_type_would_refuse(
    referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any], wrong: object
) -> None:
    """pydantic stops at the type; the sender learned of one error and met the next ten once
    it was fixed. Named after it: what each type refuses alike, never what only one would
    (a referral's own fields are no unknown keys of a diagnostic request, for it is not one)."""
    for data in (referral_data, diagnostic_request_data):
        broken = edited(edited(data, "zd_number"), "patient.bsn", "123456789")
        broken = edited(broken, "type") if wrong is None else edited(broken, "type", wrong)
        errors = errors_of(broken)
        assert errors[1:] == [("zd_number", "required"), ("patient.bsn", "bsn_eleven_test")]
        assert errors[0][0] == "type"
    assert errors_of({}) == [
        ("type", "required"),
        *(
            (field, "required")
            for field in (
                "event_id",
                "schema_version",
                "zd_number",
                "created_at",
                "provider",
                "care_product",
                "patient",
                "referrer",
            )
        ),
    ]


def test_a_wrong_type_with_a_field_error_still_names_the_cross_field_rule(
    referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    """A field error makes pydantic skip the cross-field rules (``schemas.deferred`` judges
    them after); judged per type too, a patient with neither BSN nor address is named with a
    wrong type and a bad UZOVI, as with either alone (found by a support walkthrough)."""
    for data in (referral_data, diagnostic_request_data):
        broken = edited(data, "patient.address")
        broken = edited(broken, "patient.bsn") if "bsn" in data["patient"] else broken
        broken = edited(broken, "patient.insurance", {"uzovi": "33111", "policy_number": "1"})
        errors = errors_of(edited(broken, "type", "verwijzing"))
        assert errors[0][0] == "type"
        assert ("patient.insurance.uzovi", "uzovi_format") in errors, errors
        assert ("patient", "bsn_or_address") in errors, errors


def test_type_selects_the_other_model(referral_data: dict[str, Any]) -> None:
    errors = errors_of(edited(referral_data, "type", "diagnostic_request"))
    assert ("tests", "required") in errors
    assert ("letter", "unknown_field") in errors


@pytest.mark.parametrize(
    ("path", "reported"),
    [
        # Not the schemas' keys: refused at their parent's path, never named (schemas.keys).
        ("colour", "…"),
        ("patient.nickname", "patient.…"),
        ("patient.address.floor", "patient.address.…"),
        ("questions[0].hint", "questions[0].…"),
    ],
)
def test_unknown_keys_refused_at_their_parents_path(
    referral_data: dict[str, Any], path: str, reported: str
) -> None:
    assert single_error(edited(referral_data, path, "x")) == (reported, "unknown_field")


def test_very_long_unknown_key_is_withheld(referral_data: dict[str, Any]) -> None:
    assert single_error(edited(referral_data, "k" * 500, 1)) == ("…", "unknown_field")
    assert single_error(edited(referral_data, "k" * 64, 1)) == ("…", "unknown_field")


@pytest.mark.parametrize(
    "field",
    [
        "event_id",
        "zd_number",
        "created_at",
        "provider",
        "care_product",
        "patient",
        "referrer",
        "care_question",
        "letter",
    ],
)
def test_required_fields(referral_data: dict[str, Any], field: str) -> None:
    assert single_error(edited(referral_data, field)) == (field, "required")


@pytest.mark.parametrize("body", ["{bad json", '{"a": 1', "", b"\xff\xfe\x00"])
def test_invalid_json_is_one_syntax_error(body: str | bytes) -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_event(body)
    assert [(e.path, e.rule) for e in caught.value.errors] == [("$", "json_syntax")]


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "null", "true"])
def test_json_that_is_not_an_object_refused(body: str) -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_event(body)
    assert [(e.path, e.rule) for e in caught.value.errors] == [("$", "type")]


@pytest.mark.parametrize("body", [[1, 2], 42, None])
def test_python_value_that_is_not_a_mapping_refused(body: Any) -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_event(body)
    assert [(e.path, e.rule) for e in caught.value.errors] == [("$", "type")]


def test_all_errors_reported_at_once(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "zd_number", "ZD1")
    data = edited(data, "patient.bsn", "123456789")
    data = edited(data, "referrer.agb", "123")
    assert set(errors_of(data)) == {
        ("zd_number", "zd_number_format"),
        ("patient.bsn", "bsn_eleven_test"),
        ("referrer.agb", "agb_format"),
    }


def test_json_body_is_not_double_decoded(referral_data: dict[str, Any]) -> None:
    # A JSON string holding a JSON object is a string, not an event.
    with pytest.raises(EventValidationError) as caught:
        parse_event(json.dumps(json.dumps(referral_data)))
    assert caught.value.errors[0].path == "$"


def test_any_mapping_is_accepted(referral_data: dict[str, Any]) -> None:
    event = parse_event(MappingProxyType(referral_data))
    assert event.zd_number == "ZD100000001"


@pytest.mark.parametrize(
    ("path", "value"),
    [("patient", "Jan"), ("questions", {"a": 1}), ("attachments", "abc"), ("provider", [])],
)
def test_wrong_container_types_refused(
    referral_data: dict[str, Any], path: str, value: object
) -> None:
    assert single_error(edited(referral_data, path, value)) == (path, "type")
