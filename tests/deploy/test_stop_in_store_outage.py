"""``integrator run`` stopped (SIGTERM) while its PostgreSQL is down, mid-delivery.

Found by reproducing it: during a 30 s outage the engine went on delivering (11 messages ACKed,
none recorded), and the SIGTERM then waited for the store without bound until the supervisor
killed it (``TimeoutStopSec``), after which every one of them was sent again with no trace of
its first delivery. Now delivery takes no new message once the store refused an attempt, and the
stop waits for the store a bounded time, names what it could not record and exits 1. The
cluster is stopped with ``pg_ctlcluster`` (root); whatever happens, the test leaves PostgreSQL
running.
"""

from __future__ import annotations

import asyncio
import copy
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.store import Store
from tests.delivery.support import DEST, fast_destination
from tests.delivery.test_nothing_lost import ReceiverThread
from tests.deploy.postgres_cluster import pg_ctl
from tests.http.support import bearer, token_in_store
from tests.integrator.test_cli import ROOT
from tests.services import POSTGRES_HOST, POSTGRES_PORT, port_answers, wait_until_answering

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.exclusive]

EVENTS = 40


@pytest.fixture
def pg_env(
    env: dict[str, str], pg_database: str, restartable_postgres: Any
) -> Iterator[dict[str, str]]:
    url = f"postgresql+asyncpg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{pg_database}"
    values = {**env, "INTEGRATOR_DATABASE_URL": url}
    values["INTEGRATOR_SEARCH_KEY"] = "a-test-search-key-of-enough-length"
    try:
        yield values
    finally:
        if not port_answers(POSTGRES_HOST, POSTGRES_PORT):
            pg_ctl("start")


def test_sigterm_while_the_store_is_down_ends_bounded_naming_what_was_not_recorded(
    pg_env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    env = pg_env
    receiving = ReceiverThread()  # 0.1 s per ACK: delivery is under way when the store goes
    with receiving as receiver:
        config = fast_destination(receiver.port, ack_timeout="2s")
        Path(env["INTEGRATOR_DESTINATIONS_DIR"], f"{DEST}.yaml").write_text(
            dump_destination(config), encoding="utf-8"
        )
        intake = asyncio.run(
            token_in_store(env["INTEGRATOR_DATABASE_URL"], Grant(Role.INTAKE), name="upstream")
        )
        log_path = tmp_path / "engine.log"
        with log_path.open("wb") as log_file:
            engine = subprocess.Popen(
                [sys.executable, "-m", "integrator", "run"],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
            base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
            try:
                assert wait_until_answering(f"{base}/healthz", 20), "the engine did not start"
                with httpx.Client(base_url=base, timeout=5, headers=bearer(intake)) as http:
                    for _ in range(EVENTS):
                        data = copy.deepcopy(referral_data)
                        data["event_id"] = str(uuid.uuid4())
                        assert http.post("/api/v1/events", json=data).status_code == 202
                deadline = time.monotonic() + 10
                while len(receiver.log) < 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
                pg_ctl("stop")
                stopped_at = len(receiver.log)
                time.sleep(3)  # the recorder's writes fail; delivery must stop taking messages
                sent_in_outage = len(receiver.log) - stopped_at
                engine.send_signal(signal.SIGTERM)
                t0 = time.monotonic()
                code = engine.wait(60)
                took = time.monotonic() - t0
            finally:
                if engine.poll() is None:
                    engine.kill()
                    engine.wait()
                if not port_answers(POSTGRES_HOST, POSTGRES_PORT):
                    pg_ctl("start")
        lines = [
            json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")
        ]
        stderr_text = log_path.read_text()

        # A few attempts were on the wire when the store went; then no new message was taken.
        assert sent_in_outage <= 3, sent_in_outage
        assert took < 20, took  # the attempt on the wire (< 2 × 2 s) and 5 s for the store
        assert code == 1, stderr_text[-2000:]
        [named] = [e for e in lines if e["event"].startswith("delivery attempts not recorded")]
        assert "not recorded (the store did not take them)" in stderr_text
        assert set(named["message_ids"]) and named["messages"] == len(named["message_ids"])

        # With PostgreSQL back, a new start delivers everything; the unrecorded ones again,
        # under the same MSH-10, and no other message twice.
        receiving.hurry()
        engine = subprocess.Popen(
            [sys.executable, "-m", "integrator", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            assert wait_until_answering(f"{base}/healthz", 30), "the engine did not start again"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                counts = asyncio.run(_counts(env["INTEGRATOR_DATABASE_URL"]))
                if counts.get("delivered") == EVENTS:
                    break
                time.sleep(0.2)
            engine.send_signal(signal.SIGTERM)
            assert engine.wait(20) == 0
        finally:
            if engine.poll() is None:
                engine.kill()
                engine.wait()
    assert counts.get("delivered") == EVENTS
    seen = receiver.received_ids()
    twice = {c for c in seen if seen.count(c) > 1}
    assert len(seen) == len(set(seen)) + len(twice) and len(set(seen)) == EVENTS
    assert len(twice) <= len(named["message_ids"])


async def _counts(url: str) -> dict[str, int]:
    store = await Store.open(url)
    try:
        return await store.count_by_status()
    finally:
        await store.close()
