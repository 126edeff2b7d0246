"""Golden files: the exact bytes each mapper sends, per sample and action.

Run with `UPDATE_GOLDEN=1` to rewrite them after an intended change, then review the diff: it
is the change a hospital sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from mappings import map_event
from schemas import parse_event
from tests.mappings import variants
from tests.mappings.helpers import GOLDEN, REFERRAL_VERSIONS, VERSIONS, context

Variant = Callable[[dict[str, Any]], dict[str, Any]]


def _same(data: dict[str, Any]) -> dict[str, Any]:
    return data


def _full_cancel(variant: Variant) -> Variant:
    return lambda data: variants.cancelled(variant(data))


_REFERRAL_CASES: list[tuple[str, Variant]] = [
    ("referral_new", _same),
    ("referral_cancel", variants.cancelled),
    ("referral-full_new", variants.full_referral),
    ("referral-full_cancel", _full_cancel(variants.full_referral)),
]
_ORDER_CASES: list[tuple[str, Variant]] = [
    ("diagnostic_request_new", _same),
    ("diagnostic_request_cancel", variants.cancelled),
    ("diagnostic_request-full_new", variants.full_diagnostic_request),
    ("diagnostic_request-full_cancel", _full_cancel(variants.full_diagnostic_request)),
]
CASES: list[tuple[str, str, str, Variant]] = [
    (version, VERSIONS[version][0], name, variant)
    for version in VERSIONS
    for name, variant in (_REFERRAL_CASES if version in REFERRAL_VERSIONS else _ORDER_CASES)
]


@pytest.mark.parametrize(
    ("version", "sample", "name", "variant"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES]
)
def test_golden(
    version: str,
    sample: str,
    name: str,
    variant: Variant,
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
) -> None:
    data = referral_data if sample == "referral" else diagnostic_request_data
    mapped = map_event(version, parse_event(variant(data)), context())
    path = GOLDEN / f"{version}_{name}.hl7"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(mapped.data)
    assert path.exists(), f"{path.name} missing: run with UPDATE_GOLDEN=1 and review it"
    assert mapped.data == path.read_bytes()
    assert mapped.warnings == ()


def test_golden_files_have_no_newlines_and_end_with_cr() -> None:
    files = sorted(GOLDEN.glob("*.hl7"))
    assert len(files) == len(CASES)
    for path in files:
        data = path.read_bytes()
        assert b"\n" not in data, path.name
        assert data.startswith(b"MSH|^~\\&|"), path.name
        assert data.endswith(b"\r"), path.name
