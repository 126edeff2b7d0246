"""API tokens: shown once, stored as a hash, expiring, revocable, never more than their owner."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from integrator.access import (
    AccessDenied,
    AccessService,
    AmbiguousToken,
    BadAccessInput,
    Grant,
    IdentityKind,
    Permission,
    Role,
    TokenView,
    UnknownAccount,
)
from integrator.access import service as access_service
from integrator.clock import ManualClock
from integrator.store import Store, TokenRecord
from tests.access.conftest import LOCAL, login_as, onboard
from tests.store.conftest import Site
from tests.store.helpers import raw_connection

METRICS = Grant(Role.METRICS)
VIEWER_CARD = Grant(Role.VIEWER, "CARD")


async def test_a_token_is_shown_once_and_only_its_hash_is_stored(
    service: AccessService, store: Store, site: Site, clock: ManualClock
) -> None:
    created = await service.create_token(LOCAL, "prometheus", [METRICS])
    assert created.token.startswith("itg_") and created.prefix == created.token[:12]
    assert created.expires_at == clock.now() + timedelta(days=90)
    assert created.owner_id is None

    async with raw_connection(site) as conn:
        [row] = [tuple(r) for r in await conn.execute(text("SELECT * FROM api_tokens"))]
        grant_rows = [tuple(r) for r in await conn.execute(text("SELECT * FROM grants"))]
    secret_part = created.token.removeprefix("itg_")
    for value in (*row, *[v for g in grant_rows for v in g]):
        assert created.token not in str(value) and secret_part not in str(value)
    assert hashlib.sha256(created.token.encode()).hexdigest() in row

    [listed] = await service.list_tokens(LOCAL)
    assert listed.to_json()["prefix"] == created.prefix
    assert created.token not in str(listed.to_json())
    assert (listed.status, listed.created_by, listed.grants) == ("active", "local:piet", (METRICS,))

    [entry] = await store.list_audit(target="token:prometheus")
    assert (entry.actor, entry.action) == ("local:piet", "token.create")
    assert created.token not in str(entry.details) and secret_part not in str(entry.details)


async def test_a_token_authenticates_as_itself_with_its_grants(
    service: AccessService,
) -> None:
    created = await service.create_token(LOCAL, "huisartsplatform", [VIEWER_CARD])
    identity = await service.authenticate_token(created.token)
    assert identity is not None
    assert (identity.kind, identity.display, identity.id) == (
        IdentityKind.TOKEN,
        "token:huisartsplatform",
        created.id,
    )
    assert identity.may(Permission.MESSAGES_READ, "CARD")
    assert not identity.may(Permission.MESSAGES_READ, "ONCO")
    assert not identity.may(Permission.MESSAGES_RESEND, "CARD")
    for wrong in ("", "itg_", created.token[:-1] + "A", created.token + "x", "Bearer x"):
        if wrong != created.token:
            assert await service.authenticate_token(wrong) is None


async def test_last_used_is_written_at_most_once_a_minute(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    created = await service.create_token(LOCAL, "prometheus", [METRICS])
    assert (await _token(store, created.id)).last_used_at is None
    await service.authenticate_token(created.token)
    first_use = clock.now()
    assert (await _token(store, created.id)).last_used_at == first_use
    clock.advance(timedelta(seconds=59))
    await service.authenticate_token(created.token)
    assert (await _token(store, created.id)).last_used_at == first_use
    clock.advance(timedelta(seconds=1))
    await service.authenticate_token(created.token)
    assert (await _token(store, created.id)).last_used_at == clock.now()


async def test_a_token_stops_at_its_expiry(service: AccessService, clock: ManualClock) -> None:
    created = await service.create_token(
        LOCAL, "script", [Grant(Role.VIEWER)], expires_in=timedelta(days=1)
    )
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert await service.authenticate_token(created.token) is not None
    clock.advance(timedelta(seconds=1))
    assert await service.authenticate_token(created.token) is None
    [listed] = await service.list_tokens(LOCAL)
    assert listed.status == "expired"


async def test_a_revoked_token_stops_at_once(service: AccessService, store: Store) -> None:
    created = await service.create_token(LOCAL, "script", [Grant(Role.VIEWER)])
    assert await service.authenticate_token(created.token) is not None
    revoked = await service.revoke_token(LOCAL, created.id[:8], reason="leaked in a ticket")
    assert revoked.token.status == "revoked" and revoked.dependents == ()
    assert await service.authenticate_token(created.token) is None
    with pytest.raises(BadAccessInput, match="revoked already"):
        await service.revoke_token(LOCAL, created.id)
    with pytest.raises(UnknownAccount, match="no token"):
        await service.revoke_token(LOCAL, "ffffffff-no-such")
    entries = await store.list_audit(target="token:script")
    [entry] = [e for e in entries if e.action == "token.revoke"]
    assert (entry.actor, entry.reason) == ("local:piet", "leaked in a ticket")


async def test_a_start_several_ids_have_is_refused_naming_those_the_caller_manages(
    service: AccessService, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal names the candidates (the console and the API say its text), and only the
    tokens the caller may manage: for anybody else the start is their own token's."""
    member = await onboard(service, clock, "anna@example.nl", Grant(Role.VIEWER))
    anna = await login_as(service, clock, member)
    ids = iter(["abcd0000-0000-4000-8000-000000000001", "abcd0000-0000-4000-8000-000000000002"])
    monkeypatch.setattr(access_service, "uuid", SimpleNamespace(uuid4=lambda: next(ids)))
    own = await service.create_token(anna, "anna-script", [Grant(Role.VIEWER)])
    machine = await service.create_token(LOCAL, "machine", [METRICS])

    with pytest.raises(AmbiguousToken) as refused:
        await service.revoke_token(LOCAL, "abcd0000")
    assert sorted(t.name for t in refused.value.candidates) == ["anna-script", "machine"]
    said = str(refused.value)
    assert said.startswith("ID: abcd0000 is the start of 2 token ids, give more of one: ")
    assert f"{machine.id} machine (active, created 2026-12-01T09:0" in said
    assert "by local:piet" in said and f"{own.id} anna-script" in said
    assert own.token not in said and machine.token not in said
    assert all(t.status == "active" for t in await service.list_tokens(LOCAL))

    revoked = await service.revoke_token(anna, "abcd0000")  # the only one she may manage
    assert revoked.token.id == own.id


