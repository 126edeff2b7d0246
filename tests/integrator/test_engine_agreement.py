"""A second engine on a SQLite store (embedded transport) is refused before it resumes anything.

The bug this guards: a second ``integrator run`` on the same store (another HTTP port) queued
the store's waiting messages in its own memory and delivered them, while the first engine
delivered them too: every waiting message reached the hospital twice, under the same MSH-10.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import socket
import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from destinations.ack import read_msh
from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.presence import EngineDisagrees
from tests.integrator.support import destination, settings_for
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
NOORD = "ziekenhuis-noord"
WAITING = 5


def presence_rows(database: Path) -> list[tuple[int, str | None]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT pid, transport FROM engine_presence").fetchall()
    return [(int(pid), transport) for pid, transport in rows]


async def test_a_second_engine_on_the_store_is_refused_and_nothing_is_delivered_twice(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    port = free_port()  # the receiver is not there yet: the messages wait, retrying
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination(
        NOORD,
        port,
        providers=[NOORD],
        retry={"initial": "50ms", "multiplier": 2, "max_delay": "200ms", "max_attempts": 10000},
    )
    (settings.destinations_dir / f"{NOORD}.yaml").write_text(dump_destination(config))
    database = tmp_path / "store.db"
    first = Engine(settings)
    await first.start()
    receiver = MllpReceiver(port=port)
    try:
        for _ in range(WAITING):
            event = copy.deepcopy(referral_data)
            event["event_id"] = str(uuid.uuid4())
            await first.intake.submit(json.dumps(event), source="cli")
        assert presence_rows(database) == [(os.getpid(), "embedded")]

        # In process: refused at start, its store closed again, nothing registered.
        second = Engine(settings, http=False)
        with pytest.raises(EngineDisagrees) as refused:
            await second.start()
        assert "another engine is running on this store (HTTP at 127.0.0.1:0, " in str(
            refused.value
        )
        with pytest.raises(RuntimeError, match="not started"):
            second.store  # noqa: B018

        # ``integrator run`` on another port: exit 2, naming the first engine and what to do.
        env = {
            **os.environ,
            "INTEGRATOR_DATABASE_URL": settings.database_url,
            "INTEGRATOR_DESTINATIONS_DIR": str(settings.destinations_dir),
            "INTEGRATOR_HTTP_PORT": str(free_port()),
            "INTEGRATOR_LOG_FORMAT": "json",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "integrator",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await asyncio.wait_for(process.communicate(), timeout=60)
        except TimeoutError:
            process.kill()
            await process.wait()
            pytest.fail("the second engine ran instead of being refused")
        text = " ".join(err.decode().split())  # the terminal may wrap the line
        assert process.returncode == 2, text
        assert (
            "the engine could not start: another engine is running on this store "
            f"(HTTP at 127.0.0.1:0, pid {os.getpid()} on host {socket.gethostname()}, last seen"
        ) in text
        assert "with the embedded transport, and this one would use the embedded transport" in text
        assert "stop the other engine first" in text
        assert "This engine did not start and sent nothing." in text
        assert presence_rows(database) == [(os.getpid(), "embedded")]

        # The first engine delivers every waiting message, once.
        await receiver.start()
        assert await first.wait_settled(timeout=30)
        counts = await first.store.count_by_status()
        assert counts.get("delivered") == WAITING
        control_ids = [read_msh(m).control_id for m in receiver.received]
        assert len(control_ids) == len(set(control_ids)) == WAITING
        with sqlite3.connect(database) as conn:
            delivered = conn.execute(
                "SELECT message_id, count(*) FROM attempts WHERE outcome = 'delivered' "
                "GROUP BY message_id"
            ).fetchall()
        assert len(delivered) == WAITING and {n for _, n in delivered} == {1}
    finally:
        await first.stop()
        await receiver.stop()
    assert presence_rows(database) == []
