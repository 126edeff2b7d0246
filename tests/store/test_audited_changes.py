"""A change to messages and the audit entry saying why are written together, or not at all
(dead-letter discard, destinations remove --force)."""

from __future__ import annotations

import pytest

from integrator.store import AuditedStatus, Store, UnknownMessage
from integrator.store.errors import StoreError
from tests.store.conftest import postgres_site
from tests.store.factories import make_event, make_message


async def _two_queued(store: Store) -> list[str]:
    first, second = make_message(), make_message()
    await store.accept_event(make_event(), [first, second])
    return [first.id, second.id]


async def test_the_messages_and_their_audit_entry_are_written_together(store: Store) -> None:
    ids = await _two_queued(store)
    audit_id = await store.set_status_audited(
        ids,
        "dead",
        last_error="destination removed by local:piet",
        actor="local:piet",
        action="destination.remove",
        target="noord",
        reason="closed",
        details={"dead_lettered": 2},
    )
    for message_id in ids:
        message = await store.get_message(message_id)
        assert message is not None
        assert (message.status, message.last_error) == (
            "dead",
            "destination removed by local:piet",
        )
    [entry] = await store.list_audit()
    assert (entry.id, entry.action, entry.reason) == (audit_id, "destination.remove", "closed")


async def test_a_change_that_fails_leaves_no_audit_entry_and_changes_nothing(
    store: Store,
) -> None:
    [known, _] = await _two_queued(store)
    with pytest.raises(UnknownMessage):
        await store.set_status_audited(
            [known, "no-such-message"],
            "cancelled",
            last_error=None,
            actor="local:piet",
            action="deadletter.discard",
            target=known,
        )
    message = await store.get_message(known)
    assert message is not None and message.status == "queued"
    assert await store.list_audit() == []


async def test_several_messages_each_with_its_own_entry_are_written_together_or_not_at_all(
    store: Store,
) -> None:
    """A discard of a resend chain: every message closed, each with an entry about it."""
    first, second = await _two_queued(store)
    with pytest.raises(UnknownMessage):
        await store.set_statuses_audited(
            [AuditedStatus(first, "AR", {}), AuditedStatus("no-such-message", None, {})],
            "cancelled",
            actor="local:piet",
            action="deadletter.discard",
        )
    message = await store.get_message(first)
    assert message is not None and message.status == "queued"
    assert await store.list_audit() == []

    ids = await store.set_statuses_audited(
        [
            AuditedStatus(first, "ACK AR", {"with_chain": [second]}),
            AuditedStatus(second, "no ACK", {"discarded_with": first}),
        ],
        "cancelled",
        actor="local:piet",
        action="deadletter.discard",
        reason="faxed",
    )
    entries = {e.target: e for e in await store.list_audit()}
    assert sorted(e.id for e in entries.values()) == sorted(ids) and len(ids) == 2
    assert entries[first].details == {"with_chain": [second]}
    assert entries[second].details == {"discarded_with": first}
    for message_id, last_error in ((first, "ACK AR"), (second, "no ACK")):
        message = await store.get_message(message_id)
        assert message is not None
        assert (message.status, message.last_error) == ("cancelled", last_error)


async def test_an_audit_entry_that_cannot_be_written_undoes_the_change() -> None:
    # PostgreSQL refuses an actor longer than its column (SQLite does not check lengths).
    async with postgres_site() as site:
        store = await site.open()
        try:
            [known, _] = await _two_queued(store)
            with pytest.raises(StoreError, match="StringDataRightTruncation"):
                await store.set_status_audited(
                    [known],
                    "cancelled",
                    last_error=None,
                    actor="x" * 500,
                    action="deadletter.discard",
                    target=known,
                )
            message = await store.get_message(known)
            assert message is not None and message.status == "queued"
            assert await store.list_audit() == []
        finally:
            await store.close()
