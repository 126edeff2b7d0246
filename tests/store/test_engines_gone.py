"""``engines_gone``: what tells the RabbitMQ recovery leader that an engine went, so that what
it committed and never had confirmed is published again (``integrator.transport.recovery``).

An engine that is not the leader and dies between commit and confirm (an event accepted over
HTTP: its caller's retry is answered "duplicate") left its messages pending in the store until
the next leader's take-over, which may never come while the leader runs.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from integrator.presence import engines_gone
from integrator.store import Store
from tests.store.factories import engine_elsewhere


async def test_an_engine_whose_row_goes_or_goes_stale_is_gone_once(store: Store) -> None:
    now = datetime.now(UTC)
    own = dataclasses.replace(engine_elsewhere(), id="own")
    await store.register_engine(own)
    gone = engines_gone(store, lambda: "own")
    assert not await gone()  # the first ask only looks

    other = dataclasses.replace(engine_elsewhere(), id="other")
    await store.register_engine(other)
    assert not await gone()  # one more running is no engine gone
    await store.remove_engine("other")  # stopped
    assert await gone()
    assert not await gone()  # said once

    stale = dataclasses.replace(engine_elsewhere(), id="stale")
    await store.register_engine(stale)
    assert not await gone()
    assert await store.beat_engine("stale", now - timedelta(minutes=5))  # its heartbeat stopped
    assert await gone()


async def test_its_own_row_going_is_not_an_engine_gone(store: Store) -> None:
    own = dataclasses.replace(engine_elsewhere(), id="own")
    await store.register_engine(own)
    gone = engines_gone(store, lambda: "own")
    assert not await gone()
    await store.remove_engine("own")  # re-registered by its own heartbeat soon
    assert not await gone()
