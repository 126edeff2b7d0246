"""Nothing lost: ``integrator run`` killed with SIGKILL mid-delivery, started again.

Every accepted event must end delivered (or dead), and never under another control id than
the one it was accepted with; the receiver may see the same MSH-10 twice (a message in flight
when the process died), which is allowed and recognisable.
"""

from __future__ import annotations

import asyncio
import copy
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.store import Store
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.delivery.support import DEST, fast_destination
from tests.http.support import bearer, token_in_store
from tests.integrator.test_cli import ROOT
from tests.services import wait_until_answering

EVENTS = 30


class ReceiverThread:
    """The receiver in its own thread and event loop, outliving the engine processes: slow
    (0.1 s per ACK) until ``hurry``, so that a kill lands in the middle of delivery."""

    def __init__(self) -> None:
        self.receiver = MisbehavingReceiver(default="delay:0.1")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> MisbehavingReceiver:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.receiver.start(), self._loop).result(5)
        return self.receiver

    def hurry(self) -> None:
        """Answer at once from now on (the message in hand still takes its 0.1 s)."""
        self._loop.call_soon_threadsafe(setattr, self.receiver, "default", "ok")

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.receiver.stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def start_engine(env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "integrator", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    if wait_until_answering(f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}/healthz", 20):
        return process
    process.kill()
    pytest.fail("engine did not answer /healthz within 20 s")


async def _final_state(url: str, ids: list[str]) -> dict[str, tuple[str, str]]:
    store = await Store.open(url)
    try:
        found = {}
        for message_id in ids:
            message = await store.get_message(message_id)
            assert message is not None, "an accepted message is missing from the store"
            found[message_id] = (message.status, message.control_id)
        return found
    finally:
        await store.close()


def test_sigkill_mid_delivery_loses_nothing_and_sends_no_other_control_id(
    env: dict[str, str], referral_data: dict[str, Any]
) -> None:
    receiving = ReceiverThread()
    with receiving as receiver:
        config = fast_destination(receiver.port, ack_timeout="2s")
        Path(env["INTEGRATOR_DESTINATIONS_DIR"], f"{DEST}.yaml").write_text(
            dump_destination(config), encoding="utf-8"
        )
        base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
        accepted: dict[str, str] = {}  # message id -> control id at acceptance
        intake = asyncio.run(
            token_in_store(env["INTEGRATOR_DATABASE_URL"], Grant(Role.INTAKE), name="upstream")
        )
        engine = start_engine(env)
        try:
            with httpx.Client(base_url=base, timeout=5, headers=bearer(intake)) as http:
                for _ in range(EVENTS):
                    data = copy.deepcopy(referral_data)
                    data["event_id"] = str(uuid.uuid4())
                    response = http.post("/api/v1/events", json=data)
                    assert response.status_code == 202, response.text
                    for m in response.json()["messages"]:
                        accepted[m["message_id"]] = m["control_id"]
            deadline = time.monotonic() + 10
            while len(receiver.log) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            engine.send_signal(signal.SIGKILL)
            engine.wait(5)
        finally:
            if engine.poll() is None:
                engine.kill()
                engine.wait()
        seen_before_kill = len(receiver.log)
        assert 0 < seen_before_kill < EVENTS, "the kill did not land in the middle of delivery"
        # The kill has landed: the restarted engine delivers the rest to a receiver that no
        # longer takes 0.1 s for each (2.5 s for the 25 or so left, waited for nothing).
        receiving.hurry()

        engine = start_engine(env)
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                state = asyncio.run(_final_state(env["INTEGRATOR_DATABASE_URL"], list(accepted)))
                if all(status in ("delivered", "dead") for status, _ in state.values()):
                    break
                time.sleep(0.2)
            engine.send_signal(signal.SIGTERM)
            engine.wait(10)
        finally:
            if engine.poll() is None:
                engine.kill()
                engine.wait()

    assert len(accepted) == EVENTS
    assert {status for status, _ in state.values()} == {"delivered"}
    # The control id never changed, and the receiver saw exactly the accepted ones.
    assert {mid: cid for mid, (_, cid) in state.items()} == accepted
    seen = receiver.received_ids()
    assert set(seen) == set(accepted.values())
    assert len(seen) - len(set(seen)) <= 3  # the one in flight, and any not yet recorded
