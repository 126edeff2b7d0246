"""What differs per version, read back with python-hl7: HL7 2.4 datatypes, `99zda`, placer
numbers, TQ1/SPM, cancels that carry the original's identifiers."""

from __future__ import annotations

import hl7
import pytest

from mappings import map_event
from mappings.orm_lfdv2 import placer_number
from schemas import DiagnosticRequest, LabTest, Referral
from tests.mappings.helpers import (
    ORDER_VERSIONS,
    REFERRAL_VERSIONS,
    context,
    read_back,
    value,
)


def raw(message: hl7.Message, key: str) -> str:
    """A whole field as sent (all components and repetitions), e.g. `ORC2.F4`."""
    name, field = key.split(".F")
    occurrence = int(name[3:] or 1)
    return str(message.segments(name[:3])[occurrence - 1][int(field)])


def test_ref_v1_uses_2_4_datatypes_and_99zda(full_referral: Referral) -> None:
    message = read_back(map_event("ref-v1", full_referral, context()))
    organisation = full_referral.referrer.organisation
    assert organisation is not None
    assert value(message, "MSH.F12") == "2.4"
    assert value(message, "OBR.F4.R1.C3") == "99zda"
    assert value(message, "OBX1.F3.R1.C3") == "99zda"
    assert value(message, "NTE5.F4.R1.C3") == "99zda"  # cluster comment type
    assert value(message, "DG1.F3.R1.C3") == "ICPC"  # an outside coding system stays
    # No PL-10 in 2.4: organisation AGBs are PRD-7 identifiers.
    assert value(message, "PRD.F4.R1.C9") == organisation.name
    assert str(message.segment("PRD")[4]).count("^") == 8  # PL-9 is the last component
    assert value(message, "PRD.F7.R1.C1") == full_referral.referrer.agb
    assert value(message, "PRD.F7.R2.C1") == full_referral.referrer.big
    assert value(message, "PRD.F7.R3.C1") == organisation.agb
    assert value(message, "PRD.F7.R3.C2") == "VEKTIS"
    assert value(message, "PRD.F7.R3.C3") == "organisation"
    assert value(message, "PRD2.F4.R1.C9") == full_referral.provider.name
    assert value(message, "PRD2.F7.R1.C1") == full_referral.provider.agb
    assert value(message, "PRD2.F7.R1.C2") == "VEKTIS"


def test_orm_lfdv2_uses_2_4_datatypes_and_lab_placer_numbers(
    full_diagnostic_request: DiagnosticRequest,
) -> None:
    event = full_diagnostic_request
    message = read_back(map_event("orm-lfdv2", event, context()))
    assert value(message, "ORC.F21.R1.C1") == "Gezondheidscentrum Oost"
    assert value(message, "ORC.F21.R1.C3") == "01054322"  # XON-3, leading zero kept
    assert value(message, "ORC.F21.R1.C6") == "VEKTIS"
    assert value(message, "ORC.F21.R1.C7") == "XX"
    assert str(message.segment("ORC")[21]).count("^") == 6  # no XON-10 in 2.4
    assert value(message, "ORC.F17.R1.C3") == "VEKTIS"
    assert value(message, "OBR.F4.R1.C3") == "99zda"
    assert value(message, "ORC2.F2.R1.C1") == "ZD100000002_01BLD"
    assert value(message, "OBR2.F2.R1.C1") == "ZD100000002_01BLD"
    assert value(message, "ORC3.F2.R1.C1") == "ZD100000002_02BLD"
    assert value(message, "ORC4.F2.R1.C1") == "ZD100000002_03"  # no specimen
    assert value(message, "OBR4.F4.R1.C3") == "LN"  # a test's own coding system stays


@pytest.mark.parametrize(
    ("specimen", "expected"),
    [
        ("BLD", "ZD100000002_07BLD"),
        ("Bloed (EDTA)|x", "ZD100000002_07BloedEDT"),
        ("ë^&", "ZD100000002_07"),
        (None, "ZD100000002_07"),
    ],
)
def test_lfd_placer_numbers_stay_plain_identifiers(specimen: str | None, expected: str) -> None:
    test = LabTest.model_validate(
        {"code": "X", "name": "X", **({"specimen": {"type": specimen}} if specimen else {})}
    )
    assert placer_number("ZD100000002", 7, test) == expected
    for position in (99, 100, 1000):
        number = placer_number("ZD100000002", position, test)
        assert len(number) <= 22
        assert number.startswith(f"ZD100000002_{position:02d}")


