"""A resend committed while a destination is being removed, on both stores.

The removal counted the messages waiting for its destination first, and recorded the removal
(and dead-lettered what it had counted) after. A resend committed in between was in neither:
not dead-lettered, not refused (the removal was not recorded yet when the resend looked), and
it waited queued for a destination no file defines, sent by nothing. The removal now counts
and dead-letters what waits in the transaction that records it: a resend committed before that
count is counted (a forced removal dead-letters it, an unforced one is refused), and one that
comes while the removal's transaction is open waits for its commit and is skipped.

A hook holds the removal between its count of what waits and its record, where the resend
commits; a second holds it inside the record's transaction, where the resend is started.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from deadletter.resend import ResendResult
from integrator.access import local_identity
from integrator.access.permissions import Permission
from integrator.clusters import ClusterScope
from integrator.engine import Engine
from integrator.message_service import NotResent, resend_message
from integrator.operators import DestinationBusy
from integrator.store import AuditFilter, MessageFilter
from tests.console.test_resend_race import delivered
from tests.http.support import engine_with_noord, postgresql_engine

SCOPE = ClusterScope(local_identity("local:sam"), Permission.MESSAGES_RESEND)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@asynccontextmanager
async def an_engine(backend: str, tmp_path: Path) -> AsyncIterator[Engine]:
    if backend == "sqlite":
        async with engine_with_noord(tmp_path, f"sqlite:///{tmp_path}/store.db", 2599) as engine:
            yield engine
    else:
        async with postgresql_engine(tmp_path) as engine:
            yield engine


def around_the_record(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    *,
    before: Callable[[], Awaitable[None]] | None = None,
    inside: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run ``before`` when the removal of ``noord`` has counted what waits and is about to
    record itself; ``inside`` within the record's transaction (once its revision is claimed)."""
    real = engine.store.recording_destination_revision

    @asynccontextmanager
    async def recording(destination_id: str, **kwargs: Any) -> AsyncIterator[int]:
        if before is not None:
            await before()
        async with real(destination_id, **kwargs) as number:
            if inside is not None:
                await inside()
            yield number

    def hooked(destination_id: str, **kwargs: Any) -> AbstractAsyncContextManager[int]:
        return recording(destination_id, **kwargs)

    monkeypatch.setattr(engine.store, "recording_destination_revision", hooked)


async def queued_for_noord(engine: Engine) -> list[str]:
    found = await engine.store.list_messages(MessageFilter(destination_id="noord"), limit=99)
    return [m.id for m in found if m.status in ("queued", "sending", "retrying", "held")]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_resend_committed_before_the_record_is_dead_lettered_by_a_forced_removal(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with an_engine(backend, tmp_path) as engine:
        original = await delivered(engine)
        made: list[ResendResult] = []

        async def resend() -> None:
            made.append(await resend_message(engine, SCOPE, original, reason="the GP called"))

        around_the_record(engine, monkeypatch, before=resend)
        change = await engine.admin.remove("noord", actor="local:op", force=True, reason="ended")

        [result] = made
        assert result.resent and result.message is not None
        assert await queued_for_noord(engine) == []  # nothing stranded
        stored = await engine.store.get_message(result.message.id)
        assert stored is not None and stored.status == "dead"
        assert change.dead_lettered == 1
        [entry] = await engine.store.list_audit(AuditFilter(action="destination.remove"))
        details = entry.details if isinstance(entry.details, dict) else json.loads(entry.details)
        assert details["dead_lettered"] == 1
        assert details["revision"] == change.revision


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_resend_committed_before_the_record_refuses_an_unforced_removal(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with an_engine(backend, tmp_path) as engine:
        original = await delivered(engine)

        async def resend() -> None:
            await resend_message(engine, SCOPE, original, reason="the GP called")

        around_the_record(engine, monkeypatch, before=resend)
        with pytest.raises(DestinationBusy) as busy:
            await engine.admin.remove("noord", actor="local:op", reason="ended")

        assert busy.value.waiting == 1
        assert (await engine.admin.view("noord")).id == "noord"  # not removed
        assert len(await queued_for_noord(engine)) == 1  # waits for a destination in service
        assert await engine.store.list_audit(AuditFilter(action="destination.remove")) == []


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_resend_made_while_the_removal_is_recorded_is_skipped(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with an_engine(backend, tmp_path) as engine:
        original = await delivered(engine)
        started: list[asyncio.Task[ResendResult]] = []

        async def resend() -> None:
            started.append(
                asyncio.create_task(resend_message(engine, SCOPE, original, reason="the GP called"))
            )
            for _ in range(20):  # let it run up to where it waits for the removal's commit
                await asyncio.sleep(0)

        around_the_record(engine, monkeypatch, inside=resend)
        change = await engine.admin.remove("noord", actor="local:op", force=True, reason="ended")

        with pytest.raises(NotResent) as refused:
            await started[0]
        assert refused.value.code == "resend.skip.destination_unknown"
        assert change.dead_lettered == 0
        assert await queued_for_noord(engine) == []