async def test_an_id_or_its_start_is_matched_regardless_of_case(
    service: AccessService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``revoke ABCD1234`` said "no token" for a token whose id starts ``abcd1234``; message
    ids were always matched regardless of case (and without their dashes), token ids now too."""
    ids = iter(
        [
            "abcd1234-0000-4000-8000-000000000001",
            "abcd1234-0000-4000-8000-000000000002",
            "abce1234-0000-4000-8000-000000000003",
            "abcf1234-0000-4000-8000-000000000004",
        ]
    )
    monkeypatch.setattr(access_service, "uuid", SimpleNamespace(uuid4=lambda: next(ids)))
    made = [await service.create_token(LOCAL, name, [METRICS]) for name in ("a", "b", "c", "d")]

    with pytest.raises(AmbiguousToken) as refused:
        await service.revoke_token(LOCAL, "ABCD1234")
    assert sorted(t.name for t in refused.value.candidates) == ["a", "b"]
    assert str(refused.value).startswith("ID: ABCD1234 is the start of 2 token ids")
    with pytest.raises(UnknownAccount, match=r"^ID: no token with that id \("):
        await service.revoke_token(LOCAL, " ABCE9 ")
    with pytest.raises(BadAccessInput, match="at least its first 4"):
        await service.revoke_token(LOCAL, "AB-C")

    assert (await service.revoke_token(LOCAL, "ABCE1234")).token.id == made[2].id
    whole_without_dashes = made[1].id.replace("-", "").upper()
    assert (await service.revoke_token(LOCAL, whole_without_dashes)).token.id == made[1].id
    assert (await service.revoke_token(LOCAL, made[3].id.upper())).token.id == made[3].id
    statuses = {t.name: t.status for t in await service.list_tokens(LOCAL)}
    assert statuses == {"a": "active", "b": "revoked", "c": "revoked", "d": "revoked"}


async def test_token_input_is_checked(service: AccessService) -> None:
    with pytest.raises(BadAccessInput, match="NAME: "):
        await service.create_token(LOCAL, "has spaces", [METRICS])
    with pytest.raises(BadAccessInput, match="--role: "):
        await service.create_token(LOCAL, "script", [])
    with pytest.raises(BadAccessInput, match=r"--expires: .*730d"):
        await service.create_token(LOCAL, "script", [METRICS], expires_in=timedelta(days=731))
    with pytest.raises(BadAccessInput, match="--expires: "):
        await service.create_token(LOCAL, "script", [METRICS], expires_in=timedelta(0))
    await service.create_token(LOCAL, "script", [METRICS])
    with pytest.raises(BadAccessInput, match="exists already") as taken:
        await service.create_token(LOCAL, "script", [METRICS])
    assert "script" not in str(taken.value)  # no error echoes the name sent


async def test_a_person_may_make_a_token_with_a_subset_of_their_own_grants(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    member = await onboard(
        service, clock, "anna@example.nl", Grant(Role.RESEND, "CARD"), Grant(Role.VIEWER)
    )
    anna = await login_as(service, clock, member)
    own = await service.create_token(
        anna, "anna-script", [Grant(Role.RESEND, "CARD"), Grant(Role.VIEWER, "ONCO")]
    )
    assert own.owner_id == anna.id
    for wider in (Grant(Role.RESEND), Grant(Role.RESEND, "ONCO"), Grant(Role.PREVIEW, "CARD")):
        with pytest.raises(AccessDenied, match=str(wider)):
            await service.create_token(anna, "too-much", [wider])
    # She sees and may revoke her own token, and nobody else's.
    await service.create_token(LOCAL, "machine", [METRICS])
    assert [t.name for t in await service.list_tokens(anna)] == ["anna-script"]
    with pytest.raises(UnknownAccount):
        await service.revoke_token(anna, (await _by_name(service, "machine")).id)

    # The token never does more than its owner may do now.
    await service.deactivate_role(LOCAL, "anna@example.nl", Role.RESEND, "CARD", reason="why")
    identity = await service.authenticate_token(own.token)
    assert identity is not None and identity.grants == {Grant(Role.VIEWER, "ONCO")}
    await service.deactivate_person(LOCAL, "anna@example.nl", reason="why")
    assert await service.authenticate_token(own.token) is None


async def test_an_admins_machine_token_outlives_the_admin(
    service: AccessService, clock: ManualClock
) -> None:
    member = await onboard(service, clock, "root@example.nl", Grant(Role.ADMIN))
    admin = await login_as(service, clock, member)
    machine = await service.create_token(admin, "intake-platform", [VIEWER_CARD])
    assert machine.owner_id is None
    await service.deactivate_person(LOCAL, "root@example.nl", reason="why")
    assert await service.authenticate_token(machine.token) is not None
    [listed] = await service.list_tokens(LOCAL)
    assert listed.created_by == "person:root@example.nl"


async def test_a_cluster_admin_manages_tokens_of_that_cluster_only(
    service: AccessService, clock: ManualClock
) -> None:
    member = await onboard(service, clock, "card-admin@example.nl", Grant(Role.ADMIN, "CARD"))
    card_admin = await login_as(service, clock, member)
    await service.create_token(card_admin, "card-viewer", [VIEWER_CARD])
    with pytest.raises(AccessDenied):
        await service.create_token(card_admin, "onco-viewer", [Grant(Role.VIEWER, "ONCO")])
    with pytest.raises(AccessDenied):
        await service.create_token(card_admin, "scraper", [METRICS])  # metrics: all clusters
    await service.create_token(LOCAL, "scraper", [METRICS])
    assert [t.name for t in await service.list_tokens(card_admin)] == ["card-viewer"]


async def _token(store: Store, token_id: str) -> TokenRecord:
    token = await store.get_token(token_id=token_id)
    assert token is not None
    return token


async def _by_name(service: AccessService, name: str) -> TokenView:
    return next(t for t in await service.list_tokens(LOCAL) if t.name == name)
