"""Patient, referrer, provider and organisation rules, as they appear inside an event."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from .support import edited, errors_of, parse_both, single_error

# --- BSN and identification ------------------------------------------------------------------


@pytest.mark.parametrize("bsn", ["999990019", "111222333", " 999990019 "])
def test_valid_bsn_accepted(referral_data: dict[str, Any], bsn: str) -> None:
    assert parse_both(edited(referral_data, "patient.bsn", bsn)).patient.bsn == bsn.strip()


@pytest.mark.parametrize("bsn", ["123456789", "999990018", "000000000"])
def test_bsn_failing_eleven_test_refused(referral_data: dict[str, Any], bsn: str) -> None:
    data = edited(referral_data, "patient.bsn", bsn)
    assert single_error(data) == ("patient.bsn", "bsn_eleven_test")


@pytest.mark.parametrize("bsn", ["12345678", "1234567890", "99999001A", "999 990 019", "٩٩٩٩٩٠٠١٩"])
def test_bsn_not_nine_digits_refused(referral_data: dict[str, Any], bsn: str) -> None:
    assert single_error(edited(referral_data, "patient.bsn", bsn)) == ("patient.bsn", "bsn_format")


def test_bsn_as_json_number_refused(referral_data: dict[str, Any]) -> None:
    # A number would lose leading zeros; BSNs are strings.
    assert single_error(edited(referral_data, "patient.bsn", 999990019)) == ("patient.bsn", "type")


def test_address_without_bsn_accepted(referral_data: dict[str, Any]) -> None:
    assert parse_both(edited(referral_data, "patient.bsn")).patient.bsn is None


def test_bsn_without_address_accepted(referral_data: dict[str, Any]) -> None:
    assert parse_both(edited(referral_data, "patient.address")).patient.address is None


@pytest.mark.parametrize("bsn", [None, ""])
def test_neither_bsn_nor_address_refused(referral_data: dict[str, Any], bsn: object) -> None:
    data = edited(edited(referral_data, "patient.address"), "patient.bsn", bsn)
    assert single_error(data) == ("patient", "bsn_or_address")


def test_blank_bsn_counts_as_absent(referral_data: dict[str, Any]) -> None:
    assert parse_both(edited(referral_data, "patient.bsn", "  ")).patient.bsn is None


# --- Address -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("1234 AB", "1234 AB"),
        ("1234AB", "1234 AB"),
        ("1234ab", "1234 AB"),
        (" 9999 zz ", "9999 ZZ"),
    ],
)
def test_dutch_postcode_normalised(
    referral_data: dict[str, Any], given: str, normalised: str
) -> None:
    event = parse_both(edited(referral_data, "patient.address.postcode", given))
    assert event.patient.address is not None
    assert event.patient.address.postcode == normalised


@pytest.mark.parametrize(
    "postcode",
    ["0123 AB", "123 AB", "12345 AB", "1234 A", "1234  AB", "1234-AB", "1234 SS", "1234 sa"],
)
def test_bad_dutch_postcode_refused(referral_data: dict[str, Any], postcode: str) -> None:
    data = edited(referral_data, "patient.address.postcode", postcode)
    assert single_error(data) == ("patient.address.postcode", "postcode_format")


def test_dutch_rules_apply_when_country_is_defaulted(referral_data: dict[str, Any]) -> None:
    data = edited(edited(referral_data, "patient.address.country"), "patient.address.postcode", "X")
    assert single_error(data) == ("patient.address.postcode", "postcode_format")


def test_foreign_postcode_kept_as_given(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "patient.address.country", "BE")
    data = edited(data, "patient.address.postcode", "b-1000")
    event = parse_both(data)
    assert event.patient.address is not None
    assert (event.patient.address.postcode, event.patient.address.country) == ("b-1000", "BE")


@pytest.mark.parametrize("country", ["nl", "NLD", "N", "N1", "", "XX", "UK", "EU"])
def test_country_must_be_an_assigned_alpha2_code(
    referral_data: dict[str, Any], country: str
) -> None:
    data = edited(referral_data, "patient.address.country", country)
    assert ("patient.address.country", "country_format") in errors_of(data)


@pytest.mark.parametrize(("given", "stored"), [(12, "12"), ("12", "12"), ("12-14", "12-14")])
def test_house_number_int_or_string(
    referral_data: dict[str, Any], given: object, stored: str
) -> None:
    event = parse_both(edited(referral_data, "patient.address.house_number", given))
    assert event.patient.address is not None
    assert event.patient.address.house_number == stored


@pytest.mark.parametrize("house_number", [0, -3, "", "  ", True, 1.5, None])
def test_bad_house_number_refused(referral_data: dict[str, Any], house_number: object) -> None:
    data = edited(referral_data, "patient.address.house_number", house_number)
    assert single_error(data) == ("patient.address.house_number", "house_number")


def test_organisation_address_checked_too(referral_data: dict[str, Any]) -> None:
    address = {"street": "Laan", "house_number": 1, "postcode": "0000 AA", "city": "Utrecht"}
    data = edited(referral_data, "referrer.organisation.address", address)
    assert single_error(data) == ("referrer.organisation.address.postcode", "postcode_format")


# --- Other patient fields ----------------------------------------------------------------------


@pytest.mark.parametrize("gender", ["M", "F", "O", "U"])
def test_gender_codes_accepted(referral_data: dict[str, Any], gender: str) -> None:
    assert parse_both(edited(referral_data, "patient.gender", gender)).patient.gender == gender


@pytest.mark.parametrize("gender", ["m", "X", "male", ""])
def test_other_gender_refused(referral_data: dict[str, Any], gender: str) -> None:
    data = edited(referral_data, "patient.gender", gender)
    assert single_error(data) == ("patient.gender", "allowed_values")


@pytest.mark.parametrize("birth_date", ["1961-4-12", "12-04-1961", "1961-02-30", 19610412, "1961"])
def test_bad_birth_date_refused(referral_data: dict[str, Any], birth_date: object) -> None:
    data = edited(referral_data, "patient.birth_date", birth_date)
    assert single_error(data) == ("patient.birth_date", "date_format")


def test_birth_date_after_event_refused(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "patient.birth_date", "2026-11-21")
    assert single_error(data) == ("patient.birth_date", "birth_date_after_created_at")


def test_born_on_event_day_accepted(referral_data: dict[str, Any]) -> None:
    event = parse_both(edited(referral_data, "patient.birth_date", "2026-11-20"))
    assert event.patient.birth_date == datetime.date(2026, 11, 20)


@pytest.mark.parametrize("email", ["a@b.nl", "first.last+tag@sub.example.org"])
def test_email_accepted(referral_data: dict[str, Any], email: str) -> None:
    assert parse_both(edited(referral_data, "patient.email", email)).patient.email == email


@pytest.mark.parametrize(
    ("path", "email"),
    [
        ("patient.email", "no-at-sign.nl"),
        ("patient.email", "a@b"),
        ("patient.email", "a b@c.nl"),
        ("patient.email", "a@@c.nl"),
        ("referrer.email", "0612345678"),
    ],
)
def test_bad_email_refused(referral_data: dict[str, Any], path: str, email: str) -> None:
    assert single_error(edited(referral_data, path, email)) == (path, "email_format")


@pytest.mark.parametrize("uzovi", ["331", "33110", "33a1"])
def test_uzovi_four_digits(referral_data: dict[str, Any], uzovi: str) -> None:
    data = edited(referral_data, "patient.insurance.uzovi", uzovi)
    assert single_error(data) == ("patient.insurance.uzovi", "uzovi_format")


def test_insurance_needs_policy_number(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "patient.insurance.policy_number")
    assert single_error(data) == ("patient.insurance.policy_number", "required")


# --- Names -------------------------------------------------------------------------------------


def test_name_family_required(referral_data: dict[str, Any]) -> None:
    assert single_error(edited(referral_data, "patient.name.family")) == (
        "patient.name.family",
        "required",
    )


@pytest.mark.parametrize("usage", ["partner", "partner_own", "own_partner"])
def test_partner_usage_needs_partner_family(referral_data: dict[str, Any], usage: str) -> None:
    data = edited(referral_data, "patient.name.name_usage", usage)
    assert single_error(data) == ("patient.name.partner_family", "partner_family_required")
    event = parse_both(edited(data, "patient.name.partner_family", "Vries"))
    assert event.patient.name.name_usage == usage


def test_unknown_name_usage_refused(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "referrer.name.name_usage", "maiden")
    assert single_error(data) == ("referrer.name.name_usage", "allowed_values")


def test_blank_optional_name_parts_become_none(referral_data: dict[str, Any]) -> None:
    event = parse_both(edited(referral_data, "patient.name.prefix", " "))
    assert event.patient.name.prefix is None


# --- Practitioner and organisation identifiers ---------------------------------------------------


@pytest.mark.parametrize("path", ["provider.agb", "referrer.agb", "referrer.organisation.agb"])
@pytest.mark.parametrize("agb", ["1234567", "123456789", "0101234X"])
def test_agb_eight_digits(referral_data: dict[str, Any], path: str, agb: str) -> None:
    assert single_error(edited(referral_data, path, agb)) == (path, "agb_format")


def test_referrer_agb_required_others_optional(referral_data: dict[str, Any]) -> None:
    assert single_error(edited(referral_data, "referrer.agb")) == ("referrer.agb", "required")
    data = edited(edited(referral_data, "provider.agb"), "referrer.organisation.agb")
    event = parse_both(data)
    assert event.provider.agb is None
    assert event.referrer.organisation is not None
    assert event.referrer.organisation.agb is None


@pytest.mark.parametrize("big", ["1901234560", "190123456012", "1901234560A"])
def test_big_eleven_digits(referral_data: dict[str, Any], big: str) -> None:
    assert single_error(edited(referral_data, "referrer.big", big)) == (
        "referrer.big",
        "big_format",
    )


def test_big_optional(referral_data: dict[str, Any]) -> None:
    assert parse_both(edited(referral_data, "referrer.big")).referrer.big is None


# --- The provider id routing selects by ----------------------------------------------------------


@pytest.mark.parametrize("provider", ["p" * 128, " ziekenhuis-noord ", "Ziekenhuis Noord é"])
def test_a_provider_id_the_store_can_keep_is_accepted(
    referral_data: dict[str, Any], provider: str
) -> None:
    assert (
        parse_both(edited(referral_data, "provider.id", provider)).provider.id == provider.strip()
    )


@pytest.mark.parametrize(
    "provider", ["p" * 129, "ziekenhuis-noord\x00", "zh\tnoord", "zh\x85noord", "zh\x7fnoord"]
)
def test_a_provider_id_too_long_or_with_a_control_character_is_refused(
    referral_data: dict[str, Any], provider: str
) -> None:
    """Accepted here before, then refused by PostgreSQL's 128-character column (or its NUL
    check): an HTTP 500 with nothing kept, while SQLite stored the same event."""
    data = edited(referral_data, "provider.id", provider)
    assert single_error(data) == ("provider.id", "provider_id_format")


def test_a_blank_provider_id_is_still_blank(referral_data: dict[str, Any]) -> None:
    assert single_error(edited(referral_data, "provider.id", "   ")) == ("provider.id", "blank")
