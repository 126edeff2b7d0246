"""A connection the PostgreSQL server (or a proxy) closes under a running store is said in words,
is a 503, and the next try works by itself.

Found by an operator review: after a restart of PostgreSQL, a DBA's ``pg_terminate_backend`` or
a proxy that dropped the engine's connections, the log and the API's error said
``accept events failed (ConnectionError)`` or ``(ConnectionDoesNotExistError, 08003)``, no cause:
nothing told the operator what had happened or whether to act. Real failures in a database of
each test's own: its sessions ended by the server while a statement runs (a restart's shutdown
ends them the same way, with 57P01), and a proxy in front of it that takes new connections and
closes them at once (a load balancer whose server is down, as in a failover).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import pytest
from structlog.testing import capture_logs

from integrator.store import Store, StoreUnavailable
from tests.deploy.proxy import CuttableProxy
from tests.services import POSTGRES_HOST, POSTGRES_PORT, postgres_admin, scratch_database
from tests.store.factories import make_event, make_message
from tests.transport.helpers import eventually

pytestmark = pytest.mark.postgres

T = TypeVar("T")


def closed_at(host_port: str) -> str:
    return (
        f"the database server at {host_port} closed the connection (it restarted, or an "
        "administrator, a proxy or a failover ended it); the engine connects again at the next "
        "try (INTEGRATOR_DATABASE_URL)"
    )


async def at_most_the_second_try(call: Callable[[], Awaitable[T]], cause: str) -> T:
    """``call``'s result at its first try, or its second: a kept connection the server ended
    while it was idle may fail one call (said with ``cause``) before it is replaced."""
    try:
        return await call()
    except StoreUnavailable as failed:
        first = failed
    assert first.cause == cause, str(first)
    return await call()


async def waiting_for_a_lock(name: str) -> int:
    """Sessions in database ``name`` waiting for a lock, asked on a session of its own (a
    transaction sees ``pg_stat_activity`` as it was at its first look)."""
    admin = await postgres_admin()
    try:
        found = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            name,
        )
    finally:
        await admin.close()
    return int(found)


async def test_sessions_the_server_ends_mid_statement_name_the_cause_and_the_next_try_works() -> (
    None
):
    """``pg_terminate_backend`` of the store's sessions while a write (a hot path's kept
    connection) and a read (a pooled connection) wait for a lock: both fail as unavailable,
    said in words; the store's writes are failing until the next write, which works."""
    async with scratch_database() as (name, url):
        store = await Store.open(url)
        admin = await asyncpg.connect(
            host=POSTGRES_HOST, port=POSTGRES_PORT, user="postgres", database=name
        )
        cause = closed_at(f"{POSTGRES_HOST}:{POSTGRES_PORT}")
        try:
            event = make_event()
            assert await store.accept_event(event, [make_message()])
            with capture_logs() as logs:
                async with admin.transaction():
                    await admin.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
                    accepting = asyncio.create_task(
                        store.accept_event(make_event(), [make_message()])
                    )
                    reading = asyncio.create_task(store.get_event(event.id))
                    assert await eventually(lambda: _equals(waiting_for_a_lock(name), 2)), (
                        "the store's write and read never waited for the lock"
                    )
                    await admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = $1 AND pid <> pg_backend_pid()",
                        name,
                    )
                    ended = await asyncio.gather(accepting, reading, return_exceptions=True)
            # The server's "terminating connection due to administrator command" (57P01), or
            # the socket closed under the call before asyncpg read it (08003).
            for failure in ended:
                assert isinstance(failure, StoreUnavailable), repr(failure)
                assert failure.code in ("57P01", "08003"), str(failure)
                assert failure.cause == cause
                assert str(failure).endswith(f", {failure.code}): {cause}")
            [failing] = [e for e in logs if e["event"] == "store writes fail"]
            assert failing["code"] in ("57P01", "08003") and failing["cause"] == cause
            assert store.writes_failing in ("57P01", "08003")

            later = make_event()
            accept = lambda: store.accept_event(later, [make_message()])  # noqa: E731
            assert await at_most_the_second_try(accept, cause) is True
            assert store.writes_failing is None
            found = await at_most_the_second_try(lambda: store.get_event(later.id), cause)
            assert found is not None
        finally:
            await admin.close()
            await store.close()


async def _equals(count: Awaitable[int], wanted: int) -> bool:
    return await count == wanted


async def test_a_proxy_that_closes_new_connections_is_said_as_a_closed_connection() -> None:
    """The store reaches PostgreSQL through a proxy; the proxy's connections are cut, then it
    takes every new one and closes it at once (its server gone, as in a failover). asyncpg
    says ``ConnectionError`` without a SQLSTATE, or 08003 for a kept connection cut under a
    call: each said as a closed connection, a 503. Once the proxy forwards again, at most the
    second try works."""
    async with scratch_database() as (_, url):
        proxy = CuttableProxy(POSTGRES_HOST, POSTGRES_PORT)
        port = await proxy.start()
        store = await Store.open(url.replace(f":{POSTGRES_PORT}/", f":{port}/"))
        cause = closed_at(f"127.0.0.1:{port}")
        try:
            event = make_event()
            assert await store.accept_event(event, [make_message()])
            assert await store.get_event(event.id) is not None

            await proxy.cut()
            proxy.closing = True
            await proxy.restore()
            for call in (
                lambda: store.accept_event(make_event(), [make_message()]),
                lambda: store.get_event(event.id),
            ):
                with pytest.raises(StoreUnavailable) as caught:
                    await call()
                assert caught.value.code in ("08003", "08006"), str(caught.value)
                assert caught.value.cause == cause
            assert proxy.closed_at_once >= 1

            proxy.closing = False
            later = make_event()
            accept = lambda: store.accept_event(later, [make_message()])  # noqa: E731
            assert await at_most_the_second_try(accept, cause) is True
            assert await at_most_the_second_try(lambda: store.get_event(later.id), cause)
        finally:
            await store.close()
            await proxy.close()
