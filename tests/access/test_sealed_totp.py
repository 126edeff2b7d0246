"""Enrolment and login with the TOTP secret sealed under a data key (docs/access.md).

A secret from before the key keeps working and is sealed by ``keys rotate``; a secret that does
not open (moved from another person's row, changed, under a key not configured) lets nobody in
with a TOTP code: the login is refused like any other and counted, and the audit entry says why
without the secret. Recovery codes still work.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import select, text, update

from integrator.access import (
    AccessService,
    AccessSettings,
    BadAccessInput,
    Grant,
    LoginRefused,
    Role,
    totp,
)
from integrator.access.passwords import Passwords
from integrator.clock import ManualClock
from integrator.store import Store
from integrator.store.sealing import TEXT_MAGIC, DataKey, Sealer
from integrator.store.tables import people
from tests.access.conftest import (
    BASE_URL,
    LOCAL,
    PASSWORD,
    Member,
    link_secret,
    next_code,
    onboard,
)
from tests.store.conftest import Site
from tests.store.helpers import raw_connection

KEY = DataKey("kid1", os.urandom(32))
VIEWER = Grant(Role.VIEWER, None)
ANNA = "anna@example.nl"
BERT = "bert@example.nl"


def service_for(store: Store, clock: ManualClock) -> AccessService:
    return AccessService(
        store,
        clock,
        AccessSettings(base_url=BASE_URL),
        Passwords(PasswordHasher.from_parameters(CHEAPEST)),
    )


@pytest.fixture
async def keyed_store(site: Site, clock: ManualClock) -> AsyncIterator[Store]:
    opened = await site.open(clock.now, sealer=Sealer([KEY]))
    yield opened
    await opened.close()


@pytest.fixture
def keyed(keyed_store: Store, clock: ManualClock) -> AccessService:
    return service_for(keyed_store, clock)


async def stored_secret(site: Site, email: str) -> str:
    async with raw_connection(site) as conn:
        value = await conn.scalar(select(people.c.totp_secret).where(people.c.email == email))
    assert isinstance(value, str)
    return value


async def person_id(store: Store, email: str) -> str:
    found = await store.get_person(email=email)
    assert found is not None
    return found.id


async def failures(store: Store, email: str) -> list[str | None]:
    entries = await store.list_audit(target=f"person:{email}", limit=100)
    return [e.reason for e in entries if e.action == "login.failure"]


async def test_enrolment_and_login_work_with_the_secret_sealed(
    keyed: AccessService, site: Site, clock: ManualClock
) -> None:
    invitation = await keyed.invite(LOCAL, ANNA, [VIEWER])
    assert invitation.link is not None
    start = await keyed.begin_accept(link_secret(invitation.link))
    stored = await stored_secret(site, ANNA)
    assert start.totp_secret not in stored and stored.startswith(f"{TEXT_MAGIC}1$kid1$")
    code = totp.code_at(start.totp_secret, clock.now())
    done = await keyed.finish_accept(link_secret(invitation.link), PASSWORD, code)
    anna = Member(ANNA, PASSWORD, start.totp_secret, done.recovery_codes)
    result = await keyed.login(ANNA, PASSWORD, next_code(anna, clock))
    assert result.method == "totp"
    assert await stored_secret(site, ANNA) == stored  # logging in changes nothing there


async def test_a_secret_from_before_the_key_works_and_rotation_seals_it(
    site: Site, clock: ManualClock
) -> None:
    plain = await site.open(clock.now)
    try:
        anna = await onboard(service_for(plain, clock), clock, ANNA, VIEWER)
    finally:
        await plain.close()
    assert await stored_secret(site, ANNA) == anna.totp_secret

    store = await site.open(clock.now, sealer=Sealer([KEY]))
    try:
        service = service_for(store, clock)
        assert (await service.login(ANNA, PASSWORD, next_code(anna, clock))).method == "totp"
        assert (await store.count_to_reseal())["people.totp_secret"] == 1
        report = await store.rotate_data_keys(actor="local:tester")
        assert report.counts["people.totp_secret"] == 1
        stored = await stored_secret(site, ANNA)
        assert anna.totp_secret not in stored and stored.startswith(f"{TEXT_MAGIC}1$kid1$")
        assert (await service.login(ANNA, PASSWORD, next_code(anna, clock))).method == "totp"
    finally:
        await store.close()


async def test_a_secret_moved_to_another_person_lets_nobody_in_with_a_code(
    keyed: AccessService, keyed_store: Store, site: Site, clock: ManualClock
) -> None:
    anna = await onboard(keyed, clock, ANNA, VIEWER)
    bert = await onboard(keyed, clock, BERT, VIEWER)
    anna_stored = await stored_secret(site, ANNA)
    async with raw_connection(site) as conn:
        await conn.execute(
            update(people).where(people.c.email == BERT).values(totp_secret=anna_stored)
        )
        await conn.commit()
    # Neither Anna's code (whose secret it is) nor Bert's own opens Bert's account.
    for code_of in (anna, bert):
        with pytest.raises(LoginRefused) as refused:
            await keyed.login(BERT, PASSWORD, next_code(code_of, clock))
    assert "data key" not in str(refused.value)  # the one answer of every failed login
    bert_id = await person_id(keyed_store, BERT)
    reasons = await failures(keyed_store, BERT)
    assert len(reasons) == 2
    for reason in reasons:
        assert reason is not None
        assert reason.startswith(f"second factor does not open: people.totp_secret of {bert_id}")
        assert "'kid1'" in reason
    found = await keyed_store.get_person(email=BERT)
    assert found is not None and found.failed_logins == 2  # counted like any failure
    # Recovery codes are hashes, not sealed: they still let Bert in.
    result = await keyed.login(BERT, PASSWORD, bert.recovery_codes[0])
    assert result.method == "recovery_code"
    # Anna's own row still opens.
    assert (await keyed.login(ANNA, PASSWORD, next_code(anna, clock))).method == "totp"
    async with raw_connection(site) as conn:
        rows = [tuple(r) for r in await conn.execute(text("SELECT * FROM audit_log"))]
    dump = json.dumps(rows, default=str)
    for secret in (anna.totp_secret, bert.totp_secret, anna_stored):
        assert secret not in dump


async def test_a_secret_under_a_key_not_configured_is_refused_naming_the_key(
    keyed: AccessService, keyed_store: Store, site: Site, clock: ManualClock
) -> None:
    anna = await onboard(keyed, clock, ANNA, VIEWER)
    anna_id = await person_id(keyed_store, ANNA)
    alien = Sealer([DataKey("kid9", os.urandom(32))])
    stored = alien.seal_text(anna.totp_secret, b"people.totp_secret\x00" + anna_id.encode())
    async with raw_connection(site) as conn:
        await conn.execute(update(people).where(people.c.id == anna_id).values(totp_secret=stored))
        await conn.commit()
    with pytest.raises(LoginRefused):
        await keyed.login(ANNA, PASSWORD, next_code(anna, clock))
    [reason] = await failures(keyed_store, ANNA)
    assert reason is not None and "'kid9', which INTEGRATOR_DATA_KEYS does not have" in reason
    assert anna.totp_secret not in reason


async def test_a_wrong_password_is_refused_before_the_secret_is_opened(
    keyed: AccessService, keyed_store: Store, site: Site, clock: ManualClock
) -> None:
    """Whether the secret opens is only looked at after the right password: otherwise a
    stranger could learn something about the account from the audit trail's reasons."""
    anna = await onboard(keyed, clock, ANNA, VIEWER)
    async with raw_connection(site) as conn:
        await conn.execute(
            update(people).where(people.c.email == ANNA).values(totp_secret=TEXT_MAGIC + "1$x$")
        )
        await conn.commit()
    with pytest.raises(LoginRefused):
        await keyed.login(ANNA, "a wrong password!", next_code(anna, clock))
    assert await failures(keyed_store, ANNA) == ["wrong password"]


async def test_accepting_with_a_pending_secret_that_does_not_open_asks_to_open_the_link_again(
    keyed: AccessService, site: Site, clock: ManualClock
) -> None:
    invitation = await keyed.invite(LOCAL, ANNA, [VIEWER])
    assert invitation.link is not None
    link = link_secret(invitation.link)
    first = await keyed.begin_accept(link)
    bert_invitation = await keyed.invite(LOCAL, BERT, [VIEWER])
    assert bert_invitation.link is not None
    await keyed.begin_accept(link_secret(bert_invitation.link))
    bert_stored = await stored_secret(site, BERT)
    async with raw_connection(site) as conn:
        await conn.execute(
            update(people).where(people.c.email == ANNA).values(totp_secret=bert_stored)
        )
        await conn.commit()
    code = totp.code_at(first.totp_secret, clock.now())
    with pytest.raises(BadAccessInput, match="open the link again") as refused:
        await keyed.finish_accept(link, PASSWORD, code)
    assert first.totp_secret not in str(refused.value) and bert_stored not in str(refused.value)
    again = await keyed.begin_accept(link)
    code = totp.code_at(again.totp_secret, clock.now())
    done = await keyed.finish_accept(link, PASSWORD, code)
    assert len(done.recovery_codes) == 10
