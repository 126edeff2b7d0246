"""SIGTERM in the middle of an attempt: the ACK that comes back is recorded, nothing is sent twice.

The engine runs as a real process (``integrator run``); the hospital is a receiver that answers
only once the engine has said it is stopping, so the signal arrives while the message is on the
wire (an event, not a delay the test waits out and a loaded machine might outlast).
"""

from __future__ import annotations

import asyncio
import copy
import json
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from destinations.config import DestinationConfig, dump_destination
from integrator.store import MessageFilter, Store
from integrator.submit import read_files, submit_to_store
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.http.support import engine_process
from tests.integrator.support import destination, settings_for
from tests.services import require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, unique_prefix

KEY = "a-test-search-key-of-enough-length"

pytestmark = pytest.mark.slow  # engine processes and a receiver that answers late


async def submit_offline(tmp_path: Path, path: Path) -> None:
    """What ``integrator submit`` does with no engine running: the event straight into the
    store (``env``'s, under ``tmp_path``). Called here rather than as a command: a process
    would spend three seconds on its imports, twice a run, for a step this test only needs
    done (the command itself is tested in ``tests/integrator/test_cli.py``)."""
    settings = settings_for(tmp_path, search_key=KEY)
    [outcome] = await submit_to_store(settings, read_files([path]), caller="local:test")
    assert outcome.accepted is not None, outcome.to_json()


def write_destination(env: dict[str, str], config: DestinationConfig) -> None:
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], f"{config.id}.yaml").write_text(
        dump_destination(config)
    )


def event_file(tmp_path: Path, base: dict[str, Any], zd: str) -> Path:
    event = copy.deepcopy(base)
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = zd
    path = tmp_path / f"{zd}.json"
    path.write_text(json.dumps(event))
    return path


async def wait_exit(process: subprocess.Popen[str]) -> int:
    return await asyncio.get_running_loop().run_in_executor(None, process.wait, 60)


async def wait_for_log(process: subprocess.Popen[str], event: str) -> list[str]:
    """Read the engine's JSON log lines until ``event``; the events read."""
    assert process.stderr is not None
    stream = process.stderr

    def read() -> list[str]:
        seen = []
        for line in stream:
            seen.append(json.loads(line)["event"])
            if seen[-1] == event:
                return seen
        raise AssertionError(f"the engine never logged {event!r}: {seen}")

    return await asyncio.get_running_loop().run_in_executor(None, read)


@pytest.fixture(params=["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
async def transport_env(
    request: pytest.FixtureRequest, env: dict[str, str]
) -> AsyncIterator[dict[str, str]]:
    """The engine's environment on the embedded transport, or on RabbitMQ (own prefix)."""
    env["INTEGRATOR_SEARCH_KEY"] = KEY
    if request.param == "embedded":
        yield env
        return
    url, prefix = require_rabbitmq(), unique_prefix()
    env.update(INTEGRATOR_AMQP_URL=url, INTEGRATOR_AMQP_PREFIX=prefix)
    try:
        yield env
    finally:
        await delete_topology(url, prefix, ["noord"])


async def test_sigterm_mid_attempt_records_the_ack_and_nothing_is_sent_again(
    tmp_path: Path, transport_env: dict[str, str], referral_data: dict[str, Any]
) -> None:
    env = transport_env
    async with MisbehavingReceiver(["hold"]) as receiver:
        config = destination(
            "noord", receiver.port, providers=[referral_data["provider"]["id"]], ack_timeout="20s"
        )
        write_destination(env, config)
        await submit_offline(tmp_path, event_file(tmp_path, referral_data, "ZD900000001"))

        with engine_process(env) as process:
            await wait_for_log(process, "engine started")
            assert await eventually(lambda: len(receiver.log) == 1, timeout=30), "never sent"
            process.send_signal(signal.SIGTERM)
            # The receiver answers only once the engine is stopping: the ACK comes back to an
            # engine that has begun to stop.
            finishing = "deliveries stopping: letting the attempts on the wire finish"
            await wait_for_log(process, finishing)
            receiver.answer.set()
            assert await wait_exit(process) == 0
            assert process.stderr is not None
            rest = [json.loads(line)["event"] for line in process.stderr]
            assert "engine stopped" in rest

        store = await Store.open(env["INTEGRATOR_DATABASE_URL"])
        try:
            [message] = await store.list_messages(MessageFilter(), limit=10)
            assert message.status == "delivered"
            [attempt] = await store.list_attempts(message.id)
            assert attempt.outcome == "delivered" and attempt.ack_code == "AA"
            assert attempt.ack_bytes is not None and message.control_id.encode() in (
                attempt.ack_bytes
            )
            first = message.control_id
        finally:
            await store.close()
        assert receiver.log[0].control_id == first

        # Restart with a second event queued behind: it is delivered, the first is not re-sent.
        await submit_offline(tmp_path, event_file(tmp_path, referral_data, "ZD900000002"))
        with engine_process(env) as process:
            assert await eventually(lambda: len(receiver.log) == 2, timeout=30)
            process.send_signal(signal.SIGTERM)
            assert await wait_exit(process) == 0
        sent = [r.control_id for r in receiver.log]
        assert sent.count(first) == 1 and len(set(sent)) == 2
