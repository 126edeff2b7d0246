"""Two people acting on the same messages at once, on both stores: the second is told what the
first did, and nothing is sent twice or after it was closed.

Each was check-then-act: the check read the store, the act wrote without looking again, and
a second person's act committed in between went unseen. Run here as two coroutines at once
(the engine serves two API requests so), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import integrator.store.store as store_module
from deadletter import (
    AlreadyResolved,
    DiscardPlan,
    ResendRequest,
    discard,
    resend,
    select_dead_letters,
    select_for_resend,
)
from integrator.store import AuditFilter, MessageFilter, Store
from tests.store.conftest import Site
from tests.store.dead_families import SameDestination
from tests.store.factories import make_event, make_message


async def _messages(store: Store, status: str, count: int) -> list[str]:
    ids = []
    for number in range(count):
        message = make_message(destination_id="noord")
        assert await store.accept_event(make_event(zd_number=f"ZD9000000{number:02d}"), [message])
        await store.set_status(message.id, status)
        ids.append(message.id)
    return ids


async def test_two_people_discarding_one_dead_letter_at_once_one_is_told_it_was_done(
    store: Store,
) -> None:
    [letter] = await _messages(store, "dead", 1)
    outcomes = await asyncio.gather(
        discard(store, letter, actor="anna", reason="GP withdrew it"),
        discard(store, letter, actor="piet", reason="sent by fax"),
        return_exceptions=True,
    )
    done = [o for o in outcomes if isinstance(o, DiscardPlan)]
    told = [o for o in outcomes if isinstance(o, AlreadyResolved)]
    assert len(done) == 1 and len(told) == 1, outcomes
    entries = await store.list_audit(AuditFilter(action="deadletter.discard", target=letter))
    assert len(entries) == 1  # one change, one entry: the one the other person is told of
    assert told[0].how == "discarded" and told[0].by == entries[0].actor


async def test_two_people_running_the_same_broad_resend_at_once_send_each_message_once(
    store: Store,
) -> None:
    originals = await _messages(store, "delivered", 3)
    selection = await select_for_resend(store, flt=MessageFilter(destination_id="noord"))
    assert [m.id for m in selection] == originals and not selection.named  # broad: not named

    async def run(actor: str) -> int:
        results = await resend(
            store, selection, ResendRequest("HIS restored", actor), SameDestination()
        )
        return sum(r.goes_out for r in results)

    made = await asyncio.gather(run("anna"), run("piet"))
    assert sorted(made) == [0, 3], made  # the second finds them resent, and says so
    resends = await store.list_audit(AuditFilter(action="message.resend"))
    assert sorted(e.target for e in resends) == sorted(originals)


async def test_a_dead_letter_discarded_after_a_batch_selected_it_is_not_resent(
    store: Store,
) -> None:
    letters = await _messages(store, "dead", 2)
    selection = await select_dead_letters(store, every=True)
    assert [m.id for m in selection] == letters
    await discard(store, letters[-1], actor="piet", reason="GP withdrew the referral")

    results = await resend(
        store, selection, ResendRequest("HIS back up", "anna"), SameDestination()
    )

    outcome = {r.original.id: r for r in results}
    assert outcome[letters[0]].goes_out
    withdrawn = outcome[letters[-1]]
    assert not withdrawn.goes_out and withdrawn.message is None
    assert withdrawn.note is not None and "discarded since it was selected" in withdrawn.note
    resent = await store.list_audit(AuditFilter(action="message.resend"))
    assert [e.target for e in resent] == [letters[0]]


async def test_a_dead_letter_discarded_before_a_broad_resend_is_not_resent_unless_named(
    store: Store,
) -> None:
    """A dead letter support discarded (the GP withdrew the referral) was sent again by the
    next "resend what went to noord": a broad filter selects discarded messages too."""
    open_letter, withdrawn = await _messages(store, "dead", 2)
    await discard(store, withdrawn, actor="piet", reason="GP withdrew the referral")
    went_out = []
    for terms in (MessageFilter(destination_id="noord"), MessageFilter(status="cancelled")):
        selection = await select_for_resend(store, flt=terms)
        results = await resend(
            store, selection, ResendRequest("HIS back up", "anna"), SameDestination()
        )
        outcome = {r.original.id: r for r in results}
        assert not outcome[withdrawn].goes_out and outcome[withdrawn].message is None
        note = outcome[withdrawn].note
        assert note is not None and "discarded by support" in note
        went_out += [r.original.id for r in results if r.goes_out]
    assert went_out == [open_letter]
    named = await select_for_resend(store, message_ids=[withdrawn])
    [again] = await resend(store, named, ResendRequest("GP asked again", "anna"), SameDestination())
    assert again.goes_out  # named: "this one, again"
    resent = await store.list_audit(AuditFilter(action="message.resend"))
    assert sorted(e.target for e in resent) == sorted([open_letter, withdrawn])


@pytest.mark.parametrize("status", ["delivered", "dead"])
async def test_a_named_message_is_resent_whatever_happened_since(store: Store, status: str) -> None:
    """What a person names is resent, as always: the checks at the commit are a broad
    selection's (ids a person typed mean "this one, again")."""
    [message_id] = await _messages(store, status, 1)
    original = await store.get_message(message_id)
    assert original is not None
    first = await resend(store, [original], ResendRequest("lost", "anna"), SameDestination())
    again = await resend(store, [original], ResendRequest("lost", "piet"), SameDestination())
    assert first[0].goes_out and again[0].goes_out


async def test_a_discard_under_way_while_a_batch_commits_its_chunk_is_not_resent(
    store: Store, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The discard, from another process (its own store), has changed the status and not yet
    committed when the batch's chunk is checked: the check waits for it and sees it, on both
    stores (PostgreSQL: both take the audit chain's lock first; SQLite: both write first)."""
    [letter] = await _messages(store, "dead", 1)
    selection = await select_dead_letters(store, every=True)
    other = await site.open()
    real_append = getattr(store_module, "append_audit")  # noqa: B009 (not re-exported)
    changed = asyncio.Event()

    async def slowly(conn: Any, rows: Any, **kwargs: Any) -> Any:
        if rows and rows[0].get("action") == "deadletter.discard":
            changed.set()  # its UPDATE is made, not committed
            await asyncio.sleep(0.5)
        return await real_append(conn, rows, **kwargs)

    monkeypatch.setattr(store_module, "append_audit", slowly)

    async def resend_once_changed() -> list[Any]:
        await changed.wait()
        return await resend(store, selection, ResendRequest("HIS back", "anna"), SameDestination())

    try:
        _, results = await asyncio.gather(
            discard(other, letter, actor="piet", reason="GP withdrew it"), resend_once_changed()
        )
    finally:
        await other.close()
    final = await store.get_message(letter)
    assert final is not None and final.status == "cancelled"
    assert not results[0].goes_out
    assert await store.list_audit(AuditFilter(action="message.resend")) == []
