"""Over-long values, by the rule of `mappings/lengths.md`: descriptive text is cut to what the
standard allows its component and field, with a warning naming the fields; identifiers, codes
and content are kept whole, with a warning where the standard allows less; OBX-5 is advisory.
Lengths count the characters on the wire (after escaping and transliteration)."""

from __future__ import annotations

from typing import Any

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_segment
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings import MappedMessage, map_event
from mappings.lengths import fit_segments
from schemas import DiagnosticRequest, Referral, parse_event
from tests.mappings import standard, variants
from tests.mappings.helpers import (
    ORDER_VERSIONS,
    REFERRAL_VERSIONS,
    VERSIONS,
    context,
    read_back,
    replace_at,
    value,
)
from tests.mappings.test_generated import LONG as LONG_WIDTHS
from tests.mappings.test_generated import diagnostic_requests, referrals

LONG = "Abcdefghij" * 30  # 300 characters


def _violations(version: str, mapped: MappedMessage) -> list[standard.Violation]:
    _, _, hl7_version, codec = VERSIONS[version]
    return standard.violations(mapped.data.decode(codec), hl7_version)


def _strict(version: str, mapped: MappedMessage) -> None:
    """hl7apy's strict parsing (primitive lengths, datatypes) of every segment but OBX, whose
    OBX-5 is advisory."""
    for line in mapped.text[:-1].split("\r"):
        if not line.startswith("OBX"):
            parse_segment(
                line, version=VERSIONS[version][2], validation_level=VALIDATION_LEVEL.STRICT
            )


@pytest.mark.parametrize(("version", "room"), [("ref-v1", 52), ("ref-v2", 36)])
def test_long_organisation_names_fit_prd4(version: str, room: int, referral: Referral) -> None:
    # PRD-4 (PL) has 60 characters: `^^^^^^^^<name>` in 2.4, `^^^^^^^^<name>^<agb>&VEKTIS` in
    # 2.5.1 (PL-10, the AGB, is an identifier and stays whole).
    name = "Huisartsenpraktijk " + LONG
    event = replace_at(referral, ("referrer", "organisation", "name"), name)
    event = replace_at(event, ("provider", "name"), name)
    mapped = map_event(version, event, context())
    assert mapped.warnings == (f"PRD-4.9 shortened to {room} characters",)
    message = read_back(mapped)
    assert value(message, "PRD.F4.R1.C9") == value(message, "PRD2.F4.R1.C9") == name[:room]
    if version == "ref-v2":
        assert value(message, "PRD.F4.R1.C10.S1") == "01054321"
    assert _violations(version, mapped) == []
    _strict(version, mapped)


@pytest.mark.parametrize("version", ORDER_VERSIONS)
def test_long_organisation_names_fit_xon1(
    version: str, diagnostic_request: DiagnosticRequest
) -> None:
    name = "Gezondheidscentrum " + LONG[:41]  # 60 characters
    event = replace_at(diagnostic_request, ("referrer", "organisation", "name"), name)
    mapped = map_event(version, event, context())
    message = read_back(mapped)
    if version == "orm-lfdv2":  # HL7 2.4 gives XON-1 no length of its own: ST, 199
        assert mapped.warnings == ()
        assert value(message, "ORC.F21.R1.C1") == name
    else:  # HL7 2.5.1: XON-1 50
        assert mapped.warnings == ("ORC-21.1 shortened to 50 characters",)
        for number in range(1, len(message.segments("ORC")) + 1):
            assert value(message, f"ORC{number}.F21.R1.C1") == name[:50]
    assert value(message, "ORC.F17.R1.C2") == name  # CE-2: 199
    assert _violations(version, mapped) == []


@pytest.mark.parametrize(("version", "limit"), [("ref-v1", 199), ("ref-v2", 30)])
def test_referrer_name_warning_names_every_field(
    version: str, limit: int, referral: Referral
) -> None:
    event = replace_at(referral, ("referrer", "name", "given"), LONG)
    mapped = map_event(version, event, context())
    assert mapped.warnings == (f"PRD-2.2, OBR-16.3, PV1-8.3 shortened to {limit} characters",)
    message = read_back(mapped)
    for key in ("PRD.F2.R1.C2", "OBR.F16.R1.C3", "PV1.F8.R1.C3", "OBR.F16.R2.C3"):
        assert value(message, key) == LONG[:limit]
    assert not any("Abcdefghij" in warning for warning in mapped.warnings)


