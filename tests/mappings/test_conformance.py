"""Conformance: hl7apy as an outside oracle, plus a segment-grammar check of our own.

hl7apy drops segments it does not expect and does not check their order, and it models ORM's
OBR choice so that `validate()` fails every ORM; so the grammar is checked here with a regular
expression, hl7apy must keep every segment we send, and `validate()` is asserted for REF only.
"""

from __future__ import annotations

import datetime

import pytest

from mappings import map_event
from schemas import DiagnosticRequest, Referral
from tests.mappings.helpers import context, grammar, hl7apy_segments, read_back, segment_names

REF_I12 = r"MSH RF1 PRD PRD PID (IN1 )?(DG1 )*OBR (OBX (NTE )?)*PV1 (NTE )?"
ORM_O01 = (
    r"MSH (NTE ){0,2}PID (PV1 (PV2 )?)?(IN1 )?"
    r"ORC OBR (OBX (NTE )?)*(ORC OBR (NTE )?(OBX (NTE )?)*)+"
)


@pytest.mark.parametrize("event_name", ["referral", "full_referral"])
def test_ref_v2_is_valid_for_hl7apy(event_name: str, request: pytest.FixtureRequest) -> None:
    event: Referral = request.getfixturevalue(event_name)
    for action in ("new", "cancel"):
        mapped = map_event("ref-v2", event.model_copy(update={"action": action}), context())
        assert grammar(mapped.text, REF_I12), segment_names(mapped.text)
        parsed, kept = hl7apy_segments(mapped.text)
        assert kept == segment_names(mapped.text)
        assert parsed.validate() is True
        assert [child.name for child in parsed.children][-2:] == ["REF_I12_PATIENT_VISIT", "NTE"]


@pytest.mark.parametrize("event_name", ["diagnostic_request", "full_diagnostic_request"])
def test_orm_v3_structure(event_name: str, request: pytest.FixtureRequest) -> None:
    event: DiagnosticRequest = request.getfixturevalue(event_name)
    mapped = map_event("orm-v3", event, context())
    assert grammar(mapped.text, ORM_O01), segment_names(mapped.text)
    parsed, kept = hl7apy_segments(mapped.text)
    assert kept == segment_names(mapped.text)
    notes = (event.cluster is not None) + bool(event.attachments)
    orders = 1 + len(event.tests)
    expected = ["MSH", *["NTE"] * notes, "ORM_O01_PATIENT", *["ORM_O01_ORDER"] * orders]
    assert [child.name for child in parsed.children] == expected


def test_grammar_check_can_fail() -> None:
    assert not grammar("MSH\rPID\rRF1\r", REF_I12)
    assert not grammar("MSH\rPID\rOBR\rORC\r", ORM_O01)


def test_segments_end_with_cr_only(full_referral: Referral) -> None:
    text = map_event("ref-v2", full_referral, context()).text
    assert "\n" not in text
    assert text.endswith("\r")
    assert not text.endswith("\r\r")


def test_enhanced_mode_and_test_processing(referral: Referral) -> None:
    ctx = context(ack_mode="enhanced", processing_id="T", accept_ack_type="ER")
    msh = read_back(map_event("ref-v2", referral, ctx)).segment("MSH")
    assert (str(msh[11]), str(msh[15]), str(msh[16])) == ("T", "ER", "NE")


def test_msh7_uses_the_offset_of_now(referral: Referral) -> None:
    west = datetime.timezone(-datetime.timedelta(hours=3, minutes=30))
    now = datetime.datetime(2027, 1, 2, 3, 4, 5, tzinfo=west)
    msh = read_back(map_event("ref-v2", referral, context(now=now))).segment("MSH")
    assert str(msh[7]) == "20270102030405-0330"


def test_msh_settings_are_escaped(referral: Referral) -> None:
    ctx = context(sending_facility="A|B^C", receiving_application="R&D~X\\")
    mapped = map_event("ref-v2", referral, ctx)
    message = read_back(mapped)
    assert message.unescape(str(message.segment("MSH")[4])) == "A|B^C"
    assert message.unescape(str(message.segment("MSH")[5])) == "R&D~X\\"
    assert len(message.segment("MSH")) == 22
