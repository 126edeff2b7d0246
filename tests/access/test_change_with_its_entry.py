"""An access change and its audit entry are one transaction, on both stores.

Found by a review of people acting at once: each change (grants set, a role taken away, an
account deactivated, a token made or revoked, an invitation opened or accepted, an admin
invited from the server) committed, and then its entry was written in a second transaction.
A crash, a kill or a store error between the two left a change the audit trail did not have,
which docs/access.md promises never happens. Here the append of the entry fails once (a store
error injected where every entry is appended): the change must not be made, and the caller
hears the store's error, naming what could not be done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from integrator.access import AccessService, Grant, Identity, Permission, Role, totp
from integrator.clock import ManualClock
from integrator.store import Store, StoreUnavailable, audit_chain
from integrator.store import store as store_module
from tests.access.conftest import LOCAL, PASSWORD, link_secret, login_as, onboard

ADMIN = Grant(Role.ADMIN)
RESEND = Grant(Role.RESEND)
RESEND_CARD = Grant(Role.RESEND, "CARD")
VIEWER = Grant(Role.VIEWER)
METRICS = Grant(Role.METRICS)


def fail_next_append(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The next audit append raises a store error (as a full disk would); later ones work.
    Returns the actions whose append failed. Both names of the function are replaced: the
    store's own module imported it by name."""
    real = audit_chain.append_audit
    failed: list[str] = []

    async def append_audit(conn: Any, rows: Any, *, schema: str | None = None) -> list[int]:
        if not failed:
            failed.extend(row["action"] for row in rows)
            raise OperationalError("INSERT INTO audit_log", {}, OSError("disk I/O error"))
        return await real(conn, rows, schema=schema)

    monkeypatch.setattr(audit_chain, "append_audit", append_audit)
    monkeypatch.setattr(store_module, "append_audit", append_audit)
    return failed


async def refused_by_the_store(
    change: Callable[[], Awaitable[Any]], failed: list[str], action: str, operation: str
) -> None:
    with pytest.raises(StoreUnavailable) as raised:
        await change()
    assert failed == [action]
    assert str(raised.value).startswith(f"{operation} failed")


async def actions(store: Store) -> list[str]:
    return [entry.action for entry in await store.list_audit()]


async def grants_of(store: Store, email: str) -> list[tuple[str, str | None]]:
    person = await store.get_person(email=email)
    assert person is not None
    return sorted(person.active_grants, key=str)


async def _ada(service: AccessService, clock: ManualClock, *grants: Grant) -> Identity:
    member = await onboard(service, clock, "ada@example.nl", *grants)
    return await login_as(service, clock, member)


