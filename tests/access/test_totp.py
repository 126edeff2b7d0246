"""TOTP codes with a one-step window that are never accepted twice; recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp

from integrator.access import totp

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)  # on a step boundary
STEP = timedelta(seconds=30)


def test_secret_and_provisioning_uri() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and secret != totp.new_secret()
    uri = urlparse(totp.provisioning_uri(secret, "anna@example.nl"))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    query = parse_qs(uri.query)
    assert query["secret"] == [secret] and query["issuer"] == ["Integrator"]
    assert "anna%40example.nl" in uri.path or "anna@example.nl" in uri.path


def test_the_current_code_is_accepted_and_reports_its_step() -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(T0)  # what an authenticator app shows
    assert totp.verify(secret, code, T0, None) == totp.step_at(T0)
    assert totp.verify(secret, f" {code} ", T0, None) == totp.step_at(T0)


def test_one_step_either_side_is_accepted_two_steps_are_not() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, T0)
    assert totp.verify(secret, code, T0 + STEP, None) == totp.step_at(T0)
    assert totp.verify(secret, code, T0 - STEP, None) == totp.step_at(T0)
    assert totp.verify(secret, code, T0 + 2 * STEP, None) is None
    assert totp.verify(secret, code, T0 - 2 * STEP, None) is None


def test_a_used_step_and_older_ones_are_refused() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, T0)
    used = totp.verify(secret, code, T0, None)
    assert used is not None
    assert totp.verify(secret, code, T0, used) is None  # the same code again
    earlier = totp.code_at(secret, T0 - STEP)
    assert totp.verify(secret, earlier, T0, used) is None  # an older one
    later = totp.code_at(secret, T0 + STEP)
    assert totp.verify(secret, later, T0 + STEP, used) == used + 1


def test_wrong_and_malformed_codes_are_refused() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, T0)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert totp.verify(secret, wrong, T0, None) is None
    for bad in ("", "12345", "1234567", "abcdef"):
        assert totp.verify(secret, bad, T0, None) is None


def test_recovery_codes_are_ten_distinct_and_hash_as_typed() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert totp.looks_like_recovery_code(code)
        assert not totp.looks_like_totp(code)
    code = codes[0]
    typed = code.lower().replace("-", " ")
    assert totp.hash_recovery_code(typed) == totp.hash_recovery_code(code)
    assert totp.hash_recovery_code(codes[1]) != totp.hash_recovery_code(code)
    assert len(totp.hash_recovery_code(code)) == 64
    assert not totp.looks_like_recovery_code("123456")
