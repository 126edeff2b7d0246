"""Two ``integrator run`` processes on one RabbitMQ and one PostgreSQL database.

Intake is shared (both consume the intake queue); delivery to each destination is done by one
process at a time (single active consumer), so every message arrives once and in queue order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from integrator.store import MessageFilter, Store
from integrator.transport.topology import Topology
from tests.services import require_rabbitmq
from tests.transport.helpers import (
    delete_topology,
    eventually,
    make_events,
    publish_events,
    queue_consumers,
    unique_prefix,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

PROVIDERS = ["ziekenhuis-noord", "lab-west"]
ROOT = Path(__file__).resolve().parents[2]


def write_destinations(directory: Path, ports: list[int]) -> None:
    directory.mkdir()
    for provider, port in zip(PROVIDERS, ports, strict=True):
        data: dict[str, Any] = {
            "id": provider,
            "name": provider,
            "providers": [provider],
            "host": "127.0.0.1",
            "port": port,
            "messages": {"referral": "ref-v2"},
            "receiving_application": "HIS",
            "receiving_facility": "X",
        }
        (directory / f"{provider}.yaml").write_text(yaml.safe_dump(data))


def start_engine(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "integrator", "run", "--no-http"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def test_two_engines_share_intake_and_deliver_each_message_once(
    tmp_path: Path, database: str, referral_data: dict[str, Any]
) -> None:
    url = require_rabbitmq()
    prefix = unique_prefix()
    receivers = [MllpReceiver(), MllpReceiver()]
    ports = [await r.start() for r in receivers]
    write_destinations(tmp_path / "destinations", ports)
    env = {
        **os.environ,
        "INTEGRATOR_LOG_LEVEL": "warning",
        "INTEGRATOR_LOG_FORMAT": "json",
        "INTEGRATOR_DATABASE_URL": database,
        # A PostgreSQL store has no key file beside it: both engines get the same secret.
        "INTEGRATOR_SEARCH_KEY": "two-engines-test-search-key",
        "INTEGRATOR_AMQP_URL": url,
        "INTEGRATOR_AMQP_PREFIX": prefix,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path / "destinations"),
    }
    processes = [start_engine(env, tmp_path / f"engine-{n}.log") for n in range(2)]
    try:
        # Two engine processes starting beside a loaded machine's other tests took more than
        # 30 s in a CI run (load 10: the suite took 16 minutes), with nothing in their logs.
        started = await eventually(lambda: _consumers_are(url, prefix, 2), timeout=90)
        assert started, (
            "both engines should consume the intake queue; "
            + ", ".join(f"engine {n} exit code {p.poll()}" for n, p in enumerate(processes))
            + "; engine logs:\n"
            + "\n".join(
                (tmp_path / f"engine-{n}.log").read_text(errors="replace")[-3000:] for n in range(2)
            )
        )
        events = make_events(referral_data, PROVIDERS, 400)
        await publish_events(url, prefix, events)
        assert await eventually(lambda: sum(len(r.received) for r in receivers) >= 400, timeout=60)

        store = await Store.open(database)
        try:
            assert await eventually(lambda: _all_delivered(store, 400), timeout=20)
            stored = await store.list_messages(MessageFilter(), limit=1000)
            sources = {e.source for e in [await store.get_event(events[0]["event_id"])] if e}
        finally:
            await store.close()
        assert sources == {"amqp"}
        for receiver, provider in zip(receivers, PROVIDERS, strict=True):
            got = [read_msh(m).control_id for m in receiver.received]
            expected = {m.control_id for m in stored if m.destination_id == provider}
            assert len(got) == 200 and set(got) == expected  # each once
            # One engine at a time delivers to a destination (single active consumer), so the
            # queue's order is the wire's order: one MLLP connection in all.
            assert receiver.connection_count == 1
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        for receiver in receivers:
            await receiver.stop()
        await delete_topology(url, prefix, PROVIDERS)
    logs = [(tmp_path / f"engine-{n}.log").read_text() for n in range(2)]
    assert all(process.returncode == 0 for process in processes), logs


async def _consumers_are(url: str, prefix: str, count: int) -> bool:
    return await queue_consumers(url, Topology(prefix).intake_queue) == count


async def _all_delivered(store: Store, count: int) -> bool:
    return (await store.count_by_status())["delivered"] == count
