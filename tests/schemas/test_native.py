"""The checks pydantic-core runs (``schemas.native``) decide as the Python rules did.

Python's whitespace is not Rust's: U+001C..U+001F are whitespace to ``str.strip`` and ``re``'s
``\\s`` but not to pydantic-core's ``strip_whitespace``. These cases pin the results the Python
validators gave, for JSON bodies and for mappings alike (``errors_of``, ``parse_both``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import identifiers
from schemas.countries import ALPHA3
from schemas.fields import MAX_TEXT
from schemas.native import PY_WHITESPACE

from .support import edited, errors_of, parse_both

SEPARATORS = "\x1c\x1d\x1e\x1f"  # whitespace to Python, not to Rust
# What pydantic-core strips: Python's whitespace without the four separators.
RUST_SPACE = "".join(
    chr(c) for lo, hi in PY_WHITESPACE for c in range(lo, hi + 1) if chr(c) not in SEPARATORS
)


def test_the_whitespace_table_is_pythons() -> None:
    table = {c for lo, hi in PY_WHITESPACE for c in range(lo, hi + 1)}
    assert table == {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}


def outcome(data: dict[str, Any], path: str) -> Any:
    """The field's value when the event is accepted, else its one (path, rule)."""
    errors = errors_of(data) if _refused(data) else None
    if errors is not None:
        assert len(errors) == 1 and errors[0][0] == path, errors
        return errors[0][1]
    value: Any = parse_both(data)
    for part in path.replace("[", ".").replace("]", "").split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


def _refused(data: dict[str, Any]) -> bool:
    from schemas import EventValidationError, parse_event

    try:
        parse_event(data)
    except EventValidationError:
        return True
    return False


@pytest.mark.parametrize("path", ["provider.name", "letter.reason", "patient.address.street"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\x1c", "blank"),
        (f" {SEPARATORS}\u3000 ", "blank"),
        ("\x1c" * (MAX_TEXT + 1), "blank"),  # blank is checked before the length
        ("\x1c" * 70_000, "blank"),
        ("\x1cx\x1c", "\x1cx\x1c"),  # kept as sent once stripped of Rust's whitespace
        (" \u3000x\x85 ", "x"),
    ],
)
def test_required_text_blank_as_python_sees_it(
    referral_data: dict[str, Any], path: str, value: str, expected: str
) -> None:
    assert outcome(edited(referral_data, path, value), path) == expected


@pytest.mark.parametrize("path", ["patient.name.given", "letter.history", "patient.local_id"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\x1c", None),
        ("\x1c" * 70_000, None),  # blank means absent, however long
        ("\u2028\x1f ", None),
        ("\x1cx", "\x1cx"),
        (" x ", "x"),
    ],
)
def test_optional_text_blank_means_absent(
    referral_data: dict[str, Any], path: str, value: str, expected: str | None
) -> None:
    assert outcome(edited(referral_data, path, value), path) == expected


IDENTIFIERS = [
    ("zd_number", "zd_number_format", identifiers.is_valid_zd_number),
    ("referrer.agb", "agb_format", identifiers.is_valid_agb),
    ("provider.agb", "agb_format", identifiers.is_valid_agb),
    ("referrer.big", "big_format", identifiers.is_valid_big),
    ("patient.insurance.uzovi", "uzovi_format", identifiers.is_valid_uzovi),
    ("patient.email", "email_format", identifiers.is_valid_email),
    ("icpc[0].code", "icpc_format", identifiers.is_valid_icpc),
    ("patient.address.country", "country_format", identifiers.is_valid_country),
]
CANDIDATES = [
    "ZD123456789",
    "ZD12345678",
    "ZD123456789\n",
    "ZD١٢٣٤٥٦٧٨٩",
    "01012345",
    "0101234a",
    "01012345\x1c",
    "19012345601",
    "3311",
    "٣٣١١",
    "a@b.nl",
    "a@b",
    "a\x1c@b.nl",
    "a@b\x1f.nl",
    "a@b\u3000.nl",
    "a@b..nl",
    "ä@ü.nl",
    "K74",
    "K74.12",
    "K74.123",
    "k74",
    "NL",
    "XK",
    "UK",
    "nl",
    " NL\x1c",
]


