"""The shape of API tokens and how they are hashed."""

from __future__ import annotations

import hashlib

from integrator.access import tokens


def test_tokens_are_prefixed_random_and_hashed_with_sha256() -> None:
    raw = tokens.new_token()
    assert raw.startswith("itg_") and len(raw) == 4 + 43
    assert raw != tokens.new_token()
    assert tokens.looks_like_token(raw)
    assert tokens.hash_secret(raw) == hashlib.sha256(raw.encode()).hexdigest()
    assert tokens.visible_prefix(raw) == raw[:12]


def test_shape_check_refuses_what_is_no_token() -> None:
    raw = tokens.new_token()
    for bad in ("", "itg_", raw[4:], "Bearer " + raw, raw + "!", "itg_" + "a" * 10):
        assert not tokens.looks_like_token(bad)
