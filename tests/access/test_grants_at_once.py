"""Two admins change one person's roles at the same moment, on both stores.

Each read the person's grants, checked the form against them (``seen``) and wrote: both read
before either wrote, so the second wrote over the first without a word (a role a colleague
had just taken away given back, recorded as the second admin's), and an admin of another
cluster wrote back the grants of the first's cluster as they were before its change. A
barrier at the store's write makes both changes arrive there together: the second is now
judged in the write's transaction, on what the first made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextlib import suppress
from typing import Any

import pytest

from integrator.access import AccessService, BadAccessInput, Grant, Identity, PersonView, Role
from integrator.access.service import grants_seen
from integrator.clock import ManualClock
from integrator.store import Store
from tests.access.conftest import LOCAL, login_as, onboard

BARRIER_SECONDS = 2.0
"""How long the first change waits at the store's write for the second."""


def both_at_the_write(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    """``set_person_grants`` waits (up to ``BARRIER_SECONDS``) for a second call: both
    changes have passed every check made before the write when either writes."""
    barrier = asyncio.Barrier(2)
    real = store.set_person_grants

    async def set_person_grants(*args: Any, **kwargs: Any) -> Any:
        with suppress(TimeoutError, asyncio.BrokenBarrierError):
            async with asyncio.timeout(BARRIER_SECONDS):
                await barrier.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(store, "set_person_grants", set_person_grants)


async def at_once(
    *changes: Awaitable[PersonView],
) -> tuple[list[PersonView], list[BaseException]]:
    answers = await asyncio.gather(*changes, return_exceptions=True)
    done = [a for a in answers if isinstance(a, PersonView)]
    refused = [a for a in answers if isinstance(a, BaseException)]
    return done, refused


async def _active(store: Store, email: str) -> list[tuple[str, str | None]]:
    person = await store.get_person(email=email)
    assert person is not None
    return sorted(person.active_grants, key=str)


async def test_two_forms_drawn_from_the_same_roles_save_one_and_refuse_the_other(
    service: AccessService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.invite(LOCAL, "anna@example.nl", [Grant(Role.RESEND)])
    seen = grants_seen(LOCAL, [Grant(Role.RESEND)])  # both forms show resend
    both_at_the_write(monkeypatch, store)

    done, refused = await at_once(
        service.set_grants(
            LOCAL, "anna@example.nl", [Grant(Role.VIEWER)], reason="moved to viewing", seen=seen
        ),
        service.set_grants(
            LOCAL,
            "anna@example.nl",
            [Grant(Role.RESEND), Grant(Role.ADMIN)],
            reason="covers for the admin",
            seen=seen,
        ),
    )

    assert len(done) == 1 and len(refused) == 1, (done, refused)
    [error] = refused
    assert isinstance(error, BadAccessInput) and error.code == "access.grants_changed", error
    entries = [
        e
        for e in await store.list_audit(target="person:anna@example.nl")
        if e.action == "person.grants"
    ]
    [entry] = entries  # the change made, once; the refused one changed nothing
    saved = [(g.role.value, g.cluster) for g in done[0].grants]
    assert await _active(store, "anna@example.nl") == sorted(saved, key=str)
    assert entry.reason in ("moved to viewing", "covers for the admin")


async def test_admins_of_two_clusters_changing_one_person_at_once_both_stay(
    service: AccessService, store: Store, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    admins: list[Identity] = []
    for cluster in ("CARD", "ONCO"):
        member = await onboard(
            service, clock, f"{cluster.lower()}@example.nl", Grant(Role.ADMIN, cluster)
        )
        admins.append(await login_as(service, clock, member))
    card, onco = admins
    await service.invite(
        LOCAL, "anna@example.nl", [Grant(Role.VIEWER, "CARD"), Grant(Role.VIEWER, "ONCO")]
    )
    both_at_the_write(monkeypatch, store)

    done, refused = await at_once(
        service.set_grants(card, "anna@example.nl", [Grant(Role.ADMIN, "CARD")], reason="a"),
        service.set_grants(onco, "anna@example.nl", [Grant(Role.ADMIN, "ONCO")], reason="b"),
    )

    assert refused == [] and len(done) == 2
    # Each admin's change stays: neither wrote back the other cluster's grants as it read them.
    assert await _active(store, "anna@example.nl") == [("admin", "CARD"), ("admin", "ONCO")]


async def test_a_change_made_while_the_account_is_deactivated_is_refused(
    service: AccessService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.invite(LOCAL, "anna@example.nl", [Grant(Role.RESEND)])
    real = store.set_person_grants

    async def deactivated_first(*args: Any, **kwargs: Any) -> Any:
        # The colleague's deactivation commits between this change's checks and its write.
        await service.deactivate_person(LOCAL, "anna@example.nl", reason="left the hospital")
        return await real(*args, **kwargs)

    monkeypatch.setattr(store, "set_person_grants", deactivated_first)
    with pytest.raises(BadAccessInput) as refused:
        await service.set_grants(LOCAL, "anna@example.nl", [Grant(Role.VIEWER)], reason="why")

    assert refused.value.code == "access.deactivated"
    # The roles it held when it was deactivated stay its record, unchanged.
    assert await _active(store, "anna@example.nl") == [("resend", None)]
    actions = [e.action for e in await store.list_audit(target="person:anna@example.nl")]
    assert "person.grants" not in actions