async def test_grants_set_whose_entry_fails_are_not_set(
    service: AccessService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.invite(LOCAL, "anna@example.nl", [RESEND])
    entries = await actions(store)
    failed = fail_next_append(monkeypatch)

    await refused_by_the_store(
        lambda: service.set_grants(LOCAL, "anna@example.nl", [VIEWER], reason="moved"),
        failed,
        "person.grants",
        "change a person's grants",
    )

    assert await grants_of(store, "anna@example.nl") == [("resend", None)]
    assert await actions(store) == entries
    # Once the store writes again, the same change is made, with its entry.
    await service.set_grants(LOCAL, "anna@example.nl", [VIEWER], reason="moved")
    assert await grants_of(store, "anna@example.nl") == [("viewer", None)]
    assert (await actions(store))[0] == "person.grants"


async def test_a_role_taken_away_whose_entry_fails_stays(
    service: AccessService, store: Store, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a token she made: its suspension is told in the same transaction.
    ada = await _ada(service, clock, ADMIN, RESEND_CARD)
    bot = await service.create_token(ada, "support-bot", [RESEND_CARD, VIEWER])
    entries = await actions(store)
    failed = fail_next_append(monkeypatch)

    await refused_by_the_store(
        lambda: service.deactivate_role(LOCAL, "ada@example.nl", Role.RESEND, "CARD", reason="x"),
        failed,
        "person.role_deactivate",
        "change a person's grants",
    )

    assert await grants_of(store, "ada@example.nl") == [("admin", None), ("resend", "CARD")]
    assert await actions(store) == entries
    view = await service.deactivate_role(LOCAL, "ada@example.nl", Role.RESEND, "CARD", reason="x")
    [entry] = [e for e in await store.list_audit() if e.action == "person.role_deactivate"]
    assert entry.details["tokens_suspended_ids"] == [bot.id]
    assert [t.token.id for t in view.tokens_suspended or ()] == [bot.id]


async def test_a_deactivation_whose_entry_fails_is_not_made(
    service: AccessService, store: Store, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = await _ada(service, clock, ADMIN, RESEND)
    feed = await service.create_token(ada, "lab-feed", [RESEND, VIEWER])
    board = await service.create_token(ada, "dashboard", [VIEWER])
    entries = await actions(store)
    failed = fail_next_append(monkeypatch)

    await refused_by_the_store(
        lambda: service.deactivate_person(LOCAL, "ada@example.nl", reason="left"),
        failed,
        "person.deactivate",
        "deactivate a person",
    )

    person = await store.get_person(email="ada@example.nl")
    assert person is not None and person.status == "active"
    assert await grants_of(store, "ada@example.nl") == [("admin", None), ("resend", None)]
    still = await service.authenticate_token(feed.token)
    assert still is not None and still.may(Permission.PATIENT_DATA_READ)  # hers still counts
    assert await actions(store) == entries
    done = await service.deactivate_person(LOCAL, "ada@example.nl", reason="left")
    assert sorted(t.id for t in done.machine_tokens) == sorted([feed.id, board.id])
    assert [t.token.id for t in done.tokens_suspended] == [feed.id]
    [entry] = [e for e in await store.list_audit() if e.action == "person.deactivate"]
    assert entry.details["machine_tokens_kept"] == 2
    assert entry.details["tokens_suspended_ids"] == [feed.id]


async def test_a_token_made_whose_entry_fails_does_not_exist(
    service: AccessService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = fail_next_append(monkeypatch)

    await refused_by_the_store(
        lambda: service.create_token(LOCAL, "prometheus", [METRICS]),
        failed,
        "token.create",
        "create a token",
    )

    assert await store.list_tokens() == []
    assert await actions(store) == []
    # The name is free: the same token is made again, with its entry.
    made = await service.create_token(LOCAL, "prometheus", [METRICS])
    assert await service.authenticate_token(made.token) is not None
    assert await actions(store) == ["token.create"]


async def test_a_token_revoked_whose_entry_fails_still_works(
    service: AccessService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await service.create_token(LOCAL, "prometheus", [METRICS])
    entries = await actions(store)
    failed = fail_next_append(monkeypatch)

    await refused_by_the_store(
        lambda: service.revoke_token(LOCAL, made.id, reason="rotated"),
        failed,
        "token.revoke",
        "revoke a token",
    )

    token = await store.get_token(token_id=made.id)
    assert token is not None and token.revoked_at is None
    assert await service.authenticate_token(made.token) is not None
    assert await actions(store) == entries
    revoked = await service.revoke_token(LOCAL, made.id, reason="rotated")
    assert revoked.token.status == "revoked"
    assert (await actions(store))[0] == "token.revoke"


async def test_a_token_revoked_names_the_tokens_that_stop_with_it(
    service: AccessService, store: Store, clock: ManualClock
) -> None:
    """The dependents are read in the revocation's transaction, before it: still working."""
    maker = await service.create_token(LOCAL, "maker", [ADMIN])
    by = await service.authenticate_token(maker.token)
    assert by is not None
    child = await service.create_token(by, "child", [VIEWER])

    revoked = await service.revoke_token(LOCAL, maker.id, reason="rotated")

    assert [t.id for t in revoked.dependents] == [child.id]
    [entry] = [e for e in await store.list_audit() if e.action == "token.revoke"]
    assert entry.details["dependent_tokens"] == 1
    assert entry.details["dependents"] == ["child"]


async def test_an_invitation_opened_or_accepted_whose_entry_fails_is_not(
    service: AccessService, store: Store, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    invited = await service.invite(LOCAL, "anna@example.nl", [RESEND])
    raw = link_secret(invited.link)
    failed = fail_next_append(monkeypatch)

    await refused_by_the_store(
        lambda: service.begin_accept(raw), failed, "invitation.open", "set up a second factor"
    )
    person = await store.get_person(email="anna@example.nl")
    assert person is not None and person.totp_stored is None

    start = await service.begin_accept(raw)
    failed.clear()
    code = totp.code_at(start.totp_secret, clock.now())
    await refused_by_the_store(
        lambda: service.finish_accept(raw, PASSWORD, code),
        failed,
        "person.accept",
        "accept an invitation",
    )
    person = await store.get_person(email="anna@example.nl")
    assert person is not None and (person.status, person.password_hash) == ("invited", None)
    assert "person.accept" not in await actions(store)


async def test_an_admin_invited_from_the_server_whose_entry_fails_is_not(
    service: AccessService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = fail_next_append(monkeypatch)
    await refused_by_the_store(
        lambda: service.create_admin("root@example.nl", by=LOCAL),
        failed,
        "person.create_admin",
        "add a person",
    )
    assert await store.get_person(email="root@example.nl") is None

    # An address invited already: the admin grant and the new link go with the entry.
    first = await service.invite(LOCAL, "anna@example.nl", [RESEND])
    failed.clear()
    await refused_by_the_store(
        lambda: service.create_admin("anna@example.nl", by=LOCAL),
        failed,
        "person.create_admin",
        "change a person's grants",
    )
    assert await grants_of(store, "anna@example.nl") == [("resend", None)]
    assert await service.begin_accept(link_secret(first.link)) is not None  # still her link
    assert "person.create_admin" not in await actions(store)
