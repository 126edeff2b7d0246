"""Try now: a message waiting out its retry backoff is attempted at once when support asks.

The receiver answered AE (try again) and its destination waits ten minutes before the next try;
the hospital says it is fixed. Before, nothing could bring that attempt forward: a message in
delivery is not resent (it would arrive twice). A real engine on the embedded transport with a
loopback receiver, fifo and rotate; the store's poll is set out of reach, so only the engine's
own nudge can start the attempt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator.access import Grant, Identity, IdentityKind, Permission, Role
from integrator.access.permissions import local_identity
from integrator.clusters import ClusterScope, NotPermitted
from integrator.engine import Engine
from integrator.message_service import MessageNotFound
from integrator.store import AuditFilter, MessageFilter
from integrator.try_now import (
    NotDelivering,
    NotWaiting,
    UnknownDestination,
    Where,
    try_destination_now,
    try_message_now,
)
from tests.integrator.support import destination, engine_on_destinations, settings_for
from tests.integrator.test_operators import events, eventually

SUPPORT = ClusterScope(local_identity("local:sam"), Permission.MESSAGES_RESEND)
TEN_MINUTES = {
    "initial": "10m",
    "multiplier": 2,
    "max_delay": "10m",
    "max_attempts": 5,
    "max_age": "1h",
}


def person(*grants: Grant) -> ClusterScope:
    who = Identity(
        kind=IdentityKind.PERSON,
        id="p-1",
        display="person:pim@example.org",
        grants=frozenset(grants),
        two_factor=True,
    )
    return ClusterScope(who, Permission.MESSAGES_RESEND)


@pytest.fixture
async def receiver() -> AsyncIterator[MllpReceiver]:
    async with MllpReceiver(ack_code="AE") as started:
        yield started


@pytest.fixture(autouse=True)
def nudge_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's poll out of reach: only the engine's own nudge can start an attempt."""


@asynccontextmanager
async def engine_running(
    tmp_path: Path, receiver: MllpReceiver, ordering: str
) -> AsyncIterator[Engine]:
    """An engine whose ``noord`` waits ten minutes between tries (``ordering`` as given)."""
    noord = destination(
        "noord", receiver.port, providers=["ziekenhuis-noord"], retry=TEN_MINUTES, ordering=ordering
    )
    # Another cluster's, so that a grant there can be made (nobody sends for its provider).
    zuid = destination("zuid", receiver.port, providers=["lab-zuid"], cluster="LAB")
    async with engine_on_destinations(settings_for(tmp_path), noord, zuid) as engine:
        yield engine


async def waiting(engine: Engine, count: int) -> list[str]:
    """The ids of ``count`` messages, once each waits out its backoff in the runner."""

    async def all_waiting() -> bool:
        await engine.drain()
        return engine.retries_waiting("noord") == count

    await eventually(all_waiting)
    retrying = await engine.store.list_messages(MessageFilter(status="retrying"))
    assert len(retrying) == count
    return sorted(m.id for m in retrying)


@pytest.mark.parametrize("ordering", ["fifo", "rotate"])
async def test_a_waiting_retry_tried_now_is_delivered_with_the_same_msh10(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    ordering: str,
) -> None:
    async with engine_running(tmp_path, receiver, ordering) as engine:
        await engine.intake.submit_many(events(referral_data, 1), source="cli")
        [message_id] = await waiting(engine, 1)
        receiver.ack_code = "AA"  # the hospital fixed it

        tried = await try_message_now(
            Where.engine(engine), SUPPORT, message_id, reason="GP phoned", source="t"
        )
        assert tried.to_json() == {
            "destination": "noord",
            "messages": [message_id],
            "due_already": [],
        }
        assert await engine.wait_settled(timeout=20)
        message = await engine.store.get_message(message_id)
        assert message is not None and message.status == "delivered"
        assert message.attempt_count == 2  # the next attempt, made sooner
        first, second = receiver.received
        assert first == second  # the same bytes, so the same MSH-10

        [entry] = await engine.store.list_audit(AuditFilter(action="message.try_now"))
        assert (entry.actor, entry.target, entry.reason) == ("local:sam", message_id, "GP phoned")
        assert entry.details["messages"] == [message_id]
        assert entry.details["destination"] == "noord"


