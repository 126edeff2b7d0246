"""Property: any text in any text field of an event round-trips through python-hl7 and never
changes the message's structure (segments, fields, repetitions, components, subcomponents).
Descriptive text longer than the standard allows comes back cut (whole escape sequences only),
and then the message says so (`mappings/lengths.md`).

Values are put in with `model_copy`, past the schema's rules, because the writer must be safe
for every string, not only for strings the intake happens to allow today.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings import map_event
from mappings.countries import alpha3
from schemas import DiagnosticRequest, Referral
from tests.mappings.helpers import context, read_back, replace_at, value

Path = tuple[str | int, ...]

# (path in the event, python-hl7 key where it comes back, is it FT/TX)
REFERRAL_FIELDS: list[tuple[Path, str, bool]] = [
    (("zd_number",), "PID.F3.R1.C1", False),
    (("care_question", "text"), "RF1.F10.R1.C2", False),
    (("referrer", "name", "family"), "PRD.F2.R1.C1.S3", False),
    (("referrer", "name", "given"), "PRD.F2.R1.C2", False),
    (("referrer", "organisation", "name"), "PRD.F4.R1.C9", False),
    (("referrer", "organisation", "address", "city"), "PRD.F3.R1.C3", False),
    (("referrer", "phone"), "PRD.F5.R1.C1", False),
    (("referrer", "email"), "PRD.F5.R2.C4", False),
    (("referrer", "big"), "PRD.F7.R2.C1", False),
    (("provider", "name"), "PRD2.F4.R1.C9", False),
    (("provider", "agb"), "PRD2.F4.R1.C10.S1", False),
    (("patient", "local_id"), "PID.F3.R2.C1", False),
    (("patient", "name", "prefix"), "PID.F5.R1.C1.S2", False),
    (("patient", "name", "family"), "PID.F5.R1.C1.S3", False),
    (("patient", "name", "partner_prefix"), "PID.F5.R1.C1.S4", False),
    (("patient", "name", "partner_family"), "PID.F5.R1.C1.S5", False),
    (("patient", "name", "given"), "PID.F5.R1.C2", False),
    (("patient", "name", "initials"), "PID.F5.R1.C3", False),
    (("patient", "address", "street"), "PID.F11.R1.C1.S2", False),
    (("patient", "address", "house_number"), "PID.F11.R1.C1.S3", False),
    (("patient", "address", "house_number_addition"), "PID.F11.R1.C2", False),
    (("patient", "address", "city"), "PID.F11.R1.C3", False),
    (("patient", "address", "postcode"), "PID.F11.R1.C5", False),
    (("patient", "address", "country"), "PID.F11.R1.C6", False),
    (("patient", "phone"), "PID.F13.R1.C1", False),
    (("patient", "email"), "PID.F13.R2.C4", False),
    (("patient", "insurance", "uzovi"), "IN1.F3.R1.C1", False),
    (("patient", "insurance", "policy_number"), "IN1.F36", False),
    (("icpc", 0, "code"), "DG1.F3.R1.C1", False),
    (("icpc", 0, "text"), "DG1.F3.R1.C2", False),
    (("care_product", "code"), "OBR.F4.R1.C1", False),
    (("care_product", "name"), "OBR.F4.R1.C2", False),
    (("letter", "reason"), "OBX1.F5", True),
    (("letter", "history"), "OBX3.F5", True),
    (("letter", "remarks"), "OBX7.F5", True),
    (("questions", 0, "code"), "OBX8.F3.R1.C1", False),
    (("questions", 0, "title"), "OBX8.F3.R1.C2", False),
    (("questions", 1, "answer", 0), "OBX9.F5.R1.C2", False),
    (("questions", 2, "answer"), "OBX10.F5", True),
    (("attachments", 0, "data"), "OBX13.F5.R1.C5", False),
    (("attachments", 0, "filename"), "NTE1.F3.R1", True),
    (("attachments", 3, "description"), "NTE4.F3.R2", True),
    (("cluster", "code"), "NTE5.F3.R1", True),
    (("cluster", "name"), "NTE5.F3.R2", True),
]

ORDER_FIELDS: list[tuple[Path, str, bool]] = [
    (("cluster", "name"), "NTE1.F3.R2", True),
    (("attachments", 0, "filename"), "NTE2.F3.R1", True),
    (("patient", "name", "family"), "PID.F5.R1.C1.S3", False),
    (("patient", "bsn"), "PID.F3.R1.C1", False),
    (("collection", "location_id"), "PV1.F3.R1.C1", False),
    (("collection", "location_name"), "PV1.F3.R1.C9", False),
    (("collection", "instructions"), "OBX2.F5", True),
    (("clinical_info",), "OBX1.F5", True),
    (("referrer", "phone"), "ORC1.F14.R1.C1", False),
    (("referrer", "organisation", "agb"), "ORC1.F17.R1.C1", False),
    (("referrer", "organisation", "name"), "ORC1.F21.R1.C1", False),
    (("tests", 0, "code"), "OBR2.F4.R1.C1", False),
    (("tests", 0, "name"), "OBR2.F4.R1.C2", False),
    (("tests", 2, "coding_system"), "OBR4.F4.R1.C3", False),
    (("tests", 0, "specimen", "type"), "OBR2.F15.R1.C1", False),
    (("tests", 0, "specimen", "container"), "NTE4.F3", True),
    (("questions", 1, "answer", 1), "OBX4.F5.R2.C2", False),
    (("attachments", 0, "data"), "OBX5.F5.R1.C5", False),
    (("attachments", 0, "description"), "NTE3.F3.R2", True),
]

SPECIALS = st.sampled_from(["|", "^", "~", "\\", "&", "\r", "\n", "\r\n", '""', "\x1c", "\x0b"])
TEXT = st.lists(
    st.one_of(SPECIALS, st.characters(exclude_categories=["Cs"])), min_size=1, max_size=30
).map("".join)


def deep_shape(text: str) -> list[list[list[list[int]]]]:
    """Subcomponent counts per component per repetition per field per segment, read with raw
    delimiters: after escaping, a value's own characters can never be among them."""
    return [
        [
            [[component.count("&") + 1 for component in rep.split("^")] for rep in field.split("~")]
            for field in segment.split("|")
        ]
        for segment in text.split("\r")
    ]


