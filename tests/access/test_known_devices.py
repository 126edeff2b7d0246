"""A browser a person signed in from before is not kept out by a lock someone else caused.

Found by a penetration test: whoever knew a person's e-mail address could keep that person
locked out (five wrong sign-ins every quarter of an hour). A sign-in that passes now gives the
browser a known-device cookie; through it the person's own sign-in is checked whatever the
account's lock, and its own failures are counted against the cookie (``known_devices``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from integrator.access import AccessService, Grant, LoginRefused, Role
from integrator.access.known_devices import DEVICE_DAYS, device_key
from integrator.access.passwords import Passwords
from integrator.access.settings import AccessSettings
from integrator.clock import ManualClock
from integrator.store import Store
from tests.access.conftest import BASE_URL, Member, next_code, onboard

EMAIL = "anna@example.nl"
OTHER = "bram@example.nl"


def keyed_service(store: Store, clock: ManualClock, key: bytes | None) -> AccessService:
    return AccessService(
        store,
        clock,
        AccessSettings(base_url=BASE_URL),
        Passwords(PasswordHasher.from_parameters(CHEAPEST)),
        device_key=key,
    )


@pytest.fixture
def service(store: Store, clock: ManualClock) -> AccessService:
    return keyed_service(store, clock, secrets.token_bytes(32))


@pytest.fixture
async def anna(service: AccessService, clock: ManualClock) -> Member:
    return await onboard(service, clock, EMAIL, Grant(Role.RESEND, "CARD"))


async def lock(service: AccessService, clock: ManualClock, member: Member) -> None:
    """Five wrong passwords from a browser that never signed in: the account is locked."""
    for _ in range(5):
        with pytest.raises(LoginRefused):
            await service.login(member.email, "a guess", next_code(member, clock))


async def reasons(store: Store, email: str = EMAIL) -> list[str | None]:
    entries = await store.list_audit(target=f"person:{email}", limit=1000)
    return [e.reason for e in reversed(entries) if e.action == "login.failure"]


async def test_the_person_signs_in_from_a_known_browser_while_a_guesser_keeps_the_lock(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    device = (await service.login(EMAIL, anna.password, next_code(anna, clock))).device
    assert device is not None
    await lock(service, clock, anna)
    with pytest.raises(LoginRefused):  # another browser: locked, as before
        await service.login(EMAIL, anna.password, next_code(anna, clock))
    result = await service.login(EMAIL, anna.password, next_code(anna, clock), device=device)
    assert await service.authenticate_session(result.session) is not None
    assert result.device is not None and result.device != device  # a new one, days anew
    assert (await reasons(store))[-1] == "account locked"
    [entry] = await store.list_audit(target=f"person:{EMAIL}", limit=1)
    assert entry.action == "login.success" and entry.details["known_device"] is True
    # The lock the guesser caused stands for every other browser: lifting it at her sign-in
    # would give the guesser five more checks at once.
    with pytest.raises(LoginRefused):
        await service.login(EMAIL, anna.password, next_code(anna, clock))
    assert (await reasons(store))[-1] == "account locked"


async def test_failures_through_a_known_browser_hold_it_and_not_the_account(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    device = (await service.login(EMAIL, anna.password, next_code(anna, clock))).device
    for _ in range(5):
        with pytest.raises(LoginRefused):
            await service.login(EMAIL, "a guess", next_code(anna, clock), device=device)
    assert await reasons(store) == ["wrong password (known device)"] * 5
    actions = [e.action for e in await store.list_audit(target=f"person:{EMAIL}", limit=1000)]
    assert "login.locked" not in actions
    # Held now: the browser is like any other, and meets the account's count and lock.
    await lock(service, clock, anna)
    with pytest.raises(LoginRefused):
        await service.login(EMAIL, anna.password, next_code(anna, clock), device=device)
    assert (await reasons(store))[-6:] == ["wrong password"] * 5 + ["account locked"]
    # Once its failures are a quarter of an hour old, it is known again.
    clock.advance(timedelta(minutes=15))
    await lock(service, clock, anna)
    await service.login(EMAIL, anna.password, next_code(anna, clock), device=device)


async def test_all_of_a_persons_cookies_together_get_twice_one_cookies_failures(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    """Whoever could make cookies (the search key, leaked with a backup) makes as many as
    they like: each would get five checks of its own, and the account's lock none."""
    devices = [
        (await service.login(EMAIL, anna.password, next_code(anna, clock))).device for _ in range(3)
    ]
    for device in devices[:2]:
        for _ in range(5):
            with pytest.raises(LoginRefused):
                await service.login(EMAIL, "a guess", next_code(anna, clock), device=device)
    assert await reasons(store) == ["wrong password (known device)"] * 10
    # The third, with no failure of its own, is now like any browser: it meets the account.
    await lock(service, clock, anna)
    with pytest.raises(LoginRefused):
        await service.login(EMAIL, anna.password, next_code(anna, clock), device=devices[2])
    assert (await reasons(store))[-1] == "account locked"


