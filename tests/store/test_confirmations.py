"""The console's one-time confirmations on both backends: one claim wins, expired ones go
(when the next one is kept, and with the daily prune)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import Retention
from integrator.store import NewInvitation, Store

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _person(store: Store) -> str:
    """A person's id (the table refers to people), made as the store's own tests make one."""
    person_id = uuid.uuid4().hex[:12]
    await store.add_person(
        person_id,
        email=f"{person_id}@example.nl",
        name=person_id,
        grant_specs=[("resend", None)],
        invitation=NewInvitation(
            id=f"inv-{person_id}",
            token_hash=person_id.ljust(64, "0"),
            created_by="local:piet",
            created_at=NOW,
            expires_at=NOW + timedelta(days=7),
        ),
    )
    return person_id


async def _issue(store: Store, person_id: str, token: str, *, action: str = "a") -> str:
    confirmation_id = uuid.uuid4().hex
    await store.add_confirmation(
        confirmation_id,
        token_hash=token,
        person_id=person_id,
        action=action,
        now=NOW,
        expires_at=NOW + timedelta(hours=1),
    )
    return confirmation_id


async def test_the_same_token_claimed_twice_at_once_is_claimed_once(store: Store) -> None:
    person = await _person(store)
    made = await _issue(store, person, "h1")
    claims = await asyncio.gather(
        *(
            store.claim_confirmation("h1", person_id=person, action="a", actor="p", now=NOW)
            for _ in range(5)
        )
    )
    assert sorted(won for won, _ in claims) == [False, False, False, False, True]
    assert all(row is not None and row.id == made and row.used for _, row in claims)

    await store.finish_confirmation(made, [{"outcome": "resent"}], now=NOW)
    won, row = await store.claim_confirmation(
        "h1", person_id=person, action="a", actor="p", now=NOW
    )
    assert not won and row is not None and row.finished
    assert (row.result, row.actor, row.used_at) == ([{"outcome": "resent"}], "p", NOW)
    assert await store.get_confirmation(made, person_id=person, now=NOW) == row


async def test_only_its_person_and_action_claim_it_until_it_expires(store: Store) -> None:
    person = await _person(store)
    other = await _person(store)
    made = await _issue(store, person, "h2", action="deadletters.resend")
    for who, action, at in (
        (other, "deadletters.resend", NOW),
        (person, "messages.resend", NOW),
        (person, "deadletters.resend", NOW + timedelta(hours=1)),
    ):
        assert await store.claim_confirmation(
            "h2", person_id=who, action=action, actor="x", now=at
        ) == (False, None)
    assert await store.get_confirmation(made, person_id=other, now=NOW) is None

    # Refused before it did anything: released, the same form may be posted again.
    won, _ = await store.claim_confirmation(
        "h2", person_id=person, action="deadletters.resend", actor="x", now=NOW
    )
    assert won
    await store.release_confirmation(made)
    won, _ = await store.claim_confirmation(
        "h2", person_id=person, action="deadletters.resend", actor="x", now=NOW
    )
    assert won

    # A new confirmation clears the expired ones.
    later = NOW + timedelta(hours=2)
    await store.add_confirmation(
        "new", token_hash="h3", person_id=person, action="a", now=later, expires_at=later
    )
    assert await store.get_confirmation(made, person_id=person, now=NOW) is None


async def test_the_prune_deletes_expired_confirmations_and_keeps_live_ones(store: Store) -> None:
    """A console nobody posts a form to any more keeps no rows for ever: the prune deletes
    the expired ones, posted or not, and leaves a live one (and its result) alone, whatever
    the retention periods (0: keep for ever) say of the other kinds."""
    person = await _person(store)
    unused = await _issue(store, person, "h-unused")  # expires NOW + 1h, as every _issue
    used = await _issue(store, person, "h-used")
    won, _ = await store.claim_confirmation(
        "h-used", person_id=person, action="a", actor="p", now=NOW
    )
    assert won
    await store.finish_confirmation(used, {"rows": []}, now=NOW)
    later = NOW + timedelta(minutes=30)
    live = uuid.uuid4().hex
    await store.add_confirmation(  # made later: still valid when the others have expired
        live,
        token_hash="h-live",
        person_id=person,
        action="a",
        now=later,
        expires_at=later + timedelta(hours=12),
    )
    keep_all = Retention(
        payload_days=0, dead_letter_days=0, rejected_days=0, unrouted_days=0, audit_days=0
    )
    at = NOW + timedelta(hours=2)

    dry = await prune(store, keep_all, now=at, actor="local:tester", dry_run=True)
    assert dry.counts["confirmations"] == 2 and dry.total == 2
    assert await store.count_expired_confirmations(now=at) == 2  # the dry run deleted nothing

    report = await prune(store, keep_all, now=at, actor="local:tester")
    assert report.counts == {**dict.fromkeys(report.counts, 0), "confirmations": 2}
    assert await store.count_expired_confirmations(now=at) == 0
    # Gone, not only past their time: not even an earlier clock reads them back.
    for gone in (unused, used):
        assert await store.get_confirmation(gone, person_id=person, now=NOW) is None
    kept = await store.get_confirmation(live, person_id=person, now=at)
    assert kept is not None and not kept.used
    assert (await prune(store, keep_all, now=at, actor="local:tester")).counts["confirmations"] == 0
