"""Failed sign-ins counted per client address: ten within ten minutes, and the address waits.

First the counter alone (``SignInThrottle``, on a clock the test moves), then the service's
sign-in and invitation steps on a real store: refused unchecked while held (a right password
too), audited once per window, successes never counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from integrator.access import (
    AccessService,
    BadAccessInput,
    Grant,
    InvitationInvalid,
    LoginRefused,
    Role,
    SignInsHeld,
    totp,
)
from integrator.access.sign_in_throttle import Held, Reservation, SignInThrottle, counted_as
from integrator.clock import ManualClock
from integrator.store import Store
from tests.access.conftest import LOCAL, PASSWORD, link_secret, next_code, onboard

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HERE = "192.0.2.7"
ELSEWHERE = "198.51.100.9"


def _fail(throttle: SignInThrottle, address: str | None = HERE) -> None:
    reserved = throttle.reserve(address)
    assert isinstance(reserved, Reservation)
    with reserved:
        reserved.failed()


# -- the counter ------------------------------------------------------------------------------


def test_the_eleventh_attempt_within_the_window_is_held_until_the_oldest_is_old_enough() -> None:
    clock = ManualClock(T0)
    throttle = SignInThrottle(clock)
    for _ in range(10):
        _fail(throttle)
        clock.advance(timedelta(seconds=30))  # ten failures over five minutes
    held = throttle.reserve(HERE)
    assert isinstance(held, Held)
    assert held.until == T0 + timedelta(minutes=10)  # the first failure ten minutes old
    assert held.retry_after == 300 and held.failures == 10 and held.first
    assert isinstance(throttle.reserve(ELSEWHERE), Reservation)  # other addresses go on
    clock.advance(timedelta(seconds=299))
    again = throttle.reserve(HERE)
    assert isinstance(again, Held) and again.retry_after == 1 and not again.first
    clock.advance(timedelta(seconds=1))
    assert isinstance(throttle.reserve(HERE), Reservation)


def test_attempts_that_passed_are_not_counted() -> None:
    clock = ManualClock(T0)
    throttle = SignInThrottle(clock)
    for _ in range(50):
        reserved = throttle.reserve(HERE)
        assert isinstance(reserved, Reservation)
        with reserved:
            pass  # passed: never ``failed``
    assert len(throttle) == 0  # nothing left to remember
    for _ in range(9):
        _fail(throttle)
    assert isinstance(throttle.reserve(HERE), Reservation)


def test_attempts_in_flight_are_counted_before_they_are_checked() -> None:
    """Twenty at once from one address: ten are let through to be checked, ten held."""
    throttle = SignInThrottle(ManualClock(T0))
    answers = [throttle.reserve(HERE) for _ in range(20)]
    assert sum(isinstance(a, Reservation) for a in answers) == 10
    held = [a for a in answers if isinstance(a, Held)]
    assert len(held) == 10 and [h.first for h in held].count(True) == 1


def test_a_refusal_is_told_once_per_window() -> None:
    clock = ManualClock(T0)
    throttle = SignInThrottle(clock, limit=2, window=timedelta(minutes=10))
    told: list[bool] = []
    for _ in range(30):  # an attacker who keeps trying, one attempt a minute
        for _ in range(3):
            answer = throttle.reserve(HERE)
            if isinstance(answer, Reservation):
                with answer:
                    answer.failed()
            else:
                told.append(answer.first)
        clock.advance(timedelta(minutes=1))
    assert told.count(True) == 3  # thirty minutes: one per ten


def test_the_addresses_tracked_are_bounded_and_the_least_recent_is_forgotten() -> None:
    throttle = SignInThrottle(ManualClock(T0), limit=1, addresses=3)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        _fail(throttle, address)
    assert isinstance(throttle.reserve("10.0.0.1"), Held)  # seen again: now the most recent
    _fail(throttle, "10.0.0.4")
    assert len(throttle) == 3
    assert isinstance(throttle.reserve("10.0.0.2"), Reservation)  # forgotten: counts anew
    assert isinstance(throttle.reserve("10.0.0.1"), Held)


ONE_HOST = "2001:db8:1:2"
"""The /64 of one IPv6 host: its SLAAC and privacy addresses, billions of them, all in it."""


def test_the_addresses_of_one_ipv6_host_are_held_together() -> None:
    """Each failure from a new address of one /64: the eleventh address is held all the same,
    and so is the first, seen again."""
    throttle = SignInThrottle(ManualClock(T0))
    for n in range(10):
        _fail(throttle, f"{ONE_HOST}::{n + 1:x}")
    held = throttle.reserve(f"{ONE_HOST}:abcd:ef01:2345:6789")
    assert isinstance(held, Held) and held.failures == 10 and held.first
    assert held.counted_as == f"{ONE_HOST}::/64"
    assert isinstance(throttle.reserve(f"{ONE_HOST}::1"), Held)
    assert len(throttle) == 1  # one entry for the host, not one per address


def test_two_ipv6_networks_are_counted_apart() -> None:
    throttle = SignInThrottle(ManualClock(T0), limit=2)
    for n in range(2):
        _fail(throttle, f"{ONE_HOST}::{n + 1}")
    assert isinstance(throttle.reserve(f"{ONE_HOST}::9"), Held)
    assert isinstance(throttle.reserve("2001:db8:1:3::1"), Reservation)  # the next /64
    assert isinstance(throttle.reserve("2001:db8:2:2::1"), Reservation)


def test_an_ipv4_mapped_address_is_counted_as_its_ipv4_address() -> None:
    """A dual-stack socket shows an IPv4 client as ``::ffff:a.b.c.d``: the same client."""
    throttle = SignInThrottle(ManualClock(T0), limit=2)
    _fail(throttle, HERE)
    _fail(throttle, f"::ffff:{HERE}")
    held = throttle.reserve(HERE)
    assert isinstance(held, Held) and held.counted_as == HERE
    assert isinstance(throttle.reserve(f"::ffff:{HERE}"), Held)
    assert isinstance(throttle.reserve(ELSEWHERE), Reservation)


def test_what_an_address_is_counted_as() -> None:
    assert counted_as(HERE) == HERE
    assert counted_as("2001:DB8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert counted_as("::ffff:192.0.2.7") == "192.0.2.7"
    assert counted_as("fe80::1%eth0") == "fe80::/64"
    assert counted_as("testclient") == "testclient"  # no IP address: as given


def test_a_host_cycling_through_its_addresses_cannot_evict_its_own_entry() -> None:
    """Ten thousand addresses of one /64 are one entry, so they push nothing out; many /64s
    still leave the table bounded, the least recent forgotten first."""
    throttle = SignInThrottle(ManualClock(T0), limit=1, addresses=3)
    _fail(throttle, f"{ONE_HOST}::1")
    for n in range(2, 10_000):
        assert isinstance(throttle.reserve(f"{ONE_HOST}::{n:x}"), Held)
    assert len(throttle) == 1
    for network in range(3, 8):
        _fail(throttle, f"2001:db8:1:{network}::1")
    assert len(throttle) == 3
    assert isinstance(throttle.reserve(f"{ONE_HOST}::1"), Reservation)  # forgotten: anew


def test_an_attempt_without_an_address_is_not_counted() -> None:
    throttle = SignInThrottle(ManualClock(T0), limit=1)
    for _ in range(5):
        _fail(throttle, None)
    assert len(throttle) == 0


def test_the_counter_refuses_settings_that_would_hold_nobody_or_everybody() -> None:
    with pytest.raises(ValueError, match="positive"):
        SignInThrottle(ManualClock(T0), limit=0)
    with pytest.raises(ValueError, match="positive"):
        SignInThrottle(ManualClock(T0), window=timedelta(0))


# -- the service ------------------------------------------------------------------------------


async def _throttled(store: Store) -> list[tuple[str, str | None, dict[str, object]]]:
    entries = [e for e in await store.list_audit(limit=1000) if e.action == "login.throttled"]
    return [(e.target, e.reason, dict(e.details or {})) for e in entries]


async def _failures(store: Store) -> int:
    return sum(e.action == "login.failure" for e in await store.list_audit(limit=1000))


async def test_an_address_guessing_across_accounts_is_held_and_nothing_more_is_checked(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    anna = await onboard(service, clock, "anna@example.nl", Grant(Role.VIEWER))
    for n in range(10):  # one or two guesses at each of many accounts: no account locks
        with pytest.raises(LoginRefused):
            await service.login(f"p{n}@example.nl", "guess one two three", "000000", source=HERE)
    assert await _failures(store) == 10
    # Anna's right password and code from that address: refused without being checked.
    with pytest.raises(SignInsHeld) as held:
        await service.login(anna.email, anna.password, next_code(anna, clock), source=HERE)
    assert held.value.retry_after == 600 - 30 and held.value.minutes == 10
    assert "too many failed sign-ins from this address" in str(held.value)
    with pytest.raises(SignInsHeld):
        await service.login(anna.email, "another guess at it", "000000", source=HERE)
    assert await _failures(store) == 10  # neither was checked, nor audited as a failure
    [(target, reason, details)] = await _throttled(store)  # one entry for the two
    assert target == f"address:{HERE}"
    assert reason == "10 failed attempts from this address within 10 minutes"
    assert details == {"source": HERE, "step": "login", "until": "2026-12-01T09:10:00+00:00"}
    # Anna elsewhere is not held; and here again once the window has passed.
    await service.login(anna.email, anna.password, next_code(anna, clock), source=ELSEWHERE)
    clock.advance(timedelta(minutes=10))
    await service.login(anna.email, anna.password, next_code(anna, clock), source=HERE)


async def test_a_held_ipv6_network_is_audited_with_what_was_counted(
    service: AccessService, store: Store
) -> None:
    for n in range(10):
        with pytest.raises(LoginRefused):
            await service.login(
                f"p{n}@example.nl", "guess one two three", "000000", source=f"{ONE_HOST}::{n + 1}"
            )
    with pytest.raises(SignInsHeld):
        await service.login("p@example.nl", "one more guess", "000000", source=f"{ONE_HOST}::ff")
    [(target, reason, details)] = await _throttled(store)
    assert target == f"address:{ONE_HOST}::ff"
    assert reason == f"10 failed attempts from {ONE_HOST}::/64 within 10 minutes"
    assert details["source"] == f"{ONE_HOST}::ff"
    assert details["counted_as"] == f"{ONE_HOST}::/64"


async def test_successful_sign_ins_do_not_count(service: AccessService, clock: ManualClock) -> None:
    anna = await onboard(service, clock, "anna@example.nl", Grant(Role.VIEWER))
    for _ in range(12):
        await service.login(anna.email, anna.password, next_code(anna, clock), source=HERE)
    for _ in range(4):  # below the account's own lock of five
        with pytest.raises(LoginRefused):
            await service.login(anna.email, "wrong password here", "000000", source=HERE)
    await service.login(anna.email, anna.password, next_code(anna, clock), source=HERE)


async def test_a_burst_from_one_address_gets_ten_checks(
    service: AccessService, store: Store
) -> None:
    async def attempt(n: int) -> str:
        try:
            await service.login(f"p{n}@example.nl", "guess one two three", "000000", source=HERE)
        except SignInsHeld:
            return "held"
        except LoginRefused:
            return "refused"
        return "in"

    answers = await asyncio.gather(*(attempt(n) for n in range(20)))
    assert (answers.count("refused"), answers.count("held")) == (10, 10)
    assert await _failures(store) == 10
    assert len(await _throttled(store)) == 1


async def test_wrong_codes_and_dead_links_at_an_invitation_count_for_the_address(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    invitation = await service.invite(LOCAL, "bea@example.nl", [Grant(Role.VIEWER)])
    secret = link_secret(invitation.link)
    start = await service.begin_accept(secret, source=HERE)
    for _ in range(5):
        with pytest.raises(BadAccessInput, match="not the code"):
            await service.finish_accept(secret, PASSWORD, "000000", source=HERE)
        with pytest.raises(InvitationInvalid, match="not known"):
            await service.begin_accept("not-a-link-anybody-has", source=HERE)
    # Held: the right code is refused unchecked, and so is opening the link.
    with pytest.raises(SignInsHeld):
        await service.finish_accept(
            secret, PASSWORD, totp.code_at(start.totp_secret, clock.now()), source=HERE
        )
    with pytest.raises(SignInsHeld):
        await service.begin_accept(secret, source=HERE)
    [(_, _, details)] = await _throttled(store)
    assert details["step"] == "invitation.accept"
    clock.advance(timedelta(minutes=10))
    done = await service.finish_accept(
        secret, PASSWORD, totp.code_at(start.totp_secret, clock.now()), source=HERE
    )
    assert done.email == "bea@example.nl"


async def test_a_password_the_policy_refuses_is_no_failed_attempt(
    service: AccessService, clock: ManualClock
) -> None:
    invitation = await service.invite(LOCAL, "bea@example.nl", [Grant(Role.VIEWER)])
    secret = link_secret(invitation.link)
    start = await service.begin_accept(secret, source=HERE)
    for _ in range(12):
        with pytest.raises(BadAccessInput, match="at least 12"):
            await service.finish_accept(
                secret, "short", totp.code_at(start.totp_secret, clock.now()), source=HERE
            )
    done = await service.finish_accept(
        secret, PASSWORD, totp.code_at(start.totp_secret, clock.now()), source=HERE
    )
    assert done.email == "bea@example.nl"
