"""Conformance of every version: the segment grammar from hl7apy's structure tables (our own
matcher, see `grammar.py`), hl7apy as an outside oracle for datatypes and primitive lengths, the
standard's field and component lengths (`standard.py`), and the MSH.

hl7apy drops segments it does not expect and does not check their order, it models ORM's
OBR choice so that `validate()` fails every ORM, and it reads OML's test orders as prior orders
so that `validate()` fails every OML (`oml-v3.md` says so); so the grammar is checked by
`grammar.check`, hl7apy must keep every segment we send, and `validate()` is asserted for REF
only.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import ValidationError
from hl7apy.parser import parse_segment

from mappings import MappedMessage, map_event
from schemas import DiagnosticRequest, Referral
from tests.mappings import grammar, standard
from tests.mappings.helpers import (
    ORDER_VERSIONS,
    REFERRAL_VERSIONS,
    VERSIONS,
    context,
    hl7apy_segments,
    read_back,
    segment_names,
)

ACTIONS = ("new", "cancel")


def _check_message(version: str, mapped: MappedMessage) -> None:
    _, structure, hl7_version, codec = VERSIONS[version]
    text = mapped.text
    names = segment_names(text)
    grammar.check(names, structure, hl7_version)
    parsed, kept = hl7apy_segments(text)
    assert kept == names, "hl7apy dropped or moved a segment"
    # Datatypes and lengths of every field, as far as hl7apy knows them (STRICT parsing).
    for line in text[:-1].split("\r"):
        parse_segment(line, version=hl7_version, validation_level=VALIDATION_LEVEL.STRICT)
    if structure == "REF_I12":
        assert parsed.validate() is True
    # Field and component lengths of the standard, counted on the wire.
    assert standard.violations(mapped.data.decode(codec), hl7_version) == []


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("event_name", ["referral", "full_referral"])
@pytest.mark.parametrize("version", REFERRAL_VERSIONS)
def test_referral_versions_conform(
    version: str, event_name: str, action: str, request: pytest.FixtureRequest
) -> None:
    event: Referral = request.getfixturevalue(event_name)
    mapped = map_event(version, event.model_copy(update={"action": action}), context())
    _check_message(version, mapped)
    parsed, _ = hl7apy_segments(mapped.text)
    assert [child.name for child in parsed.children][-2:] == ["REF_I12_PATIENT_VISIT", "NTE"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("event_name", ["diagnostic_request", "full_diagnostic_request"])
@pytest.mark.parametrize("version", ORDER_VERSIONS)
def test_order_versions_conform(
    version: str, event_name: str, action: str, request: pytest.FixtureRequest
) -> None:
    event: DiagnosticRequest = request.getfixturevalue(event_name)
    mapped = map_event(version, event.model_copy(update={"action": action}), context())
    _check_message(version, mapped)
    names = segment_names(mapped.text)
    assert names.count("ORC") == 1 + len(event.tests)
    if version == "oml-v3":
        assert names.count("TQ1") == names.count("ORC")
        assert names.count("SPM") == sum(test.specimen is not None for test in event.tests)
    else:
        assert "TQ1" not in names and "SPM" not in names


def test_hl7apy_validate_refuses_oml_as_its_page_says(
    full_diagnostic_request: DiagnosticRequest,
) -> None:
    """`oml-v3.md` names what the tests check and why `validate()` is not among them: should
    hl7apy come to read the test orders as orders, this fails and the page is to be changed."""
    parsed, _ = hl7apy_segments(map_event("oml-v3", full_diagnostic_request, context()).text)
    groups = [child.name for child in parsed.children]
    assert groups.count("OML_O21_ORDER") == 1  # the test orders went into the first one
    with pytest.raises(ValidationError, match=r"OML_O21_ORDER_PRIOR\.OML_O21_OBSERVATION_PRIOR"):
        parsed.validate()
    page = (Path(grammar.__file__).resolve().parents[2] / "mappings" / "oml-v3.md").read_text(
        encoding="utf-8"
    )
    assert "Not hl7apy's `validate()`" in page


@pytest.mark.parametrize(
    ("names", "structure", "hl7_version"),
    [
        (["MSH", "PID", "RF1", "PRD", "OBR"], "REF_I12", "2.5.1"),  # RF1 after PID
        (["MSH", "RF1", "PRD", "PID", "ZZZ"], "REF_I12", "2.4"),  # not in the structure
        (["MSH", "RF1", "PID"], "REF_I12", "2.4"),  # PRD missing (1..n)
        (["MSH", "RF1", "RF1", "PRD", "PID"], "REF_I12", "2.5.1"),  # RF1 at most once
        (["MSH", "PID", "OBR", "ORC"], "ORM_O01", "2.5.1"),  # OBR before its ORC
        (["MSH", "PID", "ORC", "OBR", "RXO"], "ORM_O01", "2.4"),  # a choice, not a sequence
        (["MSH", "PID", "ORC", "OBR", "TQ1"], "OML_O21", "2.5.1"),  # TQ1 belongs before OBR
        (["MSH", "PID", "ORC", "TQ1", "OBR", "SPM", "TQ1"], "OML_O21", "2.5.1"),  # no ORC
        (["MSH", "PID", "ORC", "TQ1", "OBR"], "OML_O21", "2.4"),  # 2.4 OML has no TQ1
    ],
)
def test_grammar_check_fails_on_bad_segment_lists(
    names: list[str], structure: str, hl7_version: str
) -> None:
    with pytest.raises(grammar.GrammarError, match=structure):
        grammar.check(names, structure, hl7_version)


@pytest.mark.parametrize(
    ("names", "structure", "hl7_version"),
    [
        (["MSH", "PRD", "PID"], "REF_I12", "2.4"),
        (["MSH", "PID", "ORC", "RXO", "ORC", "OBR", "NTE", "OBX", "NTE"], "ORM_O01", "2.5.1"),
        (["MSH", "ORC"], "ORM_O01", "2.4"),
        (["MSH", "PID", "ORC", "TQ1", "TQ1", "OBR", "OBX", "SPM", "SPM"], "OML_O21", "2.5.1"),
    ],
)
def test_grammar_check_accepts_what_the_standard_allows(
    names: list[str], structure: str, hl7_version: str
) -> None:
    grammar.check(names, structure, hl7_version)


def test_grammar_fails_a_mapped_message_with_a_moved_segment(referral: Referral) -> None:
    names = segment_names(map_event("ref-v1", referral, context()).text)
    moved = [names[0], names[4], *names[1:4], *names[5:]]  # PID before RF1
    assert not grammar.fits(moved, "REF_I12", "2.4")
    assert not grammar.fits([*names, "ZPI"], "REF_I12", "2.4")


@pytest.mark.parametrize("version", VERSIONS)
def test_segments_end_with_cr_only(
    version: str, full_referral: Referral, full_diagnostic_request: DiagnosticRequest
) -> None:
    event = full_referral if version in REFERRAL_VERSIONS else full_diagnostic_request
    text = map_event(version, event, context()).text
    assert "\n" not in text
    assert text.endswith("\r")
    assert not text.endswith("\r\r")


@pytest.mark.parametrize("version", VERSIONS)
def test_msh_per_version(
    version: str, referral: Referral, diagnostic_request: DiagnosticRequest
) -> None:
    event = referral if version in REFERRAL_VERSIONS else diagnostic_request
    _, structure, hl7_version, _ = VERSIONS[version]
    for action in ACTIONS:
        mapped = map_event(version, event.model_copy(update={"action": action}), context())
        msh = read_back(mapped).segment("MSH")
        expected_type = "REF^I14^REF_I12" if structure == "REF_I12" and action == "cancel" else None
        assert str(msh[9]) == (expected_type or f"{structure[:3]}^{structure[4:]}^{structure}")
        assert str(msh[12]) == hl7_version
        assert str(msh[17]) == "NLD"
        assert str(msh[18]) == ("8859/1" if hl7_version == "2.4" else "UNICODE UTF-8")
        assert str(msh[21]) == version


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
