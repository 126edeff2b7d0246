"""The Dutch identifier rules as pure functions, including the BSN eleven-test by property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import countries as countries_module
from schemas import identifiers
from schemas.identifiers import (
    bsn_checksum_ok,
    is_bsn_format,
    is_valid_agb,
    is_valid_big,
    is_valid_bsn,
    is_valid_country,
    is_valid_email,
    is_valid_icpc,
    is_valid_postcode,
    is_valid_uzovi,
    is_valid_zd_number,
    normalise_postcode,
)

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


def _check_digit(first_eight: str) -> int | None:
    """The last digit that makes `first_eight` a valid BSN, if one exists."""
    remainder = sum(int(d) * w for d, w in zip(first_eight, WEIGHTS, strict=True)) % 11
    return remainder if remainder < 10 else None


valid_bsns = (
    st.text(alphabet="0123456789", min_size=8, max_size=8)
    .map(lambda eight: (eight, _check_digit(eight)))
    .filter(lambda pair: pair[1] is not None)
    .map(lambda pair: f"{pair[0]}{pair[1]}")
    .filter(lambda bsn: bsn != "000000000")
)


@given(valid_bsns)
def test_constructed_bsns_are_valid(bsn: str) -> None:
    assert is_valid_bsn(bsn)


@given(valid_bsns, st.integers(0, 8), st.integers(1, 9))
def test_any_single_digit_change_is_refused(bsn: str, position: int, delta: int) -> None:
    digit = (int(bsn[position]) + delta) % 10
    changed = bsn[:position] + str(digit) + bsn[position + 1 :]
    assert not is_valid_bsn(changed)


@given(valid_bsns, st.integers(0, 7))
def test_adjacent_transposition_is_refused(bsn: str, position: int) -> None:
    swapped = bsn[:position] + bsn[position + 1] + bsn[position] + bsn[position + 2 :]
    if swapped != bsn:
        assert not is_valid_bsn(swapped)


@pytest.mark.parametrize("bsn", ["999990019", "111222333", "123456782"])
def test_known_valid_bsns(bsn: str) -> None:
    assert is_valid_bsn(bsn)


@pytest.mark.parametrize(
    "bsn", ["123456789", "000000000", "99999001", "9999900190", "99999001x", ""]
)
def test_known_invalid_bsns(bsn: str) -> None:
    assert not is_valid_bsn(bsn)


def test_format_and_checksum_are_separate_rules() -> None:
    assert is_bsn_format("123456789")
    assert not bsn_checksum_ok("123456789")
    assert not is_bsn_format("١٢٣٤٥٦٧٨٢")  # Arabic-Indic digits are not ASCII digits


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1234AB", "1234 AB"),
        ("1234 ab", "1234 AB"),
        (" 9999zz ", "9999 ZZ"),
        ("1000 AA", "1000 AA"),
    ],
)
def test_normalise_postcode(given: str, expected: str) -> None:
    assert normalise_postcode(given) == expected


@pytest.mark.parametrize(
    "postcode",
    ["0123 AB", "123 AB", "1234 A", "1234  AB", "1234-AB", "1234 SA", "1234 sd", "1234 SS", ""],
)
def test_normalise_postcode_refuses(postcode: str) -> None:
    with pytest.raises(ValueError, match=r"postcode|letter pairs") as caught:
        normalise_postcode(postcode)
    if postcode:
        assert postcode not in str(caught.value)
    assert not is_valid_postcode(postcode)


@given(
    st.integers(1000, 9999),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRTUVWXYZ", min_size=2, max_size=2),
    st.sampled_from(["", " "]),
    st.booleans(),
)
def test_postcode_normalisation_is_canonical_and_idempotent(
    digits: int, letters: str, space: str, lower: bool
) -> None:
    given_letters = letters.lower() if lower else letters
    normalised = normalise_postcode(f"{digits}{space}{given_letters}")
    assert normalised == f"{digits} {letters}"
    assert normalise_postcode(normalised) == normalised


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (is_valid_agb, ["01012345", "00000000"], ["0101234", "010123456", "0101234a", " 01012345"]),
        (is_valid_big, ["19012345601"], ["1901234560", "190123456011", "1901234560a"]),
        (is_valid_uzovi, ["3311", "0101"], ["331", "33111", "33a1"]),
        (is_valid_zd_number, ["ZD100000001"], ["ZD10000000", "zd100000001", "ZD1000000011"]),
        (is_valid_country, ["NL", "BE", "DE"], ["nl", "NLD", "N", "1L", "", "XX", "UK"]),
        (
            is_valid_email,
            ["a@b.nl", "x.y+z@mail.example.org"],
            ["a@b", "a@.nl", "@b.nl", "a b@c.nl"],
        ),
        (is_valid_icpc, ["K77", "T90.02", "A01.1"], ["K7", "k77", "K77.", "K77.123"]),
    ],
)
def test_simple_identifier_rules(check: object, good: list[str], bad: list[str]) -> None:
    assert callable(check)
    for value in good:
        assert check(value), value
    for value in bad:
        assert not check(value), value


def test_identifiers_module_is_pure() -> None:
    # Only the standard library: mappers and the CLI reuse these without pydantic.
    source = identifiers.__loader__.get_source(identifiers.__name__)  # type: ignore[union-attr]
    assert source is not None
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == [
        "from __future__ import annotations",
        "import re",
        "from typing import Final",
        "from schemas.countries import ALPHA3",  # data only, checked below
    ]
    countries = countries_module.__loader__.get_source(countries_module.__name__)  # type: ignore[union-attr]
    assert countries is not None
    assert [line for line in countries.splitlines() if line.startswith(("import ", "from "))] == [
        "from __future__ import annotations",
        "from typing import Final",
    ]
