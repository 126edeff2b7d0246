"""Checking lengths while joining (`mappings.checked`) gives what fitting the finished segments
gives (`mappings.lengths.fit_segments`), byte for byte: a message whose joins found nothing too
long is one that fitting leaves alone. Values are drawn around every limit the standard sets,
and explicit cases one character either side of a limit pin down what is cut and kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings import frame, map_event
from mappings.checked import UNCHECKED, WRITERS, TooLong, Writers, fit_while_writing
from mappings.lengths import fit_segments
from schemas import DiagnosticRequest, Referral, parse_event
from tests.mappings import variants
from tests.mappings.helpers import (
    ORDER_VERSIONS,
    REFERRAL_VERSIONS,
    VERSIONS,
    context,
    read_back,
    replace_at,
    text_paths,
    value,
)
from tests.mappings.test_generated import FITTING, diagnostic_requests, referrals

Build = Callable[[Writers], list[str]]

# Widths on the wire around the limits HL7 2.4 and 2.5.1 give the parts these texts go to.
AROUND_LIMITS = st.sampled_from([1, 3, 6, 8, 12, 15, 16, 20, 21, 30, 31, 36, 50, 51, 120, 199, 200])
WIDTHS = st.fixed_dictionaries({key: AROUND_LIMITS for key in FITTING})
SETTINGS = st.sampled_from(["HIS", "X" * 20, "X" * 21, "A|B"])


def _same_as_fitting_afterwards(
    version: str, event: Referral | DiagnosticRequest, **ctx: Any
) -> bool:
    """Asserts that what the mapper's `fit_while_writing` gave is `fit_segments` of the plain
    joins' segments; True when the checked joins found nothing (no fitting ran)."""
    calls: list[tuple[Build, str, tuple[list[str], tuple[str, ...]]]] = []

    def spy(build: Build, hl7_version: str, charset: str) -> tuple[list[str], tuple[str, ...]]:
        result = fit_while_writing(build, hl7_version, charset)
        calls.append((build, charset, result))
        return result

    with mock.patch.object(frame, "fit_while_writing", spy):
        map_event(version, event, context(**ctx))
    [(build, charset, result)] = calls
    hl7_version = VERSIONS[version][2]
    plain = build(UNCHECKED[hl7_version])
    assert result == fit_segments(plain, hl7_version, charset)
    try:
        checked = build(WRITERS[hl7_version])
    except TooLong:
        return False
    assert checked == plain  # the checks never change what is joined
    return True


@settings(max_examples=60, deadline=None)
@given(
    event=WIDTHS.flatmap(referrals),
    version=st.sampled_from(REFERRAL_VERSIONS),
    setting=SETTINGS,
)
def test_referrals_around_the_limits(event: Referral, version: str, setting: str) -> None:
    _same_as_fitting_afterwards(version, event, receiving_application=setting)


@settings(max_examples=60, deadline=None)
@given(
    event=WIDTHS.flatmap(diagnostic_requests),
    version=st.sampled_from(ORDER_VERSIONS),
    setting=SETTINGS,
)
def test_diagnostic_requests_around_the_limits(
    event: DiagnosticRequest, version: str, setting: str
) -> None:
    _same_as_fitting_afterwards(version, event, sending_facility=setting)


def _one_long_text(
    events: st.SearchStrategy[Referral | DiagnosticRequest],
) -> st.SearchStrategy[Referral | DiagnosticRequest]:
    """An event with one of its texts replaced by one around a limit: a single part too long
    is not hidden by another one that is."""

    @st.composite
    def replaced(draw: st.DrawFn) -> Referral | DiagnosticRequest:
        event = draw(events)
        path = draw(st.sampled_from(text_paths(event)))
        width = draw(AROUND_LIMITS)
        text = draw(st.sampled_from(["X", "a&", "é"])) * width
        result: Referral | DiagnosticRequest = replace_at(event, path, text[:width])
        return result

    return replaced()


@settings(max_examples=100, deadline=None)
@given(
    event=_one_long_text(referrals(FITTING)),
    version=st.sampled_from(REFERRAL_VERSIONS),
)
def test_referrals_with_one_text_around_a_limit(event: Referral, version: str) -> None:
    _same_as_fitting_afterwards(version, event)


@settings(max_examples=100, deadline=None)
@given(
    event=_one_long_text(diagnostic_requests(FITTING)),
    version=st.sampled_from(ORDER_VERSIONS),
)
def test_diagnostic_requests_with_one_text_around_a_limit(
    event: DiagnosticRequest, version: str
) -> None:
    _same_as_fitting_afterwards(version, event)


# One past every limit HL7 2.4 and 2.5.1 set on a part these texts reach: a check looser than
# its limit lets one of these through.
LIMITS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 16, 20, 22, 26, 30, 36, 50, 52, 60, 66, 80, 120, 194)
PAST_EVERY_LIMIT = [limit + 1 for limit in (*LIMITS, 199, 227, 250)]


