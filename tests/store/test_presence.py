"""Engine presence rows on both backends: what the store fallback of the CLI reads."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from integrator.presence import (
    EMBEDDED,
    EngineDisagrees,
    EngineElsewhere,
    Presence,
    refuse_if_engine_present,
    transport_of,
)
from integrator.settings import Settings
from integrator.store import EnginePresence, Store
from integrator.store.presence import FRESH_FOR, pid_namespace
from tests.store.conftest import Site
from tests.store.factories import dead_pid


def _row(engine_id: str, *, seen: datetime, address: str | None) -> EnginePresence:
    return EnginePresence(
        id=engine_id,
        host="engine-host",
        pid=4321,
        http_address=address,
        started_at=seen - timedelta(hours=1),
        heartbeat_at=seen,
    )


async def test_fresh_rows_are_listed_stale_ones_are_not(site: Site) -> None:
    store = await site.open()
    try:
        now = datetime.now(UTC)
        await store.register_engine(_row("fresh", seen=now, address="127.0.0.1:18089"))
        await store.register_engine(_row("crashed", seen=now - timedelta(minutes=5), address=None))
        [fresh] = await store.fresh_engines(now - FRESH_FOR)
        assert (fresh.id, fresh.host, fresh.pid) == ("fresh", "engine-host", 4321)
        assert fresh.http_address == "127.0.0.1:18089"
        assert abs(fresh.heartbeat_at - now) < timedelta(milliseconds=1)

        assert await store.beat_engine("crashed", now)  # a beat makes it count again
        assert {e.id for e in await store.fresh_engines(now - FRESH_FOR)} == {"fresh", "crashed"}
        await store.remove_engine("crashed")
        await store.remove_engine("fresh")
        assert await store.fresh_engines(now - FRESH_FOR) == []
        assert not await store.beat_engine("fresh", now)  # gone: the engine registers again
    finally:
        await store.close()


async def test_only_a_fresh_row_refuses_the_store_fallback(site: Site) -> None:
    settings = Settings(database_url=site.url, http_port=8080)
    store = await site.open()
    try:
        now = datetime.now(UTC)
        await store.register_engine(_row("old", seen=now - timedelta(minutes=2), address="h:1"))
        await refuse_if_engine_present(settings, store)  # a crashed engine blocks nothing

        await store.register_engine(_row("live", seen=now, address="127.0.0.1:18089"))
        with pytest.raises(EngineElsewhere) as refused:
            await refuse_if_engine_present(settings, store)
        assert refused.value.exit_code == 2
        text = str(refused.value)
        assert "an engine is running on this store (HTTP at 127.0.0.1:18089" in text
        assert "pid 4321 on host engine-host" in text
        assert "none answers at http://127.0.0.1:8080" in text
        assert text.endswith("nothing was done")

        await store.remove_engine("live")
        await store.register_engine(_row("quiet", seen=now, address=None))
        with pytest.raises(EngineElsewhere, match="without its HTTP API"):
            await refuse_if_engine_present(settings, store)
    finally:
        await store.close()


async def test_a_fresh_row_of_a_crashed_engine_on_this_host_is_stale_at_once(
    site: Site,
) -> None:
    """It blocked every store fallback for up to 30 s after the crash."""
    settings = Settings(database_url=site.url, http_port=8080)
    store = await site.open()
    try:
        now = datetime.now(UTC)
        pid = dead_pid()
        crashed = dataclasses.replace(
            _row("crashed", seen=now, address="127.0.0.1:18089"),
            host=socket.gethostname(),
            pid=pid,
            pid_namespace=pid_namespace(),
        )
        await store.register_engine(crashed)
        await refuse_if_engine_present(settings, store)  # no refusal, and the row is gone
        assert await store.fresh_engines(now - FRESH_FOR) == []

        # The same pid on another host cannot be checked from here: it counts as before.
        elsewhere = dataclasses.replace(crashed, id="elsewhere", host="engine-host")
        await store.register_engine(elsewhere)
        with pytest.raises(EngineElsewhere, match=f"pid {pid} on host engine-host"):
            await refuse_if_engine_present(settings, store)
        assert [e.id for e in await store.fresh_engines(now - FRESH_FOR)] == ["elsewhere"]
        await store.remove_engine("elsewhere")

        # The same host name with other pids (a container on the host's network), or a row
        # that does not say whose pids (an engine of before): its pid cannot be judged here.
        for other in ("pid:[1]", None):
            unsure = dataclasses.replace(crashed, id=f"unsure-{other}", pid_namespace=other)
            await store.register_engine(unsure)
            with pytest.raises(EngineElsewhere, match=f"pid {pid} on host"):
                await refuse_if_engine_present(settings, store)
            assert [e.id for e in await store.fresh_engines(now - FRESH_FOR)] == [unsure.id]
            await store.remove_engine(unsure.id)

        # A live process on this host (this one) is an engine that runs.
        alive = dataclasses.replace(crashed, id="alive", pid=os.getpid())
        await store.register_engine(alive)
        with pytest.raises(EngineElsewhere):
            await refuse_if_engine_present(settings, store)
    finally:
        await store.close()


async def test_the_engines_row_beats_and_is_removed_at_stop(site: Site) -> None:
    store = await site.open()
    try:
        presence = Presence(store, "127.0.0.1:18089", every=0.05)
        await presence.start()
        [row] = await store.fresh_engines(datetime.now(UTC) - FRESH_FOR)
        assert row.id == presence.row.id and row.http_address == "127.0.0.1:18089"
        assert row.pid_namespace == pid_namespace() is not None  # kept, so a crash is judged
        await asyncio.sleep(0.3)
        [beaten] = await store.fresh_engines(datetime.now(UTC) - FRESH_FOR)
        assert beaten.heartbeat_at > row.heartbeat_at
        await store.remove_engine(row.id)  # deleted behind its back: it registers again
        await asyncio.sleep(0.3)
        assert [e.id for e in await store.fresh_engines(datetime.now(UTC) - FRESH_FOR)] == [row.id]
        await presence.stop()
        assert await store.fresh_engines(datetime.now(UTC) - FRESH_FOR) == []
    finally:
        await store.close()


def test_the_presence_row_is_the_record_column_for_field() -> None:
    """The store writes and reads the record whole (``asdict`` in, the row's mapping out)."""
    from integrator.store.tables import engine_presence

    fields = {f.name for f in dataclasses.fields(EnginePresence)}
    assert fields == {column.name for column in engine_presence.columns}


RABBIT_X = "rabbitmq 127.0.0.1:5672 vhost=/ prefix=x"
RABBIT_Y = "rabbitmq 127.0.0.1:5672 vhost=/ prefix=y"


def test_the_transport_is_recorded_without_credentials_and_as_the_broker_reads_it() -> None:
    def of(url: str | None, prefix: str = "x") -> str:
        return transport_of(Settings(amqp_url=url, amqp_prefix=prefix))

    assert of(None) == EMBEDDED
    assert of("amqp://guest:secret@127.0.0.1:5672/") == RABBIT_X
    assert of("amqp://guest:secret@127.0.0.1") == RABBIT_X  # the default port, vhost /
    assert (
        of("amqp://u:p@Broker.Example:5672/%2F") == "rabbitmq broker.example:5672 vhost=/ prefix=x"
    )
    assert of("amqps://u:p@broker/prod", "y") == "rabbitmq broker:5671 vhost=prod prefix=y"
    assert "secret" not in of("amqp://guest:secret@127.0.0.1:5672/")


async def _registered(
    site: Site, transport: str | None, *, heartbeat_at: datetime | None = None
) -> tuple[Store, EnginePresence]:
    """A live engine's row on ``site`` (this process's pid: it is not a crashed one)."""
    store = await site.open()
    now = datetime.now(UTC)
    presence = dataclasses.replace(
        _row(f"engine-{uuid.uuid4().hex[:8]}", seen=now, address="10.0.0.7:8080"),
        pid=os.getpid(),
        transport=transport,
        heartbeat_at=heartbeat_at or now,
    )
    await store.register_engine(presence)
    return store, presence


async def _start(site: Site, transport: str) -> Presence:
    store = await site.open()
    presence = Presence(store, None, transport=transport)
    try:
        await presence.start()
    except BaseException:
        await store.close()
        raise
    return presence


async def _stop(presence: Presence) -> None:
    await presence.stop()
    await presence._store.close()


def _sentences_begin_with_capitals(text: str) -> None:
    """The refusal is sentences joined: each after a full stop begins with a capital ("...
    each of them twice. engines on one store must ..." read as a fault of the joining)."""
    assert re.findall(r"\. [a-z]", text) == [], text


async def test_an_embedded_engine_is_refused_beside_any_other_engine(site: Site) -> None:
    for other in (EMBEDDED, RABBIT_X, None):
        store, row = await _registered(site, other)
        try:
            with pytest.raises(EngineDisagrees) as refused:
                await _start(site, EMBEDDED)
            text = str(refused.value)
            assert refused.value.exit_code == 2
            assert "another engine is running on this store (HTTP at 10.0.0.7:8080, " in text
            assert f"pid {os.getpid()} on host engine-host" in text
            assert "this one would use the embedded transport" in text
            assert "one engine per store: stop the other engine first" in text
            assert text.endswith(". This engine did not start and sent nothing.")
            _sentences_begin_with_capitals(text)
            # Nothing registered: only the other engine is listed.
            fresh = await store.fresh_engines(datetime.now(UTC) - FRESH_FOR)
            assert [e.id for e in fresh] == [row.id]
        finally:
            await store.remove_engine(row.id)
            await store.close()


async def test_rabbitmq_engines_run_together_only_on_one_broker_and_prefix(site: Site) -> None:
    store, row = await _registered(site, RABBIT_X)
    try:
        same = await _start(site, RABBIT_X)  # the same deployment: admitted
        old = await _start(site, RABBIT_X)
        await _stop(old)
        with pytest.raises(EngineDisagrees) as refused:
            await _start(site, RABBIT_Y)
        text = str(refused.value)
        assert "with RabbitMQ at 127.0.0.1:5672 vhost=/ prefix=x" in text
        assert "this one would use RabbitMQ at 127.0.0.1:5672 vhost=/ prefix=y" in text
        assert (
            "each of them twice. Engines on one store must share one broker and one prefix" in text
        )
        assert "INTEGRATOR_AMQP_PREFIX" in text
        _sentences_begin_with_capitals(text)
        await _stop(same)
    finally:
        await store.remove_engine(row.id)
        await store.close()

    store, row = await _registered(site, EMBEDDED)
    try:
        with pytest.raises(
            EngineDisagrees, match="must be the only one on its store: stop it"
        ) as refused:
            await _start(site, RABBIT_X)
        assert "twice. An engine on the embedded transport must be" in str(refused.value)
        _sentences_begin_with_capitals(str(refused.value))
    finally:
        await store.remove_engine(row.id)
        await store.close()


async def test_rows_from_before_0021_stale_rows_and_crashed_engines_do_not_block(
    site: Site,
) -> None:
    """An engine that did not record its transport (an older version during a rolling
    upgrade) lets a RabbitMQ engine start; a stale row, or a fresh one of an engine that
    crashed on this host, lets any engine start."""
    store, old = await _registered(site, None)
    try:
        started = await _start(site, RABBIT_X)
        await _stop(started)
    finally:
        await store.remove_engine(old.id)
        await store.close()

    seen = datetime.now(UTC) - timedelta(minutes=5)
    store, stale = await _registered(site, RABBIT_Y, heartbeat_at=seen)
    crashed = dataclasses.replace(
        stale,
        id="crashed-here",
        host=socket.gethostname(),
        pid=dead_pid(),
        pid_namespace=pid_namespace(),
        heartbeat_at=datetime.now(UTC),
        transport=EMBEDDED,
    )
    try:
        await store.register_engine(crashed)
        started = await _start(site, EMBEDDED)
        await _stop(started)
    finally:
        await store.close()


async def test_two_engines_starting_at_once_do_not_both_miss_each_other(site: Site) -> None:
    """Check and registration are one step (SQLite's write lock, PostgreSQL's advisory lock):
    of two disagreeing engines starting at the same moment one is refused, every time."""
    for _ in range(5):
        first, second = await asyncio.gather(
            _start(site, EMBEDDED), _start(site, RABBIT_X), return_exceptions=True
        )
        started = [p for p in (first, second) if isinstance(p, Presence)]
        refused = [e for e in (first, second) if isinstance(e, EngineDisagrees)]
        assert (len(started), len(refused)) == (1, 1), (first, second)
        await _stop(started[0])


async def test_the_last_started_engines_periods_stay_after_it_stops(site: Site) -> None:
    """``integrator prune`` with no engine running judges its periods against these
    (``integrator.lifecycle.agreement``). An engine that registers again (its row removed
    behind it) started earlier than one recorded since, and leaves that one's periods."""
    store = await site.open()
    try:
        assert await store.last_engine_retention() is None  # no engine recorded any
        now = datetime.now(UTC)
        later = dataclasses.replace(
            _row("later", seen=now, address=None), retention='{"payload_days": 365}'
        )
        earlier = dataclasses.replace(
            _row("earlier", seen=now - timedelta(minutes=30), address=None),
            retention='{"payload_days": 90}',
        )
        await store.register_engine(earlier)
        await store.register_engine(later)
        await store.remove_engine("later")  # it stopped
        await store.remove_engine("earlier")
        await store.register_engine(earlier)  # registers again, as after its row was removed
        last = await store.last_engine_retention()
        assert last is not None
        assert (last.retention, last.started_at) == (later.retention, later.started_at)
        assert (last.host, last.pid) == ("engine-host", 4321)
    finally:
        await store.close()
