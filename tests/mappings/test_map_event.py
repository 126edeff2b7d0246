"""`map_event` and the context: every refusal, with a message that names the rule."""

from __future__ import annotations

import datetime

import pytest

from mappings import (
    EventTypeMismatch,
    InvalidContext,
    InvalidControlId,
    MappingContext,
    MappingError,
    NoMapperError,
    RetiredVersionError,
    UnknownCharsetError,
    UnknownVersionError,
    map_event,
)
from mappings.ref_v2 import map_ref_v2
from schemas import DiagnosticRequest, Referral
from tests.mappings.helpers import NOW, context


def test_unknown_version(referral: Referral) -> None:
    with pytest.raises(UnknownVersionError, match="known versions: ref-v1"):
        map_event("REF-V2", referral, context())


def test_event_type_mismatch(referral: Referral, diagnostic_request: DiagnosticRequest) -> None:
    with pytest.raises(EventTypeMismatch, match="'orm-v3' maps 'diagnostic_request' events"):
        map_event("orm-v3", referral, context())
    with pytest.raises(EventTypeMismatch, match="not 'diagnostic_request'"):
        map_event("ref-v2", diagnostic_request, context())
    with pytest.raises(EventTypeMismatch):
        map_ref_v2(diagnostic_request, context())


def test_retired_version_names_successor(diagnostic_request: DiagnosticRequest) -> None:
    with pytest.raises(
        RetiredVersionError, match="retired since 2026-06-30; use its successor 'orm-v3'"
    ):
        map_event("orm-lfdv1", diagnostic_request, context())


def test_sunset_is_judged_on_the_context_date(referral: Referral) -> None:
    before = context(now=datetime.datetime(2027, 6, 30, 23, 59, tzinfo=NOW.tzinfo))
    assert map_event("ref-v1", referral, before).version == "ref-v1"
    after = context(now=datetime.datetime(2027, 7, 1, 0, 0, tzinfo=NOW.tzinfo))
    with pytest.raises(RetiredVersionError, match="'ref-v2'"):
        map_event("ref-v1", referral, after)


def test_retired_version_has_no_mapper(diagnostic_request: DiagnosticRequest) -> None:
    # orm-lfdv1 stays without a mapper; before its sunset that is what map_event says.
    before = context(now=datetime.datetime(2026, 6, 29, 12, 0, tzinfo=NOW.tzinfo))
    with pytest.raises(NoMapperError, match="'orm-lfdv1' has no mapper yet"):
        map_event("orm-lfdv1", diagnostic_request, before)


def test_all_refusals_are_mapping_errors() -> None:
    for error in (
        UnknownVersionError,
        RetiredVersionError,
        NoMapperError,
        EventTypeMismatch,
        InvalidContext,
        InvalidControlId,
        UnknownCharsetError,
    ):
        assert issubclass(error, MappingError)


def test_mapping_is_deterministic_and_pure(referral: Referral) -> None:
    first = map_event("ref-v2", referral, context())
    assert map_event("ref-v2", referral, context()) == first
    assert first.control_id in first.text


@pytest.mark.parametrize(
    "control_id",
    ["", "A" * 21, "ab|c", "ab^c", "ab~c", "ab\\c", "ab&c", "ab c", "ab\rc", "ébc"],
)
def test_bad_control_ids_are_refused(control_id: str) -> None:
    with pytest.raises(InvalidControlId, match="control_id must be 1-20 visible ASCII") as info:
        MappingContext(control_id=control_id, now=NOW)
    assert f"got {len(control_id)} characters" in str(info.value)


def test_good_control_ids() -> None:
    for control_id in ("1", "A" * 20, "2026-11-20.001_x#", "!}"):
        assert MappingContext(control_id=control_id, now=NOW).control_id == control_id


def test_naive_now_is_refused() -> None:
    with pytest.raises(InvalidContext, match="timezone-aware"):
        MappingContext(control_id="1", now=datetime.datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("processing_id", "D"),
        ("ack_mode", "fast"),
        ("accept_ack_type", "XX"),
        ("application_ack_type", ""),
        ("platform_authority", ""),
        ("platform_authority", "ZORGDOMEIN1"),  # 11: `<zd>^<authority>` would pass 22
    ],
)
def test_bad_context_settings_are_refused(field: str, bad: str) -> None:
    with pytest.raises(InvalidContext, match=field):
        context(**{field: bad})
