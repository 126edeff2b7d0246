"""Dutch identifier and contact-detail rules as pure functions.

Kept free of pydantic so mappers, the CLI and tests can use the same rules on plain strings.
Patterns use `[0-9]`, not `\\d`: `\\d` also matches non-ASCII digits such as Arabic-Indic ones,
which no receiving system would accept.
"""

from __future__ import annotations

import re
from typing import Final

from schemas.countries import ALPHA3

_ZD_NUMBER: Final = re.compile(r"ZD[0-9]{9}")
_NINE_DIGITS: Final = re.compile(r"[0-9]{9}")
_AGB: Final = re.compile(r"[0-9]{8}")
_BIG: Final = re.compile(r"[0-9]{11}")
_UZOVI: Final = re.compile(r"[0-9]{4}")
_NL_POSTCODE: Final = re.compile(r"([1-9][0-9]{3}) ?([A-Za-z]{2})")
# Letter pairs PostNL does not issue (they read as wartime abbreviations).
_UNISSUED_POSTCODE_LETTERS: Final = frozenset({"SA", "SD", "SS"})
# Deliberately simple: one @, no whitespace, a dot in the domain. Deliverability is not ours to
# judge; catching a phone number or a name in the e-mail field is.
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_ICPC: Final = re.compile(r"[A-Z][0-9]{2}(\.[0-9]{1,2})?")


def is_valid_zd_number(value: str) -> bool:
    return _ZD_NUMBER.fullmatch(value) is not None


def is_bsn_format(value: str) -> bool:
    """Nine ASCII digits; the eleven-test is separate so errors can say which rule failed."""
    return _NINE_DIGITS.fullmatch(value) is not None


def bsn_checksum_ok(value: str) -> bool:
    """Nine ASCII digits that pass the eleven-test (`eleven_test_passes`)."""
    return is_bsn_format(value) and eleven_test_passes(value)


def eleven_test_passes(nine_digits: str) -> bool:
    """The eleven-test: sum(d_i * (9..2)) - d_9 must be divisible by 11.

    Only for a value already known to be nine ASCII digits (`is_bsn_format`): the BSN field
    calls it after pydantic-core matched that pattern, and does not match it a second time.
    `000000000` passes the arithmetic but is never issued, so it is refused.
    """
    if nine_digits == "000000000":
        return False
    d = nine_digits.encode("ascii")  # 48 is b"0"
    total = (
        9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6] + 2 * d[7] - d[8]
    ) - 48 * (9 + 8 + 7 + 6 + 5 + 4 + 3 + 2 - 1)
    return total % 11 == 0


def is_valid_bsn(value: str) -> bool:
    return is_bsn_format(value) and bsn_checksum_ok(value)


def is_valid_agb(value: str) -> bool:
    return _AGB.fullmatch(value) is not None


def is_valid_big(value: str) -> bool:
    return _BIG.fullmatch(value) is not None


def is_valid_uzovi(value: str) -> bool:
    return _UZOVI.fullmatch(value) is not None


def is_valid_country(value: str) -> bool:
    """An officially assigned ISO 3166-1 alpha-2 code (upper case), so HL7 can send its alpha-3."""
    return value in ALPHA3


def is_valid_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


def is_valid_icpc(value: str) -> bool:
    """ICPC-1 as Dutch GPs code it: `K77`, or with the NHG subdivision `T90.02`."""
    return _ICPC.fullmatch(value) is not None


def normalise_postcode(value: str) -> str:
    """A Dutch postcode in its canonical form `1234 AB`.

    Accepts surrounding whitespace, no space or one space, and lower-case letters. Raises
    ValueError (without echoing the value) when it is not a postcode PostNL could issue.
    """
    match = _NL_POSTCODE.fullmatch(value.strip())
    if match is None:
        raise ValueError("not a Dutch postcode (4 digits, not starting with 0, and 2 letters)")
    digits, letters = match.group(1), match.group(2).upper()
    if letters in _UNISSUED_POSTCODE_LETTERS:
        raise ValueError("Dutch postcodes do not use the letter pairs SA, SD or SS")
    return f"{digits} {letters}"


def is_valid_postcode(value: str) -> bool:
    try:
        normalise_postcode(value)
    except ValueError:
        return False
    return True
