"""Engine presence rows on both backends: what the store fallback of the CLI reads."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from integrator.presence import (
    FRESH_FOR,
    EngineElsewhere,
    Presence,
    pid_namespace,
    refuse_if_engine_present,
)
from integrator.settings import Settings
from integrator.store import EnginePresence
from tests.store.conftest import Site


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


def dead_pid() -> int:
    """The pid of a process that has ended and been reaped: no process has it (for now)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


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
