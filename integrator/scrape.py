"""What the engine checks when Prometheus scrapes ``/metrics`` and a probe asks ``/readyz``.

Both ask the store and the transport now, with a time limit, so an answer says how things are
at that moment; nothing runs in between, and a store that is down costs a failed query per
scrape, not a loop of retries. A store that answers reads but whose writes fail (a full disk, a
read-only directory or PostgreSQL database, a privilege taken away) is not ready either: the
store keeps what its last write found (``Store.writes_failing``), so no probe writes.

The scrape also looks at the destinations directory (``directory_readable``): while it cannot
be read the engine goes on with the destinations in service (``Engine._directory_unusable``),
so nothing else would say it. Readiness does not: delivery goes on, and an engine taken out of
a load balancer for it would refuse the intake it can still route and deliver.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from deadletter.letters import count_open_dead_letters
from destinations.config import directory_problem
from integrator.engine import Engine
from integrator.logging import get_logger
from integrator.store import Store, StoreError
from integrator.store.gauges import Backlog

log = get_logger("integrator.scrape")

#: Seconds a scrape or a readiness probe waits for the store before calling it down.
CHECK_TIMEOUT = 5.0


async def store_answers(engine: Engine) -> bool:
    try:
        await asyncio.wait_for(engine.store.ping(), CHECK_TIMEOUT)
    except Exception as exc:  # whatever the driver raised, the store is not usable now
        # A store error's text is safe (``integrator.store.failures``) and says why.
        said = {"error": str(exc)} if isinstance(exc, StoreError) else {}
        log.warning("the store does not answer", error_type=type(exc).__name__, **said)
        return False
    return True


async def store_state(engine: Engine) -> str:
    """``ok``, ``unavailable`` (no answer), or ``writes failing (CODE)`` while it answers but
    its last write failed and none has worked since."""
    if not await store_answers(engine):
        return "unavailable"
    failing = engine.store.writes_failing_for_readiness
    return "ok" if failing is None else f"writes failing ({failing})"


async def refresh_metrics(engine: Engine) -> bool:
    """Bring the scrape-time gauges up to date: the backlog per destination and health.
    Whether the store answered (False: the backlog gauges keep their last values)."""
    metrics = engine.metrics
    try:
        backlog, dead_letters = await asyncio.wait_for(_read(engine.store), CHECK_TIMEOUT)
    except Exception as exc:  # the driver's own errors too: a scrape must answer
        said = {"error": str(exc)} if isinstance(exc, StoreError) else {}
        log.warning("cannot count the backlog for metrics", error_type=type(exc).__name__, **said)
        store_up = False  # the backlog gauges keep their last values; store_up says why
    else:
        store_up = engine.store.writes_failing is None
        configured = engine.catalog.destinations.keys()
        metrics.observe_backlog(configured, backlog, engine.clock.now(), dead_letters=dead_letters)
    metrics.observe_health(store=store_up, transport=engine.transport_connected())
    metrics.observe_directory(readable=directory_readable(engine.settings.destinations_dir))
    metrics.observe_catalog(engine.catalog, engine.today())  # days left count down while it runs
    metrics.observe_certificates(engine.catalog)
    metrics.publish_owed.set(engine.publish_owed())
    if engine.transport_connected():  # away: integrator_transport_up says so, the count stays
        try:
            dead = await asyncio.wait_for(engine.amqp_dead_count(), CHECK_TIMEOUT)
        except Exception as exc:
            log.warning("cannot count the broker's dead queue", error_type=type(exc).__name__)
        else:
            metrics.amqp_dead.set(dead or 0)
    return store_up


def directory_readable(directory: Path) -> bool:
    """Whether the engine can read ``directory`` as it reads its destination files: it is a
    directory, its names can be listed (read permission) and the entries in it looked at
    (search permission: with read alone the names list, but no file in it opens)."""
    if directory_problem(directory) is not None:
        return False
    try:
        with os.scandir(directory) as entries:
            next(entries, None)
        # A path through it (pathlib would drop the '.'): refused without search permission.
        os.stat(os.path.join(directory, os.curdir))
    except OSError:
        return False
    return True


async def _read(store: Store) -> tuple[list[Backlog], dict[str, int]]:
    """The backlog, and per destination the open dead letters (``count_open_dead_letters``,
    the count the dashboard and ``destinations list`` show too)."""
    return await store.backlog(), await count_open_dead_letters(store)


async def readiness(engine: Engine) -> dict[str, str]:
    """Each check's state, ``ok`` or what is wrong."""
    return {
        "store": await store_state(engine),
        "transport": engine.transport_state(),
    }
