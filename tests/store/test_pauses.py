"""The moments a message's max_age counts from, as the store keeps them (migration 0019).

A destination's resume is recorded when it is seen going from paused to enabled, once, and
outlives the store being closed and opened again (an engine restart); a released message keeps
when it was released.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integrator.store import DestinationPause, Store
from tests.store.conftest import Site
from tests.store.factories import make_event, make_message

T0 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def test_a_resume_is_recorded_once_when_a_paused_destination_is_enabled(
    store: Store,
) -> None:
    # Never paused: no resume, whatever is seen.
    assert await store.observe_enabled({"noord": True}, now=T0) == {}
    assert await store.observe_enabled({"noord": False, "zuid": True}, now=T0) == {}
    # Still paused a day later: nothing changes.
    assert await store.observe_enabled({"noord": False}, now=T0 + DAY) == {}
    resumed = T0 + 3 * DAY
    assert await store.observe_enabled({"noord": True, "zuid": True}, now=resumed) == {
        "noord": resumed
    }
    # Seen enabled again (an edit, a restart, another engine): the resume stays where it was.
    assert await store.observe_enabled({"noord": True}, now=resumed + DAY) == {"noord": resumed}
    # Paused and resumed again: the newer resume counts.
    assert await store.observe_enabled({"noord": False}, now=resumed + 2 * DAY) == {
        "noord": resumed
    }
    again = resumed + 5 * DAY
    assert await store.observe_enabled({"noord": True}, now=again) == {"noord": again}
    assert await store.observe_enabled({}, now=again) == {}


async def test_a_pause_seen_before_a_restart_is_resumed_after_it(site: Site) -> None:
    first = await site.open()
    try:
        await first.observe_enabled({"noord": False}, now=T0)
    finally:
        await first.close()
    resumed = T0 + 3 * DAY
    second = await site.open()
    try:
        assert await second.observe_enabled({"noord": True}, now=resumed) == {"noord": resumed}
    finally:
        await second.close()


async def test_a_release_from_held_is_kept_with_the_message(store: Store) -> None:
    held = make_message(status="held", payload=b"", version="ref-v1")
    queued = make_message()
    await store.accept_event(make_event(), [held, queued])
    released_at = await store.release_held(
        held.id, version="ref-v2", message_type="REF^I12^REF_I12", payload=b"MSH|x"
    )
    assert released_at is not None
    record = await store.get_message(held.id)
    assert record is not None and record.released_at == released_at
    assert record.created_at < released_at
    [pending] = await store.pending_messages(ids=[held.id])
    assert pending.released_at == released_at
    never = await store.get_message(queued.id)
    assert never is not None and never.released_at is None


async def test_a_destination_s_pause_and_last_resume_are_read_back_as_kept(store: Store) -> None:
    """What the tools show of a destination: since when it is paused (only while it is; the
    resume clears it) and when it was last resumed; nothing for one never seen paused."""
    assert await store.destination_pause("noord") is None
    await store.observe_enabled({"noord": True}, now=T0)
    assert await store.destination_pause("noord") is None
    await store.observe_enabled({"noord": False}, now=T0)
    assert await store.destination_pause("noord") == DestinationPause("noord", T0, None)
    resumed = T0 + 3 * DAY
    await store.observe_enabled({"noord": True}, now=resumed)
    assert await store.destination_pause("noord") == DestinationPause("noord", None, resumed)
    paused_again = resumed + DAY
    await store.observe_enabled({"noord": False}, now=paused_again)
    assert await store.destination_pause("noord") == DestinationPause(
        "noord", paused_again, resumed
    )
    assert await store.destination_pause("zuid") is None
