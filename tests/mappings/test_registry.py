"""The version registry: entries of docs/product.md §3 and status around every date."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from mappings import REGISTRY, MessageVersion, UnknownVersionError, get_version
from mappings.charset import CODECS

D = datetime.date


def test_all_six_versions_with_spec_wire_facts() -> None:
    facts = {
        name: (v.event_type, v.hl7_version, v.message_type_new, v.message_type_cancel, v.charset)
        for name, v in REGISTRY.items()
    }
    assert facts == {
        "ref-v1": ("referral", "2.4", "REF^I12^REF_I12", "REF^I14^REF_I12", "8859/1"),
        "ref-v2": ("referral", "2.5.1", "REF^I12^REF_I12", "REF^I14^REF_I12", "UNICODE UTF-8"),
        "orm-lfdv1": ("diagnostic_request", "2.3.1", "ORM^O01", "ORM^O01", "8859/1"),
        "orm-lfdv2": (
            "diagnostic_request", "2.4", "ORM^O01^ORM_O01", "ORM^O01^ORM_O01", "8859/1",
        ),
        "orm-v3": (
            "diagnostic_request", "2.5.1", "ORM^O01^ORM_O01", "ORM^O01^ORM_O01", "UNICODE UTF-8",
        ),
        "oml-v3": (
            "diagnostic_request", "2.5.1", "OML^O21^OML_O21", "OML^O21^OML_O21", "UNICODE UTF-8",
        ),
    }  # fmt: skip


def test_every_version_but_the_retired_orm_lfdv1_has_a_mapper() -> None:
    assert {name for name, v in REGISTRY.items() if v.mapper is None} == {"orm-lfdv1"}


@pytest.mark.parametrize(
    ("name", "day", "status"),
    [
        ("ref-v1", D(2025, 12, 31), "current"),
        ("ref-v1", D(2026, 1, 1), "deprecated"),
        ("ref-v1", D(2027, 6, 30), "deprecated"),
        ("ref-v1", D(2027, 7, 1), "retired"),
        ("orm-lfdv2", D(2025, 8, 31), "current"),
        ("orm-lfdv2", D(2025, 9, 1), "deprecated"),
        ("orm-lfdv2", D(2027, 3, 30), "deprecated"),
        ("orm-lfdv2", D(2027, 3, 31), "retired"),
        ("orm-lfdv1", D(2026, 6, 29), "deprecated"),
        ("orm-lfdv1", D(2026, 6, 30), "retired"),
        ("ref-v2", D(2099, 1, 1), "current"),
        ("orm-v3", D(2000, 1, 1), "current"),
        ("oml-v3", D(2030, 1, 1), "current"),
    ],
)
def test_status_on(name: str, day: datetime.date, status: str) -> None:
    assert REGISTRY[name].status_on(day) == status


def test_successors_exist_and_map_the_same_event_type() -> None:
    expected = {"ref-v1": "ref-v2", "orm-lfdv1": "orm-v3", "orm-lfdv2": "orm-v3"}
    assert {n: v.successor for n, v in REGISTRY.items() if v.successor} == expected
    for name, successor in expected.items():
        assert REGISTRY[successor].event_type == REGISTRY[name].event_type
        assert REGISTRY[successor].sunset is None


def test_charsets_are_encodable() -> None:
    assert {v.charset for v in REGISTRY.values()} <= set(CODECS)


def test_notice_names_sunset_and_successor() -> None:
    ref_v1 = REGISTRY["ref-v1"]
    assert ref_v1.notice(D(2025, 1, 1)) is None
    assert ref_v1.notice(D(2026, 3, 1)) == (
        "message version ref-v1 is deprecated; sunset 2027-07-01, successor ref-v2"
    )
    assert ref_v1.notice(D(2027, 7, 1)) == (
        "message version ref-v1 is retired since 2027-07-01; successor ref-v2"
    )


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        REGISTRY["x"] = REGISTRY["ref-v2"]  # type: ignore[index]


def test_get_version() -> None:
    assert get_version("orm-v3") is REGISTRY["orm-v3"]
    with pytest.raises(UnknownVersionError) as info:
        get_version("ref-v9")
    assert "ref-v9" in str(info.value)
    assert "ref-v1, ref-v2, orm-lfdv1, orm-lfdv2, orm-v3, oml-v3" in str(info.value)


def test_inconsistent_versions_are_refused() -> None:
    def version(**lifecycle: Any) -> MessageVersion:
        return MessageVersion(
            "x", "referral", "2.5.1", "REF^I12^REF_I12", "REF^I14^REF_I12", "UNICODE UTF-8",
            **lifecycle,
        )  # fmt: skip

    with pytest.raises(ValueError, match="needs a successor"):
        version(sunset=D(2027, 1, 1))
    with pytest.raises(ValueError, match="must precede sunset"):
        version(deprecated_since=D(2027, 1, 1), sunset=D(2027, 1, 1), successor="y")
