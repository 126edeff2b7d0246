"""Who a token made in the console or through the API may read patient data for, and what a
token made by a token depends on (docs/access.md, "Who may make one", "Not with a token").

Found by an audit: an admin (``admin@*``, no patient data) made a machine token with ``resend``
and read patients with it; a token with ``tokens.manage`` made tokens that went on working
after it was revoked; and deactivating the admin left no trace of the tokens they had made.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from integrator.access import (
    AccessDenied,
    AccessService,
    BadAccessInput,
    Grant,
    Identity,
    Permission,
    Role,
)
from integrator.access.permissions import PATIENT_DATA_ROLES
from integrator.clock import ManualClock
from integrator.store import Store
from integrator.store.tables import api_tokens
from tests.access.conftest import LOCAL, login_as, onboard
from tests.store.conftest import Site
from tests.store.helpers import raw_connection

ADMIN = Grant(Role.ADMIN)
RESEND = Grant(Role.RESEND)
RESEND_CARD = Grant(Role.RESEND, "CARD")
INTAKE = Grant(Role.INTAKE)


async def _admin_session(service: AccessService, clock: ManualClock, *grants: Grant) -> Identity:
    member = await onboard(service, clock, "ada@example.nl", *grants)
    return await login_as(service, clock, member)


async def _token(service: AccessService, by: Identity, name: str, *grants: Grant) -> Identity:
    made = await service.create_token(by, name, list(grants))
    identity = await service.authenticate_token(made.token)
    assert identity is not None
    return identity


def test_the_roles_that_read_patient_data_come_from_the_matrix() -> None:
    assert {Role.RESEND} == PATIENT_DATA_ROLES


async def test_an_admin_cannot_give_a_token_a_role_that_reads_patient_data(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    ada = await _admin_session(service, clock, ADMIN)
    for grants in ([RESEND], [INTAKE, RESEND_CARD]):
        with pytest.raises(AccessDenied) as refused:
            await service.create_token(ada, "upstream", grants)
        assert refused.value.code == "access.token_patient_data"
        said = str(refused.value)
        assert "resend reads patient data" in said and "only where its maker holds it" in said
        assert "integrator tokens create" in said
    assert await store.list_tokens() == []
    assert [e for e in await store.list_audit() if e.action == "token.create"] == []


async def test_an_admin_gives_other_roles_and_resend_where_they_hold_it(
    service: AccessService, clock: ManualClock
) -> None:
    ada = await _admin_session(service, clock, ADMIN, RESEND_CARD)
    intake = await service.create_token(ada, "upstream", [INTAKE, Grant(Role.METRICS)])
    assert intake.owner_id is None  # a machine's token
    support = await _token(service, ada, "card-support", RESEND_CARD)
    assert support.may(Permission.PATIENT_DATA_READ, "CARD")
    for wider in (RESEND, Grant(Role.RESEND, "LAB")):
        with pytest.raises(AccessDenied, match="not hold resend for"):
            await service.create_token(ada, "wider", [wider])


async def test_the_servers_cli_may_make_any_token(service: AccessService) -> None:
    made = await _token(service, LOCAL, "anna-support", RESEND)
    assert made.may(Permission.PATIENT_DATA_READ)


async def test_a_token_gives_patient_data_only_where_it_holds_it_itself(
    service: AccessService,
) -> None:
    bot = await _token(service, LOCAL, "admin-bot", ADMIN)
    with pytest.raises(AccessDenied, match="resend reads patient data"):
        await service.create_token(bot, "child", [RESEND])
    support_bot = await _token(service, LOCAL, "support-bot", ADMIN, RESEND_CARD)
    made = await _token(service, support_bot, "card-child", RESEND_CARD)
    assert made.may(Permission.PATIENT_DATA_READ, "CARD")


async def test_tokens_made_by_a_token_stop_when_it_is_revoked_transitively(
    service: AccessService, store: Store
) -> None:
    """The audit's case: admin-bot made api-made (admin@*), which made child2."""
    bot = await _token(service, LOCAL, "admin-bot", ADMIN)
    made = await service.create_token(bot, "api-made", [ADMIN])
    api_made = await service.authenticate_token(made.token)
    assert api_made is not None and made.maker_token_id == bot.id
    child2 = await service.create_token(api_made, "child2", [INTAKE])
    assert child2.maker_token_id == made.id
    assert await service.authenticate_token(child2.token) is not None

    revoked = await service.revoke_token(LOCAL, bot.id, reason="leaked")

    assert sorted(t.name for t in revoked.dependents) == ["api-made", "child2"]
    assert revoked.to_json()["dependent_tokens"] == 2
    assert await service.authenticate_token(made.token) is None
    assert await service.authenticate_token(child2.token) is None
    statuses = {t.name: t.status for t in await service.list_tokens(LOCAL)}
    assert statuses == {"admin-bot": "revoked", "api-made": "stopped", "child2": "stopped"}
    [entry] = [e for e in await store.list_audit() if e.action == "token.revoke"]
    assert entry.details["dependent_tokens"] == 2
    assert sorted(entry.details["dependents"]) == ["api-made", "child2"]


