"""What rejected input is found by is read from a body that broke a rule: each key only when it
has a sane shape, and reading never raises, whatever the body (the rejection must be kept)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integrator.rejected_keys import read_keys
from integrator.searchkey import SearchKeyError
from integrator.store import RejectedKeys

BSN = "999990019"


def _hashed(bsn: str) -> str:
    return f"hash-of-{bsn}"


def _keys(body: Any) -> RejectedKeys:
    return read_keys(json.dumps(body).encode(), _hashed)


def test_each_key_is_read_when_it_has_its_shape() -> None:
    body = {"zd_number": " zd300000001", "provider": {"id": " lab-west "}, "patient": {"bsn": BSN}}
    assert _keys(body) == RejectedKeys("ZD300000001", "lab-west", f"hash-of-{BSN}")
    assert read_keys(body, _hashed) == _keys(body)  # a body given as a mapping
    assert read_keys(json.dumps(body), None).bsn_hash is None  # no key, no hash
    spaced = {"patient": {"bsn": "9999.90 019"}}
    assert _keys(spaced).bsn_hash == f"hash-of-{BSN}"


@pytest.mark.parametrize(
    "body",
    [
        {"zd_number": "ZD30000001", "provider": {"id": ""}, "patient": {"bsn": "123456789"}},
        {"zd_number": 300000001, "provider": {"id": 7}, "patient": {"bsn": 999990019}},
        {"zd_number": ["ZD300000001"], "provider": "lab-west", "patient": "999990019"},
        {"zd_number": "ZD300000001\n", "provider": {"id": "a\tb"}, "patient": None},
        {"provider": {"id": "x" * 129}},
        ["ZD300000001"],
        "ZD300000001",
        None,
    ],
)
def test_a_key_of_another_shape_is_left_out(body: Any) -> None:
    keys = _keys(body)
    assert keys.provider_id is None and keys.bsn_hash is None
    if isinstance(body, dict) and body.get("zd_number") == "ZD300000001\n":
        assert keys.zd_number == "ZD300000001"  # whitespace around it is trimmed
    else:
        assert keys.zd_number is None


@pytest.mark.parametrize(
    "raw", [b"\xff\xfe not utf-8", b"{not json", b"[" * 100_000 + b"]" * 100_000, b""]
)
def test_a_body_that_cannot_be_read_gives_no_keys(raw: bytes) -> None:
    assert read_keys(raw, _hashed) == RejectedKeys()


def test_a_search_key_that_is_missing_leaves_the_hash_out() -> None:
    def no_key(bsn: str) -> str:
        raise SearchKeyError("no search key")

    body = {"zd_number": "ZD300000001", "patient": {"bsn": BSN}}
    assert read_keys(json.dumps(body), no_key) == RejectedKeys("ZD300000001", None, None)
