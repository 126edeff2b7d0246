"""Every change and resend is audited: who, when, what, why."""

from __future__ import annotations

from datetime import timedelta

from integrator.store import AuditFilter, AuditRecord, Store, bsn_hash
from tests.store.factories import StepClock, make_event, make_message


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


async def test_audit_filters_by_actor_action_period_and_pages(
    store: Store, clock: StepClock
) -> None:
    start = clock.now
    await store.add_audit("anna", "destination.update", "noord")
    first_at = clock.now
    middle = first_at + timedelta(microseconds=1)
    await store.add_audit("bert", "destination.pause", "noord")
    await store.add_audit("anna", "destination.pause", "zuid")

    def targets(entries: list[AuditRecord]) -> list[tuple[str, str]]:
        return [(e.actor, e.target) for e in entries]

    assert targets(await store.list_audit(AuditFilter(actor="anna"))) == [
        ("anna", "zuid"),
        ("anna", "noord"),
    ]
    assert targets(await store.list_audit(AuditFilter(action="destination.pause"))) == [
        ("anna", "zuid"),
        ("bert", "noord"),
    ]
    assert targets(await store.list_audit(AuditFilter(since=middle))) == [
        ("anna", "zuid"),
        ("bert", "noord"),
    ]
    assert targets(await store.list_audit(AuditFilter(since=start, until=middle))) == [
        ("anna", "noord")
    ]
    assert len(await store.list_audit(AuditFilter(since=first_at))) == 3  # inclusive
    assert await store.list_audit(AuditFilter(until=first_at)) == []  # exclusive
    assert targets(await store.list_audit(limit=1, offset=1)) == [("bert", "noord")]
    assert await store.list_audit(AuditFilter(actor="anna", target="noord", action="x")) == []


async def test_audit_filters_by_message_destination_and_patient(store: Store) -> None:
    event = make_event(bsn_hash=bsn_hash("999999990", b"k"))
    other = make_event(bsn_hash=bsn_hash("111222333", b"k"))
    message, other_message = make_message(), make_message(destination_id="zuid")
    assert await store.accept_event(event, [message])
    assert await store.accept_event(other, [other_message])
    await store.add_audit("anna", "message.resend", message.id, details={"resend_id": "r-1"})
    await store.add_audit("anna", "destination.update", "zuid")
    await store.add_audit("bert", "event.route", event.id, details={"destination": "zuid"})
    await store.add_audit(
        "carla", "patient_data.view", "search", details={"bsn_hash": event.bsn_hash}
    )
    await store.add_audit("carla", "patient_data.view", "x", details={"bsn_hash": other.bsn_hash})
    await store.add_audit("dirk", "odd_%_name", "y", details={"destination": "z%d"})
    # A try-now names the retries it moved in a list, not under a key of their own.
    await store.add_audit(
        "erik", "destination.try_now", "noord", details={"messages": ["m-0", message.id]}
    )
    await store.add_audit("erik", "destination.try_now", "zuid", details={"messages": ["m-9"]})

    def actions(entries: list[AuditRecord]) -> list[str]:
        return [f"{e.actor}:{e.target}" for e in entries]

    assert actions(await store.list_audit(AuditFilter(message="r-1"))) == [f"anna:{message.id}"]
    assert actions(await store.list_audit(AuditFilter(message=message.id))) == [
        "erik:noord",
        f"anna:{message.id}",
    ]
    assert actions(await store.list_audit(AuditFilter(message="m-9"))) == ["erik:zuid"]
    assert await store.list_audit(AuditFilter(message="m")) == []  # whole ids only
    assert actions(await store.list_audit(AuditFilter(destination="zuid"))) == [
        "erik:zuid",
        f"bert:{event.id}",
        "anna:zuid",
    ]
    assert await store.list_audit(AuditFilter(destination="z_d")) == []
    assert actions(await store.list_audit(AuditFilter(bsn_hash=event.bsn_hash))) == [
        "carla:search",
        f"bert:{event.id}",
        f"anna:{message.id}",
    ]