async def test_revoking_the_middle_token_stops_only_what_it_made(service: AccessService) -> None:
    bot = await _token(service, LOCAL, "admin-bot", ADMIN)
    middle = await service.create_token(bot, "api-made", [ADMIN])
    middle_id = await service.authenticate_token(middle.token)
    assert middle_id is not None
    child = await service.create_token(middle_id, "child2", [INTAKE])

    revoked = await service.revoke_token(LOCAL, middle.id)

    assert [t.name for t in revoked.dependents] == ["child2"]
    assert await service.authenticate_token(child.token) is None
    assert await service.authenticate_token(
        (await service.create_token(bot, "sibling", [INTAKE])).token
    )


async def test_a_token_made_by_a_token_expires_no_later_than_its_maker(
    service: AccessService, clock: ManualClock
) -> None:
    maker = await service.create_token(LOCAL, "admin-bot", [ADMIN], expires_in=timedelta(days=10))
    bot = await service.authenticate_token(maker.token)
    assert bot is not None
    with pytest.raises(BadAccessInput) as refused:
        await service.create_token(bot, "too-long", [INTAKE], expires_in=timedelta(days=11))
    assert refused.value.field == "expires"
    assert refused.value.code == "access.token_outlives_maker"
    assert maker.expires_at.isoformat(timespec="seconds") in refused.value.rule

    defaulted = await service.create_token(bot, "defaulted", [INTAKE])
    assert defaulted.expires_at == maker.expires_at  # 90 days by default, cut to the maker's
    shorter = await service.create_token(bot, "shorter", [INTAKE], expires_in=timedelta(days=3))
    assert shorter.expires_at == clock.now() + timedelta(days=3)

    clock.advance(timedelta(days=10))
    assert await service.authenticate_token(defaulted.token) is None


async def test_a_token_made_by_a_token_stops_when_its_maker_expires(
    service: AccessService, site: Site, clock: ManualClock
) -> None:
    """Expiry is checked along the maker chain at every use, not only by the child's own date
    (which the rule above keeps no later than the maker's): here the maker's expiry was
    brought forward in the store."""
    maker = await service.create_token(LOCAL, "admin-bot", [ADMIN], expires_in=timedelta(days=2))
    bot = await service.authenticate_token(maker.token)
    assert bot is not None
    child = await service.create_token(bot, "child", [INTAKE], expires_in=timedelta(days=1))
    async with raw_connection(site) as conn:
        await conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == maker.id)
            .values(expires_at=clock.now() + timedelta(hours=1))
        )
        await conn.commit()
    assert await service.authenticate_token(child.token) is not None
    clock.advance(timedelta(hours=1))
    assert await service.authenticate_token(child.token) is None
    statuses = {t.name: t.status for t in await service.list_tokens(LOCAL)}
    assert statuses == {"admin-bot": "expired", "child": "stopped"}


async def test_deactivating_an_admin_lists_the_machine_tokens_they_made_which_go_on(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    ada = await _admin_session(service, clock, ADMIN)
    upstream = await service.create_token(ada, "upstream", [INTAKE], expires_in=timedelta(days=30))
    own = await service.create_token(LOCAL, "elsewhere", [INTAKE])

    before = await service.machine_tokens_made_by(LOCAL, "ada@example.nl")
    done = await service.deactivate_person(LOCAL, "ada@example.nl", reason="left")

    assert [t.name for t in before] == [t.name for t in done.machine_tokens] == ["upstream"]
    [kept] = done.to_json()["machine_tokens"]
    assert kept == {
        "id": upstream.id,
        "name": "upstream",
        "grants": ["intake@*"],
        "suspended": [],
        "expires_at": upstream.expires_at.isoformat(),
    }
    assert await service.authenticate_token(upstream.token) is not None
    assert await service.authenticate_token(own.token) is not None
    [entry] = [e for e in await store.list_audit() if e.action == "person.deactivate"]
    assert entry.details["machine_tokens_kept"] == 1


async def test_an_admin_cannot_give_themselves_roles_with_a_token_they_made(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    """The admin role would otherwise be ``resend`` in two clicks: a machine's admin token,
    then the admin's own grants changed with it."""
    ada = await _admin_session(service, clock, ADMIN)
    bot = await _token(service, ada, "ada-bot", ADMIN)
    child = await _token(service, bot, "ada-bot-child", ADMIN)
    for token in (bot, child):
        with pytest.raises(AccessDenied) as refused:
            await service.set_grants(token, "ada@example.nl", [ADMIN, RESEND], reason="mine")
        assert refused.value.code == "access.own_account"
    person = await store.get_person(email="ada@example.nl")
    assert person is not None and {g.role for g in person.grants if g.active} == {"admin"}
    # Another person's grants, the token changes as before.
    await onboard(service, clock, "bo@example.nl", Grant(Role.VIEWER))
    await service.set_grants(bot, "bo@example.nl", [INTAKE], reason="moves to intake")


async def test_deactivating_a_person_names_their_own_tokens_that_stop(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    """A review of ``token:sam-own`` found its making and nothing of when it stopped: the
    deactivation that stopped it names it (the admin walkthrough)."""
    member = await onboard(service, clock, "sam@example.nl", RESEND)
    sam = await login_as(service, clock, member)
    own = await service.create_token(sam, "sam-own", [RESEND])
    assert own.owner_id is not None  # a person's own token
    await service.deactivate_person(LOCAL, "sam@example.nl", reason="left")
    assert await service.authenticate_token(own.token) is None
    [entry] = [e for e in await store.list_audit() if e.action == "person.deactivate"]
    assert entry.details["own_tokens_stopped"] == ["token:sam-own"]