# ORC-2, OBR-2 and ORC-4 are EI of at most 22 characters in HL7 2.4 and 2.5.1.
PLACERS = {
    "orm-v3": ("ZD100000002-01", "ZD100000002-100"),
    "oml-v3": ("ZD100000002-01", "ZD100000002-100"),
    "orm-lfdv2": ("ZD100000002_01BloedEDT", "ZD100000002_100BloedED"),
}


@pytest.mark.parametrize("version", ORDER_VERSIONS)
def test_placer_numbers_fit_22_characters(
    version: str, diagnostic_request: DiagnosticRequest
) -> None:
    test = {"code": "HB", "name": "Hb", "specimen": {"type": "Bloed (EDTA)"}}
    tests = tuple(LabTest.model_validate(test) for _ in range(100))
    event = diagnostic_request.model_copy(update={"tests": tests})
    message = read_back(map_event(version, event, context(platform_authority="A" * 10)))
    request = f"{event.zd_number}^{'A' * 10}"  # 22: the longest platform authority fits
    assert raw(message, "ORC.F2") == raw(message, "OBR.F2") == raw(message, "ORC.F4") == request
    first, hundredth = PLACERS[version]
    assert raw(message, "ORC2.F2") == raw(message, "OBR2.F2") == first  # no EI namespace
    assert raw(message, "ORC101.F2") == raw(message, "OBR101.F2") == hundredth
    for number in range(1, 102):
        for key in (f"ORC{number}.F2", f"OBR{number}.F2", f"ORC{number}.F4"):
            assert len(raw(message, key)) <= 22, key
        assert raw(message, f"ORC{number}.F4") == request


def test_oml_v3_adds_timing_and_specimens(full_diagnostic_request: DiagnosticRequest) -> None:
    event = full_diagnostic_request
    message = read_back(map_event("oml-v3", event, context()))
    assert raw(message, "MSH.F9") == "OML^O21^OML_O21"
    tq1s = message.segments("TQ1")
    assert len(tq1s) == 1 + len(event.tests)
    for number in range(1, len(tq1s) + 1):
        assert value(message, f"TQ1{number}.F7") == "20261124"
        assert value(message, f"TQ1{number}.F9.R1.C1") == "S"
        assert value(message, f"TQ1{number}.F9.R1.C2") == "Stat"
        assert value(message, f"TQ1{number}.F9.R1.C3") == "HL70485"
    assert value(message, "SPM.F4.R1.C1") == "BLD"
    assert value(message, "SPM.F27.R1.C2") == "EDTA-buis"
    assert value(message, "SPM2.F4.R1.C1") == "BLD"
    assert len(message.segments("SPM")) == 2  # the third test has no specimen
    assert value(message, "ORC2.F2.R1.C1") == "ZD100000002-01"  # orm-v3 placer numbers


def test_oml_v3_routine_without_requested_date(diagnostic_request: DiagnosticRequest) -> None:
    event = diagnostic_request.model_copy(update={"collection": None})
    message = read_back(map_event("oml-v3", event, context()))
    assert value(message, "TQ1.F7") == ""
    assert raw(message, "TQ1.F9") == "R^Routine^HL70485"


@pytest.mark.parametrize("version", REFERRAL_VERSIONS)
def test_referral_cancel_refers_to_the_original(version: str, full_referral: Referral) -> None:
    new = read_back(map_event(version, full_referral, context()))
    cancelled = full_referral.model_copy(update={"action": "cancel"})
    cancel = read_back(map_event(version, cancelled, context()))
    assert raw(cancel, "MSH.F9") == "REF^I14^REF_I12"
    assert value(cancel, "RF1.F1") == "C"
    for key in ("RF1.F6", "OBR.F2", "PID.F3", "PRD.F7", "PRD2.F4"):
        assert raw(cancel, key) == raw(new, key)


@pytest.mark.parametrize("version", ORDER_VERSIONS)
def test_order_cancel_refers_to_the_original(
    version: str, full_diagnostic_request: DiagnosticRequest
) -> None:
    new = read_back(map_event(version, full_diagnostic_request, context()))
    cancelled = full_diagnostic_request.model_copy(update={"action": "cancel"})
    cancel = read_back(map_event(version, cancelled, context()))
    assert raw(cancel, "MSH.F9") == raw(new, "MSH.F9")
    assert {str(orc[1]) for orc in cancel.segments("ORC")} == {"CA"}
    assert raw(cancel, "PID.F3") == raw(new, "PID.F3")
    for number in range(1, len(new.segments("ORC")) + 1):
        for key in (f"ORC{number}.F2", f"ORC{number}.F4", f"OBR{number}.F2"):
            assert raw(cancel, key) == raw(new, key)
