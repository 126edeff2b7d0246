"""Every change and resend is audited: who, when, what, why."""

from __future__ import annotations

from integrator.store import Store
from tests.store.factories import StepClock


async def test_audit_entries_round_trip_newest_first(store: Store, clock: StepClock) -> None:
    first = await store.add_audit(
        "anna@support",
        "message.resend",
        "message:1234",
        reason="GP called: referral not received",
        details={"mode": "original", "count": 1, "to": ["noord"]},
    )
    first_at = clock.now
    second = await store.add_audit("ops", "destination.pause", "destination:noord")

    assert second > first
    newest, oldest = await store.list_audit()
    assert newest.id == second
    assert (newest.actor, newest.action, newest.target) == (
        "ops",
        "destination.pause",
        "destination:noord",
    )
    assert newest.reason is None
    assert newest.details == {}
    assert oldest.reason == "GP called: referral not received"
    assert oldest.details == {"mode": "original", "count": 1, "to": ["noord"]}
    assert oldest.at == first_at


async def test_audit_filters_by_target_with_limit(store: Store) -> None:
    for n in range(4):
        await store.add_audit("ops", "destination.update", "destination:noord", details={"n": n})
    await store.add_audit("ops", "destination.update", "destination:zuid")

    noord = await store.list_audit(target="destination:noord", limit=3)

    assert [entry.details["n"] for entry in noord] == [3, 2, 1]
    assert len(await store.list_audit(target="destination:zuid")) == 1
    assert await store.list_audit(target="destination:none") == []