@pytest.mark.parametrize(("path", "rule", "check"), IDENTIFIERS, ids=[i[0] for i in IDENTIFIERS])
def test_identifier_patterns_decide_as_the_python_functions(
    referral_data: dict[str, Any], path: str, rule: str, check: Any
) -> None:
    countries = sorted(ALPHA3)[::20] if rule == "country_format" else []
    for value in [*CANDIDATES, *countries]:
        got = outcome(edited(referral_data, path, value), path)
        if check(value.strip(RUST_SPACE)):
            assert got != rule, (value, got)
        else:
            assert got == rule, (value, got)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(digits=st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_the_bsn_field_refuses_what_the_pure_eleven_test_refuses(
    referral_data: dict[str, Any], digits: str
) -> None:
    # The field calls the arithmetic alone (`identifiers.eleven_test_passes`): pydantic-core has
    # matched the nine digits just before, and the pure function matches them itself.
    got = outcome(edited(referral_data, "patient.bsn", digits), "patient.bsn")
    if identifiers.bsn_checksum_ok(digits):
        assert got == digits
    else:
        assert got == "bsn_eleven_test"


def _leaves(node: Any, path: str = "") -> list[str]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [leaf for i, value in enumerate(node) for leaf in _leaves(value, f"{path}[{i}]")]
    return [path.lstrip(".")]


def _outcome_of(body: Any) -> Any:
    from schemas import EventValidationError, parse_event

    try:
        return parse_event(body).model_dump()
    except EventValidationError as refused:
        return refused.errors


EDGE_VALUES = ["", " ", "\x1c", "\x1c" * 1001, " \x1cx ", "a" * 1001, "a" * 65537, 42, None, []]


@pytest.mark.parametrize("sample", ["referral_data", "diagnostic_request_data"])
def test_json_and_mapping_agree_on_every_field(sample: str, request: pytest.FixtureRequest) -> None:
    """JSON bodies take the native checks, mappings the Python rules: same result for both."""
    import json

    data = request.getfixturevalue(sample)
    for path in _leaves(data):
        for value in EDGE_VALUES:
            event = edited(data, path, value)
            as_json = _outcome_of(json.dumps(event).encode())
            assert as_json == _outcome_of(event), (path, repr(value)[:20])


PADDED = "\x1c" * MAX_TEXT + "1234ab"  # a postcode to Python; too long to pydantic-core


@pytest.mark.parametrize(
    ("country", "postcode", "expected"),
    [
        ("NL", "1234ab", "1234 AB"),
        (None, "1234ab", "1234 AB"),  # no country: Dutch
        # "NL" once stripped is Dutch too: it was checked but not normalised, so "1234ab" went
        # to the hospital as it came while the country became "NL".
        (" NL ", "1234ab", "1234 AB"),
        ("BE", "1234ab", "1234ab"),
        ("NL", PADDED, "1234 AB"),  # normalised before the length check
        (None, PADDED, "1234 AB"),
        (" NL ", PADDED, "text_too_long"),
        ("BE", PADDED, "text_too_long"),
        (" NL ", "0123ab", "postcode_format"),
        ("NL", "\x1c" * 2000, "blank"),
    ],
)
def test_postcode_normalised_for_a_dutch_address(
    referral_data: dict[str, Any], country: str | None, postcode: str, expected: str
) -> None:
    """For JSON bodies the after-validator normalises; for mappings the before-validator."""
    data = edited(referral_data, "patient.address.postcode", postcode)
    data = edited(data, "patient.address.country", *([] if country is None else [country]))
    assert outcome(data, "patient.address.postcode") == expected
    if expected in {"1234 AB", "1234ab"}:
        address: Any = parse_both(data).patient.address
        assert type(address.country) is str  # the marker of "NL" as sent does not stay


def test_an_address_validated_alone_is_normalised_too() -> None:
    from schemas import Address

    given = {"street": "S", "house_number": 1, "postcode": " 1234ab ", "city": "C"}
    for data in (given, {**given, "country": "NL"}):
        assert Address.model_validate(data).postcode == "1234 AB"
        address = Address.model_validate_json(json.dumps(data))
        assert (address.postcode, type(address.country)) == ("1234 AB", str)