@pytest.mark.parametrize("version", REFERRAL_VERSIONS)
def test_long_family_name_fits_the_field(version: str, referral: Referral) -> None:
    # FN-1 (surname as used, "van der <family>") and FN-3 are cut to their component's length,
    # and further when PID-5 as a whole (250) is still too long: the longest parts give way.
    event = replace_at(referral, ("patient", "name", "family"), LONG)
    mapped = map_event(version, event, context())
    assert len(mapped.warnings) == 1
    assert mapped.warnings[0].startswith("PID-5.1.1, PID-5.1.3 shortened to ")
    message = read_back(mapped)
    as_used, family = value(message, "PID.F5.R1.C1.S1"), value(message, "PID.F5.R1.C1.S3")
    assert ("van der " + LONG).startswith(as_used) and LONG.startswith(family)
    assert len(as_used) == len(family) == int(mapped.warnings[0].split()[-2])
    assert value(message, "PID.F5.R1.C2") == "Jan"  # the short parts stay whole
    assert _violations(version, mapped) == []
    _strict(version, mapped)


def test_a_value_of_exactly_its_length_is_kept(referral: Referral) -> None:
    event = replace_at(referral, ("care_product", "name"), LONG[:199])
    mapped = map_event("ref-v1", event, context())
    assert mapped.warnings == ()
    assert value(read_back(mapped), "OBR.F4.R1.C2") == LONG[:199]


@pytest.mark.parametrize("version", REFERRAL_VERSIONS)
def test_lengths_count_escape_sequences_and_never_split_them(
    version: str, referral: Referral
) -> None:
    # 197 characters, an `&` and an `x`: 201 on the wire (`\T\` is three), more than CE-2's
    # 199. The cut leaves the escape sequence out whole (197 + 3 would be 200) rather than
    # sending a broken `\T`.
    event = replace_at(referral, ("care_product", "name"), LONG[:197] + "&x")
    mapped = map_event(version, event, context())
    assert mapped.warnings == ("OBR-4.2 shortened to 199 characters",)
    assert value(read_back(mapped), "OBR.F4.R1.C2") == LONG[:197]
    assert _violations(version, mapped) == []
    _strict(version, mapped)


def test_lengths_count_transliteration_in_latin1_versions(referral: Referral) -> None:
    # `€` becomes `EUR` in ISO 8859-1: 3 + 197 characters on the wire in ref-v1, 198 in ref-v2.
    name = "€" + LONG[:197]
    event = replace_at(referral, ("care_product", "name"), name)
    latin1 = map_event("ref-v1", event, context())
    assert latin1.warnings[0] == "OBR-4.2 shortened to 199 characters"
    assert value(read_back(latin1), "OBR.F4.R1.C2") == "EUR" + LONG[:196]
    assert _violations("ref-v1", latin1) == []
    utf8 = map_event("ref-v2", event, context())
    assert utf8.warnings == ()
    assert value(read_back(utf8), "OBR.F4.R1.C2") == name


@pytest.mark.parametrize(("version", "cx1"), [("ref-v1", 199), ("ref-v2", 15)])
def test_identifiers_codes_and_content_are_kept_whole(
    version: str, cx1: int, referral: Referral
) -> None:
    letter = "Regel met tekst. " * 10_000  # 170,000 characters of FT: OBX-5 is advisory
    event = replace_at(referral, ("letter", "reason"), letter)
    event = replace_at(event, ("care_product", "code"), LONG)
    event = replace_at(event, ("patient", "local_id"), LONG)
    event = replace_at(event, ("questions", 1, "answer", 0), LONG)
    mapped = map_event(version, event, context())
    ce1 = 199 if version == "ref-v1" else 20
    kept = {f"PID-3.1 kept whole: longer than {cx1} characters"}
    kept.add(f"OBR-4.1 kept whole: longer than {ce1} characters")
    kept.add("PID-3, OBR-4 kept whole: longer than 250 characters")
    if version == "ref-v1":
        kept = {
            "PID-3.1, OBR-4.1 kept whole: longer than 199 characters",
            "PID-3, OBR-4 kept whole: longer than 250 characters",
        }
    assert set(mapped.warnings) == kept
    message = read_back(mapped)
    assert value(message, "OBX1.F5") == letter
    assert value(message, "OBR.F4.R1.C1") == LONG
    assert value(message, "OBR.F4.R1.C2") == "Cardiologie polikliniek"  # nothing to gain
    assert value(message, "PID.F3.R3.C1") == LONG
    assert value(message, "OBX7.F5.R1.C2") == LONG
    assert {v.path for v in _violations(version, mapped)} == {
        "PID-3",
        "PID-3.1",
        "OBR-4",
        "OBR-4.1",
    }


@pytest.mark.parametrize("version", REFERRAL_VERSIONS)
def test_free_text_intake_takes_is_sent_whole_though_escaping_makes_it_longer(
    version: str, referral_data: dict[str, Any]
) -> None:
    """What product.md §4 says of free text: intake's 65,536 characters count the text as
    given; on the wire each control character takes five (`\\X0B\\`), beyond FT's 65,536, and
    the letter goes whole, without a warning, and reads back as given."""
    letter = "a" + "\x0b" * 65_534 + "z"
    data = {**referral_data, "letter": {**referral_data["letter"], "reason": letter}}
    event = parse_event(data)
    assert isinstance(event, Referral)
    mapped = map_event(version, event, context())
    [obx] = [s for s in mapped.text.split("\r") if s.startswith("OBX|1|")]
    assert len(obx.split("|")[5]) == 2 + 5 * 65_534  # five times what intake counted, nearly
    assert mapped.warnings == ()
    assert value(read_back(mapped), "OBX1.F5") == letter


