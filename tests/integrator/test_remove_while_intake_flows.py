"""``destinations remove`` while events come in: none is left queued for the removed destination.

The engine's intake routes by its catalog, which lost the destination only when the removal was
applied, after the file was gone and the revision committed. An event taken in after the
removal counted what waits was routed to the removed destination, its message queued with
nothing ever to send it, and the removal answered ``dead_lettered: 0``. Now routing to it stops
first (batches routed before are waited for) and what waits is counted again.

Made deterministic without timing: an event is submitted from the removal's own count of what
waits (right after the count, as if it had come in at that moment), and a batch already routed
is held at its commit (the store's ``accept_events``) until the removal has had every chance to
finish without it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from integrator.engine import Engine
from integrator.intake import IntakeResult
from integrator.operators import DestinationBusy
from integrator.store import MessageRecord
from tests.integrator.support import destination, engine_on_destinations, settings_for

DEST = "noord"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """One destination, paused: what is routed to it stays queued, for the removal to find."""
    config = destination(DEST, 9, providers=["ziekenhuis-noord"], enabled=False)
    async with engine_on_destinations(settings_for(tmp_path), config) as engine:
        yield engine


Submit = Callable[[], Coroutine[Any, Any, IntakeResult]]


def _submitter(engine: Engine, referral_data: dict[str, Any]) -> Submit:
    async def submit() -> IntakeResult:
        event = copy.deepcopy(referral_data)
        event["event_id"] = str(uuid.uuid4())
        return await engine.intake.submit(json.dumps(event), source="cli")

    return submit


def _event_right_after_the_count(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, submit: Submit
) -> list[IntakeResult]:
    """Submit one event right after the removal's first count of what waits."""
    admin = engine.admin
    real = admin._pending_of
    submitted: list[IntakeResult] = []

    async def counted_then_an_event(destination_id: str) -> list[MessageRecord]:
        found = await real(destination_id)
        if not submitted:
            submitted.append(await submit())
        return found

    monkeypatch.setattr(admin, "_pending_of", counted_then_an_event)
    return submitted


async def test_an_event_in_after_the_count_makes_a_removal_without_force_refused(
    engine: Engine, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    submit = _submitter(engine, referral_data)
    submitted = _event_right_after_the_count(engine, monkeypatch, submit)
    with pytest.raises(DestinationBusy) as refused:
        await engine.admin.remove(DEST, actor="anna")
    assert refused.value.waiting == 1
    [result] = submitted
    [routed] = result.messages
    assert routed.destination_id == DEST
    assert (engine.settings.destinations_dir / f"{DEST}.yaml").exists()
    # not removed: routed to as before
    [again] = (await submit()).messages
    assert again.destination_id == DEST


async def test_a_forced_removal_dead_letters_an_event_in_after_the_count(
    engine: Engine, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted = _event_right_after_the_count(engine, monkeypatch, _submitter(engine, referral_data))
    change = await engine.admin.remove(DEST, actor="anna", force=True, reason="gone")
    [result] = submitted
    [routed] = result.messages
    message = await engine.store.get_message(routed.message_id)
    assert message is not None
    assert (message.status, change.dead_lettered) == ("dead", 1)


async def test_a_removal_waits_for_a_batch_routed_before_it_stopped_routing(
    engine: Engine, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = engine.store
    real = store.accept_events
    routed, commit = asyncio.Event(), asyncio.Event()

    async def held_at_its_commit(*args: Any, **kwargs: Any) -> Any:
        routed.set()
        await commit.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(store, "accept_events", held_at_its_commit)
    submitting = asyncio.create_task(_submitter(engine, referral_data)())
    await asyncio.wait_for(routed.wait(), timeout=10)  # routed to noord, not yet stored
    removing = asyncio.create_task(engine.admin.remove(DEST, actor="anna", force=True))
    finished, _ = await asyncio.wait({removing}, timeout=1.0)
    assert not finished  # it waits for the batch routed before it stopped routing
    commit.set()
    [made] = (await submitting).messages
    change = await removing
    message = await engine.store.get_message(made.message_id)
    assert message is not None
    assert (message.status, change.dead_lettered) == ("dead", 1)
    # From now on, routed nowhere: the destination is gone.
    monkeypatch.setattr(store, "accept_events", real)
    assert (await _submitter(engine, referral_data)()).messages == ()
