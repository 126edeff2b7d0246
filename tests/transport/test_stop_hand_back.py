"""A retry waiting out its backoff when its engine stops is sent by the next at its time.

A rotate retry waits in a stopping runner's timer and is handed back to the queue, not
stranded. The recovery leader would re-publish it too, but only at its start or take-over: here
the test holds the recovery lock itself, as a leader that neither stops nor changes, so only the
hand-back can bring the message out. A fifo retry stays unsettled at the head of the queue, so
nothing behind it overtakes it. Either must still not go out before its ``next_attempt_at``.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.engine import Engine
from tests.integrator.support import destination, settings_for
from tests.services import free_port
from tests.transport.helpers import eventually

pytestmark = pytest.mark.rabbitmq

TODAY = date(2026, 11, 27)
NOORD = "ziekenhuis-noord"
#: Long enough that the stop comes well before the retry is due.
BACKOFF = {"initial": "3s", "multiplier": 1, "max_delay": "3s", "max_attempts": 10, "max_age": "1h"}


def engine_for(
    tmp_path: Path, url: str, prefix: str, port: int, ordering: str = "rotate"
) -> Engine:
    config = destination(NOORD, port, providers=[NOORD], ordering=ordering, retry=BACKOFF)
    catalog = build_catalog([(f"{config.id}.yaml", config)], today=TODAY)
    return Engine(settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix), catalog=catalog)


@pytest.mark.parametrize("failed", ["AE", "receiver down"])
async def test_a_stopped_engines_rotate_retry_is_sent_by_the_next_at_its_time(
    tmp_path: Path, led_elsewhere: tuple[str, str], referral_data: dict[str, Any], failed: str
) -> None:
    """Answered AE, the retry waits in a timer, handed back at the stop. With the receiver
    down the destination is down as a whole: the runner keeps the message unsettled and tries
    it again at its time (``delivery._probe``), so the stop leaves it to the broker, as it
    leaves a fifo retry."""
    url, prefix = led_elsewhere
    failing = MllpReceiver(ack_code="AE")
    port = await failing.start()
    if failed == "receiver down":
        await failing.stop()  # the hospital is down: the first attempt fails
    first = engine_for(tmp_path, url, prefix, port)
    await first.start()
    try:
        result = await first.intake.submit(json.dumps(referral_data), source="cli")
        message_id = result.messages[0].message_id

        async def retrying() -> bool:
            stored = await first.store.get_message(message_id)
            return stored is not None and stored.status == "retrying"

        assert await eventually(retrying, timeout=10)
        waiting = await first.store.get_message(message_id)
        assert waiting is not None and waiting.next_attempt_at is not None
        due = waiting.next_attempt_at
    finally:
        await first.stop(graceful=True)
        await failing.stop()

    back = MllpReceiver(port=port)
    await back.start()
    second = engine_for(tmp_path, url, prefix, port)
    await second.start()
    try:

        async def delivered() -> bool:
            stored = await second.store.get_message(message_id)
            return stored is not None and stored.status == "delivered"

        assert await eventually(delivered, timeout=15), "the retry was stranded"
        attempts = await second.store.list_attempts(message_id)
        assert [a.number for a in attempts] == [1, 2]
        assert attempts[1].started_at >= due  # not early: at (or after) its time
        assert len(back.received) == 1
        assert back.received[0] == waiting.payload  # the same bytes, the same MSH-10
    finally:
        await second.stop()
        await back.stop()


@pytest.mark.parametrize("stop", ["engine restart", "pause and resume"])
async def test_a_fifo_retry_waiting_when_its_runner_stopped_is_sent_first_and_at_its_time(
    stop: str, tmp_path: Path, led_elsewhere: tuple[str, str], referral_data: dict[str, Any]
) -> None:
    """The broker gives the unsettled retry back at the head of the queue, but with the headers
    it was first published with: the runner that receives it next (another engine's, or the
    resumed one's) must take its time from the store."""
    url, prefix = led_elsewhere
    # The hospital is down: nothing listens, so the first attempt fails. A port below the
    # ephemeral range (``free_port``): one the kernel handed out and took back was, at times,
    # some connection's source port by the time the receiver came back on it.
    port = free_port()
    first = engine_for(tmp_path, url, prefix, port, "fifo")
    await first.start()
    engines = [first]
    back = MllpReceiver(port=port)
    try:
        ids = []
        for _ in range(2):  # the second waits behind the first
            event = {**referral_data, "event_id": str(uuid.uuid4())}
            result = await first.intake.submit(json.dumps(event), source="cli")
            ids.append(result.messages[0].message_id)

        async def retrying() -> bool:
            stored = await first.store.get_message(ids[0])
            return stored is not None and stored.status == "retrying"

        assert await eventually(retrying, timeout=10)
        waiting = [await first.store.get_message(i) for i in ids]
        assert waiting[0] is not None and waiting[0].next_attempt_at is not None
        assert waiting[1] is not None and waiting[1].status == "queued"
        due = waiting[0].next_attempt_at
        if stop == "engine restart":
            await first.stop(graceful=True)
            await back.start()
            second = engine_for(tmp_path, url, prefix, port, "fifo")
            await second.start()
            engines.append(second)
        else:
            catalog = first.intake.catalog
            paused = catalog.destinations[NOORD].model_copy(update={"enabled": False})
            await first.apply_catalog(build_catalog([(f"{NOORD}.yaml", paused)], today=TODAY))
            await back.start()
            await first.apply_catalog(catalog)
        engine = engines[-1]

        async def delivered() -> bool:
            stored = [await engine.store.get_message(i) for i in ids]
            return all(m is not None and m.status == "delivered" for m in stored)

        assert await eventually(delivered, timeout=15), "the retry was stranded"
        retried = await engine.store.list_attempts(ids[0])
        assert [a.number for a in retried] == [1, 2]
        assert retried[1].started_at >= due  # not early: at (or after) its time
        behind = await engine.store.list_attempts(ids[1])
        assert [a.number for a in behind] == [1]
        assert behind[0].started_at >= retried[1].started_at  # nothing overtook it
        # In order, each once, with the bytes (and MSH-10) it was first tried with.
        assert back.received == [m.payload for m in waiting if m is not None]
    finally:
        for engine in engines:
            await engine.stop()
        await back.stop()
