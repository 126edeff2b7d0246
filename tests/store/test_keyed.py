"""The BSN search hash: its value must never change, or stored events become unfindable."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from integrator.store.keyed import bsn_hash

# HMAC-SHA256(b"integrator-test-key", b"123456782"), as the stores written so far hold it.
KNOWN = "d86bf8e20c1ba4d480fe848624082027b7ee5bc035f99c42e2b897b73185c0d8"


def test_the_hash_is_hmac_sha256_in_lower_case_hex() -> None:
    assert bsn_hash("123456782", b"integrator-test-key") == KNOWN


def test_whitespace_around_the_bsn_is_ignored() -> None:
    assert bsn_hash(" 123456782\t", b"integrator-test-key") == KNOWN


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="search key must not be empty"):
        bsn_hash("123456782", b"")


def test_calls_in_turn_with_other_keys_and_bsns_each_get_their_own_hash() -> None:
    cases = [(bsn, key) for key in (b"k1", b"another key", b"k1") for bsn in ("1", "123456782")]
    for bsn, key in cases * 2:
        expected = hmac.new(key, bsn.encode(), hashlib.sha256).hexdigest()
        assert bsn_hash(bsn, key) == expected
    assert bsn_hash("123456782", b"integrator-test-key") == KNOWN


@pytest.mark.parametrize("length", [1, 31, 63, 64, 65, 200])
def test_keys_shorter_and_longer_than_a_block_give_the_standard_hmac(length: int) -> None:
    # The hash is built from the two padded-key states by hand: a key longer than SHA-256's
    # 64-byte block is hashed first, a shorter one padded with zeros (RFC 2104).
    key = bytes(range(1, 256))[:length]
    for bsn in ("123456782", "", "9" * 40):
        assert bsn_hash(bsn, key) == hmac.new(key, bsn.encode(), hashlib.sha256).hexdigest()
