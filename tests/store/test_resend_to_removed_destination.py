"""A resend to a destination that an operator removes at the same moment.

The resend is planned on the destinations in service (the engine's catalog, which another
engine learns of a removal from only when it reloads), and stored a moment later. Stored after
the removal, it waited queued for a destination no file defines, sent by nothing, and the
person was told it was resent (201, *Resent*). The store now looks, in the resend's own
transaction, at the destination's last recorded change: a removal leaves the resend out, said
as the plan says a destination that is not configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deadletter import ResendRequest, resend, select_for_resend
from integrator.access import local_identity
from integrator.access.permissions import Permission
from integrator.clusters import ClusterScope
from integrator.message_service import NotResent, resend_message
from integrator.refusal import code_of
from integrator.store import AuditFilter, MessageFilter, Store
from tests.console.test_resend_race import delivered
from tests.http.support import engine_with_noord
from tests.store.dead_families import SameDestination
from tests.store.factories import make_event, make_message


async def _record(store: Store, destination_id: str, after: int, action: str) -> None:
    config = None if action == "remove" else {"id": destination_id}
    async with store.recording_destination_revision(
        destination_id, after=after, actor="local:op", action=action, config=config, diff=""
    ):
        pass


async def _delivered_to(store: Store, destination_id: str) -> str:
    message = make_message(destination_id=destination_id)
    assert await store.accept_event(make_event(), [message])
    await store.set_status(message.id, "delivered")
    return message.id


async def test_a_resend_stored_after_its_destination_was_removed_is_left_out(
    store: Store,
) -> None:
    gone = await _delivered_to(store, "noord")
    kept = await _delivered_to(store, "zuid")
    await _record(store, "noord", 0, "add")
    await _record(store, "zuid", 0, "add")
    await _record(store, "noord", 1, "remove")

    # Planned as if both were in service (a catalog not yet reloaded says so).
    selection = await select_for_resend(store, message_ids=[gone, kept])
    results = await resend(store, selection, ResendRequest("GP called", "anna"), SameDestination())
    by_original = {r.original.id: r for r in results}

    assert by_original[kept].resent
    skipped = by_original[gone]
    assert not skipped.resent
    assert code_of(skipped.note) == ("resend.skip.destination_unknown", {"destination": "noord"})
    # Nothing waits for noord, and the one resend made is the one audited.
    assert (
        await store.list_messages(MessageFilter(destination_id="noord", status="queued"), limit=9)
        == []
    )
    entries = await store.list_audit(AuditFilter(action="message.resend"))
    assert [e.target for e in entries] == [kept]


async def test_a_destination_added_again_after_its_removal_is_resent_to(store: Store) -> None:
    original = await _delivered_to(store, "noord")
    for after, action in enumerate(("add", "remove", "add")):
        await _record(store, "noord", after, action)

    selection = await select_for_resend(store, message_ids=[original])
    [result] = await resend(store, selection, ResendRequest("GP called", "anna"), SameDestination())

    assert result.resent


async def test_a_named_resend_racing_the_removal_of_its_destination_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine_with_noord(tmp_path, f"sqlite:///{tmp_path}/store.db", 2599) as engine:
        original = await delivered(engine)
        real = engine.store.add_resends

        async def removed_first(batch: Any, **kwargs: Any) -> Any:
            # The operator's removal commits after the resend was planned, before it is stored.
            await engine.admin.remove("noord", actor="local:op", reason="contract ended")
            return await real(batch, **kwargs)

        monkeypatch.setattr(engine.store, "add_resends", removed_first)
        scope = ClusterScope(local_identity("local:sam"), Permission.MESSAGES_RESEND)
        with pytest.raises(NotResent) as refused:
            await resend_message(engine, scope, original, reason="the GP called")

        assert refused.value.code == "resend.skip.destination_unknown"
        waiting = await engine.store.list_messages(MessageFilter(destination_id="noord"), limit=9)
        assert [m.id for m in waiting] == [original]  # no resend left queued for noord
        assert await engine.store.list_audit(AuditFilter(action="message.resend")) == []