def _check(version: str, event: Any, path: Path, key: str, ft: bool, text: str) -> None:
    ctx = context()
    baseline = map_event(version, replace_at(event, path, "x"), ctx)
    mapped = map_event(version, replace_at(event, path, text), ctx)
    assert deep_shape(mapped.text) == deep_shape(baseline.text)
    message = read_back(mapped)
    assert len(message) == baseline.text.count("\r")
    expected = text.replace("\r\n", "\r").replace("\n", "\r") if ft else text
    if path[-1] == "country":
        expected = alpha3(text)  # an ISO 3166-1 code goes as alpha-3, anything else as given
    got = value(message, key)
    if got != expected:
        assert not ft, "content is never cut"
        assert expected.startswith(got)
        assert any(" shortened to " in warning for warning in mapped.warnings)


FIXTURE_OK = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FIXTURE_OK
@given(field=st.sampled_from(REFERRAL_FIELDS), text=TEXT)
def test_any_text_in_a_referral(
    full_referral: Referral, field: tuple[Path, str, bool], text: str
) -> None:
    path, key, ft = field
    _check("ref-v2", full_referral, path, key, ft, text)


@FIXTURE_OK
@given(field=st.sampled_from(ORDER_FIELDS), text=TEXT)
def test_any_text_in_a_diagnostic_request(
    full_diagnostic_request: DiagnosticRequest, field: tuple[Path, str, bool], text: str
) -> None:
    path, key, ft = field
    _check("orm-v3", full_diagnostic_request, path, key, ft, text)


def test_every_referral_field_is_where_the_table_says(full_referral: Referral) -> None:
    # Guards the table itself: a wrong key would make the property pass vacuously.
    for path, key, ft in REFERRAL_FIELDS:
        _check("ref-v2", full_referral, path, key, ft, "Zz|9")


def test_every_order_field_is_where_the_table_says(
    full_diagnostic_request: DiagnosticRequest,
) -> None:
    for path, key, ft in ORDER_FIELDS:
        _check("orm-v3", full_diagnostic_request, path, key, ft, "Zz|9")
