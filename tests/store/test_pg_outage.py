"""After a PostgreSQL outage, the first request succeeds: no stale connection costs one.

Found by an audit: an engine reaching PostgreSQL through a TCP proxy, the proxy killed for 15 s
and back; ``/readyz`` answered 200, yet the next requests answered ``503 the store is
unavailable``, one per connection that had sat in the pool (or been kept by a hot path) through
the outage. Here the store reaches PostgreSQL through a proxy on loopback that the test cuts
(every connection through it closed, as a server restart does) and restores.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from integrator.store import AttemptRecord, Store
from tests.deploy.proxy import CuttableProxy
from tests.store.conftest import postgres_site
from tests.store.factories import T0, StepClock, make_event, make_message
from tests.transport.helpers import eventually

pytestmark = pytest.mark.postgres


async def test_after_an_outage_the_next_write_and_read_succeed_at_the_first_try() -> None:
    async with postgres_site() as site:
        host_port = site.url.split("@", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        proxy = CuttableProxy(host, int(port))
        through = await proxy.start()
        url = site.url.replace(f"@{host_port}/", f"@127.0.0.1:{through}/")
        store = await Store.open(url, clock=StepClock(), schema=site.schema)
        try:
            event, message = make_event(), make_message()
            assert await store.accept_event(event, [message]) is True  # kept: accepting
            first = AttemptRecord(message.id, 1, T0, 5.0, "retry", error="busy")
            retry_at = T0 + timedelta(minutes=1)
            await store.record_attempts([(first, "retrying", retry_at, "busy")])  # kept: recording
            # Several connections idle in the pool, as after a few requests at once.
            await asyncio.gather(*(store.get_message(message.id) for _ in range(4)))
            kept = [store._hot._accepting.raw, store._hot._recording.raw]  # type: ignore[union-attr]

            await proxy.cut()
            assert await eventually(lambda: all(raw.is_closed() for raw in kept), timeout=5)
            await proxy.restore()

            # Each at the first try: none raises StoreUnavailable.
            later = make_event()
            assert await store.accept_event(later, [make_message()]) is True
            second = AttemptRecord(message.id, 2, T0 + timedelta(minutes=1), 5.0, "delivered")
            await store.record_attempts([(second, "delivered", None, None)])
            found = await asyncio.gather(*(store.get_message(message.id) for _ in range(4)))
            assert all(m is not None and m.status == "delivered" for m in found)
            assert await store.get_event(later.id) is not None
        finally:
            await store.close()
            await proxy.restore_if_cut()
