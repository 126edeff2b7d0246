"""Passwords: the policy, and Argon2id hashes with RFC 9106's parameters."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY

from integrator.access.passwords import Passwords, WeakPassword, check_policy

EMAIL = "anna.devries@example.nl"


@pytest.mark.production_password_hashes
def test_default_hashes_are_argon2id_with_rfc_9106_parameters() -> None:
    stored = Passwords().hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$")
    params = extract_parameters(stored)
    assert params.type is Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (
        RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.time_cost,
        RFC_9106_LOW_MEMORY.parallelism,
    )
    assert params.salt_len == 16


def test_verify_and_a_fresh_salt_every_time() -> None:
    passwords = Passwords(PasswordHasher.from_parameters(CHEAPEST))
    first = passwords.hash("correct horse battery")
    assert first != passwords.hash("correct horse battery")
    assert passwords.verify(first, "correct horse battery")
    assert not passwords.verify(first, "correct horse batterY")
    assert not passwords.verify("not a hash", "correct horse battery")


@pytest.mark.production_password_hashes
def test_a_hash_made_with_weaker_parameters_needs_a_rehash() -> None:
    cheap = Passwords(PasswordHasher.from_parameters(CHEAPEST)).hash("correct horse battery")
    assert Passwords().needs_rehash(cheap)
    assert not Passwords(PasswordHasher.from_parameters(CHEAPEST)).needs_rehash(cheap)


def test_only_argon2id_is_accepted() -> None:
    with pytest.raises(ValueError, match="Argon2id"):
        Passwords(PasswordHasher(type=Type.I))


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short-one", "at least 12"),
        ("x" * 257, "at most 256"),
        (" " * 12, "only spaces"),
        (EMAIL, "e-mail"),
        ("ANNA.DEVRIES@example.nl", "e-mail"),
        ("anna.devries", "e-mail"),
    ],
)
def test_policy_refusals_name_the_rule(password: str, rule: str) -> None:
    with pytest.raises(WeakPassword, match=rule) as caught:
        check_policy(password, EMAIL)
    assert password.strip() not in str(caught.value) or password.strip() == ""


def test_policy_accepts_a_long_password() -> None:
    check_policy("twaalf tekens", EMAIL)
    check_policy("x" * 256, EMAIL)
