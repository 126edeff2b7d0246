"""Over-long values: descriptive ST text is cut to 199 characters with a warning naming the
fields; identifiers, codes and FT/TX/ED content are kept whole. Never silently."""

from __future__ import annotations

from typing import Any

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_segment

from mappings import map_event
from mappings.lengths import ORDER_RULES, REFERRAL_RULES, ST_LENGTH, _expand, fit_event
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

LONG = "Abcdefghij" * 30  # 300 characters


@pytest.mark.parametrize("version", REFERRAL_VERSIONS)
def test_long_family_name_is_cut_with_a_warning(version: str, referral: Referral) -> None:
    event = replace_at(referral, ("patient", "name", "family"), LONG)
    mapped = map_event(version, event, context())
    assert mapped.warnings == (
        "PID-5.1.3 shortened to 199 characters",
        "PID-5.1.1 shortened to 199 characters",
    )
    message = read_back(mapped)
    assert value(message, "PID.F5.R1.C1.S3") == LONG[:ST_LENGTH]
    assert value(message, "PID.F5.R1.C1.S1") == ("van der " + LONG)[:ST_LENGTH]
    assert not any("Abcdefghij" in warning for warning in mapped.warnings)
    pid = mapped.text.split("\r")[4]
    parse_segment(pid, version=VERSIONS[version][2], validation_level=VALIDATION_LEVEL.STRICT)


def test_a_value_of_exactly_199_characters_is_kept(referral: Referral) -> None:
    event = replace_at(referral, ("care_product", "name"), LONG[:ST_LENGTH])
    mapped = map_event("ref-v1", event, context())
    assert mapped.warnings == ()
    assert value(read_back(mapped), "OBR.F4.R1.C2") == LONG[:ST_LENGTH]


@pytest.mark.parametrize("version", REFERRAL_VERSIONS)
def test_referrer_name_warning_names_every_field(version: str, referral: Referral) -> None:
    event = replace_at(referral, ("referrer", "name", "given"), LONG)
    mapped = map_event(version, event, context())
    assert mapped.warnings == ("PRD-2.2, OBR-16.3, PV1-8.3 shortened to 199 characters",)
    message = read_back(mapped)
    for key in ("PRD.F2.R1.C2", "OBR.F16.R1.C3", "PV1.F8.R1.C3", "OBR.F16.R2.C3"):
        assert value(message, key) == LONG[:ST_LENGTH]


@pytest.mark.parametrize("version", ORDER_VERSIONS)
def test_order_descriptions_are_cut(version: str, diagnostic_request: DiagnosticRequest) -> None:
    event = replace_at(diagnostic_request, ("tests", 1, "name"), LONG)
    event = replace_at(event, ("collection", "location_name"), LONG)
    mapped = map_event(version, event, context())
    assert mapped.warnings == (
        "OBR-4.2 shortened to 199 characters",
        "PV1-3.9 shortened to 199 characters",
    )
    message = read_back(mapped)
    assert value(message, "OBR3.F4.R1.C2") == LONG[:ST_LENGTH]
    assert value(message, "OBR3.F4.R1.C1") == "TSH"


@pytest.mark.parametrize("version", REFERRAL_VERSIONS)
def test_identifiers_codes_and_content_are_kept_whole(version: str, referral: Referral) -> None:
    letter = "Regel met tekst. " * 10_000  # 170,000 characters of FT
    event = replace_at(referral, ("letter", "reason"), letter)
    event = replace_at(event, ("care_product", "code"), LONG)
    event = replace_at(event, ("patient", "local_id"), LONG)
    event = replace_at(event, ("questions", 1, "answer", 0), LONG)
    mapped = map_event(version, event, context())
    assert mapped.warnings == ()
    message = read_back(mapped)
    assert value(message, "OBX1.F5") == letter
    assert value(message, "OBR.F4.R1.C1") == LONG
    assert value(message, "PID.F3.R3.C1") == LONG
    assert value(message, "OBX7.F5.R1.C2") == LONG


def test_fit_event_leaves_short_events_alone(referral: Referral) -> None:
    assert fit_event(referral) == (referral, ())


def test_every_rule_finds_its_value(
    full_referral: Referral, full_diagnostic_request: DiagnosticRequest
) -> None:
    # A misspelt path would make a rule silently do nothing: on the full events every rule
    # must reach a value.
    organisation = full_diagnostic_request.referrer.organisation
    assert organisation is not None and full_referral.referrer.organisation is not None
    order = replace_at(
        full_diagnostic_request,
        ("referrer", "organisation", "address"),
        full_referral.referrer.organisation.address,
    )
    for rules, event in ((REFERRAL_RULES, full_referral), (ORDER_RULES, order)):
        for path, fields in rules:
            parents = list(_expand(event, path[:-1]))
            assert parents, fields
            for parent in parents:
                model: Any = event
                for step in parent:
                    model = model[step] if isinstance(step, int) else getattr(model, step)
                assert path[-1] in type(model).model_fields, fields
