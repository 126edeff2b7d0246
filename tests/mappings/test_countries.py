"""Country codes: HL7 table 0399 (XAD-6) is ISO 3166-1 alpha-3; events carry alpha-2."""

from __future__ import annotations

import pytest

from mappings import map_event
from mappings.countries import ALPHA3, alpha3
from schemas import DiagnosticRequest, Referral
from tests.mappings.helpers import (
    ORDER_VERSIONS,
    REFERRAL_VERSIONS,
    VERSIONS,
    context,
    read_back,
    replace_at,
    value,
)

# The 249 officially assigned ISO 3166-1 alpha-2 codes (ISO 3166 Maintenance Agency).
OFFICIALLY_ASSIGNED = frozenset(
    """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split()  # noqa: SIM905 (a list literal of 249 strings reads worse)
)


def test_the_table_covers_every_officially_assigned_code() -> None:
    assert len(OFFICIALLY_ASSIGNED) == 249
    assert set(ALPHA3) == OFFICIALLY_ASSIGNED
    assert len(set(ALPHA3.values())) == len(ALPHA3)  # one alpha-3 code per country
    for code, three in ALPHA3.items():
        assert len(three) == 3 and three.isascii() and three.isupper(), code


@pytest.mark.parametrize(
    ("two", "three"),
    [
        ("NL", "NLD"),
        ("BE", "BEL"),
        ("DE", "DEU"),
        ("GB", "GBR"),
        ("AW", "ABW"),
        ("CW", "CUW"),
        ("SX", "SXM"),
        ("BQ", "BES"),
        ("MA", "MAR"),
        ("TR", "TUR"),
        ("SR", "SUR"),
    ],
)
def test_known_codes(two: str, three: str) -> None:
    assert alpha3(two) == three


@pytest.mark.parametrize("version", VERSIONS)
def test_every_address_carries_alpha3(
    version: str, full_referral: Referral, full_diagnostic_request: DiagnosticRequest
) -> None:
    event: Referral | DiagnosticRequest = (
        full_referral if version in REFERRAL_VERSIONS else full_diagnostic_request
    )
    organisation = event.referrer.organisation
    assert organisation is not None
    if organisation.address is None:  # the order sample's organisation has no address
        assert full_referral.referrer.organisation is not None
        address = full_referral.referrer.organisation.address
        event = replace_at(event, ("referrer", "organisation", "address"), address)
    event = replace_at(event, ("referrer", "organisation", "address", "country"), "BE")
    mapped = map_event(version, event, context())
    message = read_back(mapped)
    assert value(message, "PID.F11.R1.C6") == "NLD"
    organisation_address = "PRD.F3.R1.C6" if version in REFERRAL_VERSIONS else "ORC.F22.R1.C6"
    assert value(message, organisation_address) == "BEL"
    assert value(message, "MSH.F17") == "NLD"
    assert mapped.warnings == ()


@pytest.mark.parametrize("version", [*REFERRAL_VERSIONS[:1], *ORDER_VERSIONS[:1]])
def test_a_code_outside_iso_3166_is_sent_as_given_with_a_warning(
    version: str, referral: Referral, diagnostic_request: DiagnosticRequest
) -> None:
    event: Referral | DiagnosticRequest = (
        referral if version in REFERRAL_VERSIONS else diagnostic_request
    )
    event = replace_at(event, ("patient", "address", "country"), "XK")  # user-assigned
    mapped = map_event(version, event, context())
    assert value(read_back(mapped), "PID.F11.R1.C6") == "XK"
    assert mapped.warnings == ("PID-11.6 country code not in ISO 3166-1: sent as given",)
