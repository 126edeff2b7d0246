"""Sign-in at its edges, on SQLite and PostgreSQL: a sign-in that overlaps a second-factor
reset opens no session that survives (nor is audited as a success); a code in other digits is
refused as a wrong one (it was a TypeError: a 500 that told a right password from a wrong
one); what is typed into the address field and is no address stays out of the audit trail (it
may be the password); and a reset counts only the sessions that still worked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrator.access import AccessService, Grant, Identity, LoginRefused, Role, totp
from integrator.clock import ManualClock
from integrator.store import AuditFilter, SessionRecord, Store
from tests.access.conftest import LOCAL, Member, login_as, next_code, onboard
from tests.access.test_reset_second_factor import _set_up_again

EMAIL = "anna@example.nl"


@pytest.fixture
async def anna(service: AccessService, clock: ManualClock) -> Member:
    return await onboard(service, clock, EMAIL, Grant(Role.RESEND, "CARD"))


@pytest.fixture
async def admin(service: AccessService, clock: ManualClock) -> Identity:
    member = await onboard(
        service, clock, "beheer@example.nl", Grant(Role.ADMIN), Grant(Role.RESEND, "CARD")
    )
    return await login_as(service, clock, member)


async def test_a_sign_in_overlapping_a_reset_opens_no_lasting_session(
    service: AccessService,
    store: Store,
    clock: ManualClock,
    anna: Member,
    admin: Identity,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verify = service._verify
    links: list[str] = []

    async def reset_meanwhile(stored: str, password: str) -> bool:
        # The admin resets the second factor while the thief's password is being checked.
        made = await service.reset_second_factor(admin, EMAIL, reason="phone stolen")
        assert made.link is not None
        links.append(made.link)
        return await verify(stored, password)

    monkeypatch.setattr(service, "_verify", reset_meanwhile)
    with pytest.raises(LoginRefused):
        await service.login(EMAIL, anna.password, next_code(anna, clock))
    monkeypatch.undo()
    entries = await store.list_audit(AuditFilter(action="login.failure"))
    assert entries[0].reason == "account changed during sign-in"
    assert not await store.list_audit(AuditFilter(action="login.success", target="person:" + EMAIL))

    # One whose insert slipped in after the reset anyway: ended by the new setup.
    [person] = [p for p in await service.list_people(LOCAL) if p.email == EMAIL]
    now = clock.now()
    await store.add_session(
        SessionRecord(
            id="slipped-in",
            person_id=person.id,
            two_factor=True,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=12),
            revoked_at=None,
        )
    )
    await _set_up_again(service, clock, links[0])
    assert (await store.get_session("slipped-in")).revoked_at is not None  # type: ignore[union-attr]


async def test_a_code_in_other_digits_is_a_wrong_code_audited(
    service: AccessService, store: Store, clock: ManualClock, anna: Member
) -> None:
    assert not totp.looks_like_totp("١٢٣٤٥٦")
    assert totp.verify(anna.totp_secret, "١٢٣٤٥٦", clock.now(), None) is None
    with pytest.raises(LoginRefused):
        await service.login(EMAIL, anna.password, "١٢٣٤٥٦")
    [failure] = await store.list_audit(AuditFilter(action="login.failure"))
    assert failure.reason == "wrong second factor"


async def test_what_is_no_address_is_not_recorded(service: AccessService, store: Store) -> None:
    typed = "correct horse battery staple"
    with pytest.raises(LoginRefused):
        await service.login(typed, typed, "123456")
    [failure] = await store.list_audit(AuditFilter(action="login.failure"))
    assert typed not in failure.target and failure.target == "person:(not an e-mail address)"


async def test_a_reset_counts_the_sessions_that_still_worked(
    service: AccessService, store: Store, clock: ManualClock, anna: Member, admin: Identity
) -> None:
    for _ in range(3):  # sessions left open, then idle past the limit
        await login_as(service, clock, anna)
    clock.advance(timedelta(hours=1))
    await login_as(service, clock, anna)  # the one that works
    await service.reset_second_factor(admin, EMAIL, reason="phone lost")
    [reset] = await store.list_audit(AuditFilter(action="person.reset_second_factor"))
    assert reset.details["sessions_ended"] == 1