@pytest.mark.parametrize("version", ORDER_VERSIONS)
def test_order_descriptions_are_cut(version: str, diagnostic_request: DiagnosticRequest) -> None:
    event = replace_at(diagnostic_request, ("tests", 1, "name"), LONG)
    event = replace_at(event, ("collection", "location_name"), LONG)
    mapped = map_event(version, event, context())
    # PV1-3 (PL, 80): `AFN-01^^^^^^^^<name>` leaves 66 for the location's name.
    assert mapped.warnings == (
        "PV1-3.9 shortened to 66 characters",
        "OBR-4.2 shortened to 199 characters",
    )
    message = read_back(mapped)
    assert value(message, "OBR3.F4.R1.C2") == LONG[:199]
    assert value(message, "OBR3.F4.R1.C1") == "TSH"
    assert value(message, "PV1.F3.R1.C9") == LONG[:66]


def _maximal(name: str, data: dict[str, Any]) -> Referral | DiagnosticRequest:
    event = parse_event(variants.maximal(data))
    assert isinstance(event, Referral if name == "referral" else DiagnosticRequest)
    return event


@pytest.mark.parametrize("version", VERSIONS)
def test_maximal_events_conform_in_every_field(
    version: str, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    # Every text at 300 characters with delimiters and non-Latin-1 letters, every identifier
    # and code as long as HL7 2.5.1 allows, 65,535 characters of content, 100 tests: every
    # field, component and subcomponent of the message is within the standard's length.
    sample = VERSIONS[version][0]
    data = referral_data if sample == "referral" else diagnostic_request_data
    mapped = map_event(version, _maximal(sample, data), context())
    assert _violations(version, mapped) == []
    _strict(version, mapped)
    length_warnings = [w for w in mapped.warnings if "characters outside" not in w]
    assert length_warnings
    assert all(" shortened to " in warning for warning in length_warnings), length_warnings
    assert not any("Zuid" in warning for warning in mapped.warnings)


def _kept_paths(warnings: tuple[str, ...]) -> set[str]:
    return {
        path
        for warning in warnings
        if " kept whole: " in warning
        for path in warning.split(" kept whole: ")[0].split(", ")
    }


def _check_generated(version: str, event: Referral | DiagnosticRequest) -> None:
    mapped = map_event(version, event, context())
    # What still passes the standard's lengths is exactly what the warnings say was kept whole
    # (identifiers and codes intake does not limit); descriptive text always fits.
    assert {v.path for v in _violations(version, mapped)} == _kept_paths(mapped.warnings)
    kept = {path.split(".")[0] for path in _kept_paths(mapped.warnings)}
    assert not kept & {"PRD-2", "PID-5", "OBR-16", "PV1-8", "ORC-10", "ORC-21", "RF1-10"}


@settings(max_examples=40, deadline=None)
@given(event=referrals(LONG_WIDTHS), version=st.sampled_from(REFERRAL_VERSIONS))
def test_generated_long_referrals_conform(event: Referral, version: str) -> None:
    _check_generated(version, event)


@settings(max_examples=40, deadline=None)
@given(event=diagnostic_requests(LONG_WIDTHS), version=st.sampled_from(ORDER_VERSIONS))
def test_generated_long_diagnostic_requests_conform(event: DiagnosticRequest, version: str) -> None:
    _check_generated(version, event)


def test_fitting_leaves_fitting_segments_alone() -> None:
    segments = ["MSH|^~\\&|A||B||20261120091630+0100||REF^I12^REF_I12|1|P|2.5.1", "PID|1"]
    assert fit_segments(segments, "2.5.1", "UNICODE UTF-8") == (segments, ())


def test_warnings_group_fields_by_length() -> None:
    name = "x" * 60
    prd = "|".join(["PRD", "RP", "", "", "^" * 8 + name])
    orc = "|".join(["ORC", "NW", *[""] * 19, name])  # ORC-21
    fitted, warnings = fit_segments([prd, orc, prd], "2.5.1", "UNICODE UTF-8")
    assert fitted == [prd[:-8], orc[:-10], prd[:-8]]
    assert warnings == ("PRD-4.9 shortened to 52 characters", "ORC-21.1 shortened to 50 characters")


def test_settings_longer_than_hd1_are_kept_whole_with_a_warning(referral: Referral) -> None:
    # MSH-5 is an HD; HD-1 (namespace id, IS) has 20 characters. Destinations may configure
    # more; the value is sent whole (a cut one would name another application).
    mapped = map_event("ref-v2", referral, context(receiving_application="X" * 30))
    assert mapped.warnings == ("MSH-5.1 kept whole: longer than 20 characters",)
    assert value(read_back(mapped), "MSH.F5") == "X" * 30