def _without_agbs(event: Referral | DiagnosticRequest) -> Any:
    """Organisations known by name only: other fields and components carry them."""
    event = replace_at(event, ("provider", "agb"), None)
    if event.referrer.organisation is not None:
        event = replace_at(event, ("referrer", "organisation", "agb"), None)
    return event


@pytest.mark.parametrize("kind", ["referral", "diagnostic_request"])
def test_every_text_at_every_limit(
    kind: str, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    # Each text of the full sample alone one past each limit, in every version: whatever the
    # joins let through, fitting would have left alone.
    data = referral_data if kind == "referral" else diagnostic_request_data
    full = parse_event(
        variants.full_referral(data)
        if kind == "referral"
        else variants.full_diagnostic_request(data)
    )
    versions = [version for version, facts in VERSIONS.items() if facts[0] == kind]
    fast = slow = 0
    for event in (full, _without_agbs(full)):
        for path in text_paths(event):
            for width in PAST_EVERY_LIMIT:
                changed = replace_at(
                    event, path, ("a&" * width)[:width] if width % 3 else "X" * width
                )
                for version in versions:
                    if _same_as_fitting_afterwards(version, changed):
                        fast += 1
                    else:
                        slow += 1
    assert fast > slow > 0


@settings(max_examples=30, deadline=None)
@given(event=referrals(FITTING), version=st.sampled_from(REFERRAL_VERSIONS))
def test_fitting_referrals_are_not_fitted_again(event: Referral, version: str) -> None:
    # The point of checking while joining: values within their limits take no second pass.
    assert _same_as_fitting_afterwards(version, event)


def test_samples_are_not_fitted_again(
    referral: Referral, diagnostic_request: DiagnosticRequest
) -> None:
    for version in REFERRAL_VERSIONS:
        assert _same_as_fitting_afterwards(version, referral)
    for version in ORDER_VERSIONS:
        assert _same_as_fitting_afterwards(version, diagnostic_request)


# (version, path in the event, limit on the wire, the field the warning names, cut or kept)
EDGES = [
    ("ref-v2", ("referrer", "name", "given"), 30, "PRD-2.2, OBR-16.3, PV1-8.3", "shortened to"),
    ("ref-v1", ("referrer", "name", "given"), 199, "PRD-2.2, OBR-16.3, PV1-8.3", "shortened to"),
    ("ref-v2", ("patient", "name", "initials"), 30, "PID-5.3", "shortened to"),
    ("ref-v2", ("patient", "address", "city"), 50, "PID-11.3", "shortened to"),
    ("ref-v2", ("patient", "address", "postcode"), 12, "PID-11.5", "kept whole: longer than"),
    ("ref-v2", ("patient", "local_id"), 15, "PID-3.1", "kept whole: longer than"),
    ("ref-v2", ("patient", "insurance", "policy_number"), 15, "IN1-36", "kept whole: longer than"),
    ("ref-v2", ("patient", "gender"), 1, "PID-8", "kept whole: longer than"),
    ("ref-v2", ("care_product", "code"), 20, "OBR-4.1", "kept whole: longer than"),
    ("ref-v1", ("care_product", "code"), 199, "OBR-4.1", "kept whole: longer than"),
    ("ref-v2", ("care_question", "text"), 199, "RF1-10.2", "shortened to"),
    ("orm-v3", ("referrer", "organisation", "name"), 50, "ORC-21.1", "shortened to"),
    ("orm-v3", ("tests", 0, "specimen", "type"), 20, "OBR-15.1.1", "kept whole: longer than"),
    (
        "oml-v3",
        ("tests", 0, "specimen", "type"),
        20,
        "OBR-15.1.1, SPM-4.1",
        "kept whole: longer than",
    ),
    ("orm-v3", ("collection", "location_id"), 20, "PV1-3.1", "kept whole: longer than"),
    ("orm-lfdv2", ("tests", 0, "code"), 199, "OBR-4.1", "kept whole: longer than"),
]


@pytest.mark.parametrize(("version", "path", "limit", "fields", "rule"), EDGES)
def test_one_character_either_side_of_a_limit(
    version: str,
    path: tuple[str | int, ...],
    limit: int,
    fields: str,
    rule: str,
    referral: Referral,
    diagnostic_request: DiagnosticRequest,
) -> None:
    event = referral if VERSIONS[version][0] == "referral" else diagnostic_request
    at_limit = replace_at(event, path, "X" * limit)
    assert map_event(version, at_limit, context()).warnings == ()
    # A repeated field is checked as a whole (stricter than per repetition): at the limit it
    # may be fitted field by field, which finds nothing to do.
    _same_as_fitting_afterwards(version, at_limit)
    over = replace_at(event, path, "X" * (limit + 1))
    mapped = map_event(version, over, context())
    assert f"{fields} {rule} {limit} characters" in mapped.warnings
    assert not _same_as_fitting_afterwards(version, over)
    if rule == "shortened to":  # cut to exactly the limit
        name, position = fields.split(", ")[0].split("-")
        field, component = position.split(".")
        assert value(read_back(mapped), f"{name}.F{field}.R1.C{component}") == "X" * limit