async def test_every_waiting_retry_of_a_destination_is_tried_now(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with engine_running(tmp_path, receiver, "rotate") as engine:
        await engine.intake.submit_many(events(referral_data, 3), source="cli")
        ids = await waiting(engine, 3)
        receiver.ack_code = "AA"
        tried = await try_destination_now(Where.engine(engine), SUPPORT, "noord")
        assert sorted(tried.message_ids) == ids
        assert await engine.wait_settled(timeout=20)
        counts = await engine.store.count_by_status("noord")
        assert counts["delivered"] == 3
        again = await try_destination_now(Where.engine(engine), SUPPORT, "noord", reason="GP")
        assert again.message_ids == ()  # nothing waits: said, not refused
        # The empty second request is in the trail too, as the caller's: nothing waited.
        empty, made = await engine.store.list_audit(AuditFilter(action="destination.try_now"))
        assert made.target == "noord" and sorted(made.details["messages"]) == ids
        assert "nothing_waiting" not in made.details
        assert (empty.actor, empty.target, empty.reason) == ("local:sam", "noord", "GP")
        assert empty.details["messages"] == []
        assert empty.details["nothing_waiting"] is True
        assert empty.details["destination"] == "noord"


async def test_what_waits_for_no_retry_or_is_out_of_reach_is_refused(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with (
        MllpReceiver() as accepting,
        engine_running(tmp_path, accepting, "fifo") as engine,
    ):
        await engine.intake.submit_many(events(referral_data, 1), source="cli")
        assert await engine.wait_settled(timeout=20)
        [message] = await engine.store.list_messages(MessageFilter())
        with pytest.raises(NotWaiting) as caught:
            await try_message_now(Where.engine(engine), SUPPORT, message.id)
        assert str(caught.value) == (
            "status: the message's status is delivered; only a message waiting for its "
            "next attempt (retrying) can be tried now; resend it instead"
        )
        assert caught.value.code == "try_now.resend_instead"
        with pytest.raises(MessageNotFound):
            await try_message_now(
                Where.engine(engine), SUPPORT, "00000000-0000-4000-8000-000000000000"
            )
        with pytest.raises(UnknownDestination):
            await try_destination_now(Where.engine(engine), SUPPORT, "nergens")
        # Another cluster's support: as unknown; a viewer here: may not.
        elsewhere = person(Grant(Role.RESEND, "LAB"))
        with pytest.raises(MessageNotFound):
            await try_message_now(Where.engine(engine), elsewhere, message.id)
        with pytest.raises(UnknownDestination):
            await try_destination_now(Where.engine(engine), elsewhere, "noord")
        viewer = person(Grant(Role.VIEWER, "CARD"))
        with pytest.raises(NotPermitted):
            await try_destination_now(Where.engine(engine), viewer, "noord")
        assert await engine.store.list_audit(AuditFilter(action="destination.try_now")) == []


async def test_a_second_request_finds_the_attempt_due_already_and_is_no_refusal(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two clicks, or the command line with the engine not yet looking: the second finds the
    message due (its attempt under way or about to be). Said as such, not refused."""
    async with engine_running(tmp_path, receiver, "fifo") as engine:
        await engine.intake.submit_many(events(referral_data, 1), source="cli")
        [message_id] = await waiting(engine, 1)
        unheard = Where(engine.store, engine.catalog, engine.clock.now())  # nobody told
        first = await try_message_now(unheard, SUPPORT, message_id)
        second = await try_message_now(Where.engine(engine), SUPPORT, message_id)
        assert (first.message_ids, first.due_already) == ((message_id,), ())
        assert (second.message_ids, second.due_already) == ((), (message_id,))
        # Both clicks are in the trail; the second made nothing due, and says so.
        again, made = await engine.store.list_audit(AuditFilter(action="message.try_now"))
        assert made.details["messages"] == [message_id]
        assert (again.actor, again.target) == ("local:sam", message_id)
        assert again.details["messages"] == []
        assert again.details["nothing_waiting"] is True
        assert again.details["due_already"] == [message_id]


async def test_a_paused_destination_or_a_message_held_behind_a_retry_is_refused_with_why(
    tmp_path: Path,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with engine_running(tmp_path, receiver, "fifo") as engine:
        await engine.intake.submit_many(events(referral_data, 2), source="cli")
        [head] = await waiting(engine, 1)
        [behind] = await engine.store.list_messages(MessageFilter(status="queued"))
        with pytest.raises(NotWaiting) as caught:
            await try_message_now(Where.engine(engine), SUPPORT, behind.id)
        assert caught.value.code == "try_now.behind"
        assert str(caught.value).endswith(f"it waits behind {head}: try that one now")

        await engine.admin.set_enabled("noord", False, actor="local:test", reason="maintenance")
        for attempt in (
            try_message_now(Where.engine(engine), SUPPORT, head),
            try_destination_now(Where.engine(engine), SUPPORT, "noord"),
        ):
            with pytest.raises(NotDelivering) as paused:
                await attempt
            assert str(paused.value) == (
                "destination: noord is paused: its messages are attempted when it is resumed"
            )
        message = await engine.store.get_message(head)
        assert message is not None and message.status == "retrying"
        assert message.next_attempt_at is not None and message.next_attempt_at > engine.clock.now()
        assert await engine.store.list_audit(AuditFilter(action="message.try_now")) == []