async def test_setting_up_again_ends_the_persons_cookies(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    """A cookie is bound to the password hash it was made under: a second-factor reset (and
    setting up again, with a new password) ends it, as it ends the sessions."""
    device = (await service.login(EMAIL, anna.password, next_code(anna, clock))).device
    person = await store.get_person(email=EMAIL)
    assert person is not None
    hasher = Passwords(PasswordHasher.from_parameters(CHEAPEST))
    await store.set_password_hash(person.id, hasher.hash("a new password, set up again"))
    await lock(service, clock, anna)
    with pytest.raises(LoginRefused):
        await service.login(
            EMAIL, "a new password, set up again", next_code(anna, clock), device=device
        )
    assert (await reasons(store))[-1] == "account locked"


async def test_a_cookie_counts_only_for_its_own_person_unchanged_and_young(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    bram = await onboard(service, clock, OTHER, Grant(Role.RESEND, "CARD"))
    device = (await service.login(EMAIL, anna.password, next_code(anna, clock))).device
    assert device is not None
    await lock(service, clock, bram)
    with pytest.raises(LoginRefused):  # Anna's browser is not Bram's
        await service.login(OTHER, bram.password, next_code(bram, clock), device=device)
    await lock(service, clock, anna)
    person, issued, nonce, mac = device.split(".")
    changed = [
        f"{person}.{int(issued) + 1}.{nonce}.{mac}",
        f"{person}.{issued}.{nonce}x.{mac}",
        f"{person}.{issued}.{nonce}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
        f"{person}.{issued}.{nonce}",
        "",
        device + "." * 200,
    ]
    for cookie in changed:
        with pytest.raises(LoginRefused):
            await service.login(EMAIL, anna.password, next_code(anna, clock), device=cookie)
    other_key = keyed_service(store, clock, secrets.token_bytes(32))
    with pytest.raises(LoginRefused):
        await other_key.login(EMAIL, anna.password, next_code(anna, clock), device=device)
    assert (await reasons(store))[-7:] == ["account locked"] * 7
    # Too old: a cookie is taken for DEVICE_DAYS from the sign-in that made it.
    clock.advance(timedelta(days=DEVICE_DAYS))
    await lock(service, clock, anna)
    with pytest.raises(LoginRefused):
        await service.login(EMAIL, anna.password, next_code(anna, clock), device=device)


async def test_no_search_key_or_a_guessable_one_makes_no_cookie(
    store: Store, clock: ManualClock
) -> None:
    assert device_key(None, None) is None
    assert device_key("changeme-changeme", "it is the example settings' placeholder") is None
    strong = device_key("a-strong-search-key-of-many-characters", None)
    assert strong is not None and len(strong) == 32
    assert strong != device_key("another-strong-search-key-of-its-own", None)
    service = keyed_service(store, clock, None)
    anna = await onboard(service, clock, EMAIL, Grant(Role.RESEND, "CARD"))
    assert (await service.login(EMAIL, anna.password, next_code(anna, clock))).device is None
