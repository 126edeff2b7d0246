"""ISO 3166-1 country codes: alpha-2 (what intake carries) to alpha-3 (what HL7 sends).

HL7 table 0399 (country code), used by XAD-6 (PID-11, PRD-3, ORC-22) and MSH-17, is ISO 3166-1
alpha-3 (`NLD`); events carry alpha-2 (`NL`). The list lives with intake
(`schemas.countries`), which refuses a code not in it; an event stored before that check with
an unlisted code is sent as given, and the message says so.
"""

from __future__ import annotations

from typing import Final

from schemas import Address
from schemas.countries import ALPHA3 as COUNTRY_ALPHA3
from shapes import PATHS, Shape

ALPHA3: Final = COUNTRY_ALPHA3
UNKNOWN: Final = Shape(
    "countries.unknown", "{paths} country code not in ISO 3166-1: sent as given", paths=PATHS
)


def alpha3(code: str) -> str:
    """The alpha-3 code of an ISO 3166-1 alpha-2 `code`; an unknown code unchanged."""
    return ALPHA3.get(code, code)


def unknown_codes(*addresses: tuple[str, Address | None]) -> tuple[str, ...]:
    """A warning naming the XAD-6 fields (`PID-11.6`, …) whose address has a country code
    outside ISO 3166-1; absent addresses are skipped."""
    unknown = [field for field, address in addresses if address and address.country not in ALPHA3]
    if not unknown:
        return ()
    return (UNKNOWN(paths=", ".join(unknown)),)
