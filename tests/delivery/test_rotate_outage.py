"""``ordering: rotate`` with its receiver down: one attempt per backoff, and no payload waiting.

Rotate is for a failing *message*: it goes to the back and the others go on. A destination that
cannot even be connected to is down as a whole, and before, under rotate, every queued message
made its own attempt with its own backoff: 300 messages made 900 connection attempts, attempt
rows and log lines in 10 s, where fifo made one per backoff. And every retry waited in a timer
holding its whole message: 400 referrals with a 512 KiB attachment took 240 MiB more than under
fifo. A real engine, a port with nothing listening (then a receiver on it), the embedded
transport and RabbitMQ.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.ack import read_msh
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.access import Permission
from integrator.access.permissions import local_identity
from integrator.catalog import build_catalog
from integrator.clusters import ClusterScope
from integrator.delivery import HAND_BACK_LOAD_S
from integrator.engine import Engine
from integrator.store import MessageRecord, Store
from integrator.try_now import Where, try_message_now
from tests.delivery.support import DEST, TODAY, fast_destination, submit
from tests.integrator.support import settings_for
from tests.services import free_port, require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, unique_prefix

#: Short enough that the receiver's return is seen soon, long enough to count the gaps.
OUTAGE_RETRY = {
    "initial": "100ms",
    "multiplier": 2,
    "max_delay": "400ms",
    "max_attempts": 1000,
    "max_age": "1h",
}
TEN_MINUTES = {"initial": "10m", "multiplier": 1, "max_delay": "10m", "max_attempts": 5}
QUEUED = 40
SUPPORT = ClusterScope(local_identity("local:sam"), Permission.MESSAGES_RESEND)

EMBEDDED = pytest.param("embedded", id="embedded")
RABBITMQ = pytest.param("rabbitmq", id="rabbitmq", marks=pytest.mark.rabbitmq)


@asynccontextmanager
async def rotating(
    tmp_path: Path, port: int, transport: str = "embedded", **overrides: Any
) -> AsyncIterator[Engine]:
    """A started engine whose one destination, on ``port``, is in rotate order (ACKs awaited
    2 s: one later than the suite's 200 ms on a loaded machine would send a message twice)."""
    config = fast_destination(port, ordering="rotate", **{"ack_timeout": "2s", **overrides})
    catalog = build_catalog([(f"{DEST}.yaml", config)], today=TODAY)
    if transport == "embedded":
        settings = settings_for(tmp_path)
    else:
        url, prefix = require_rabbitmq(), unique_prefix()
        settings = settings_for(tmp_path, amqp_url=url, amqp_prefix=prefix)
    engine = Engine(settings, catalog=catalog)
    try:
        await engine.start()
        yield engine
    finally:
        await engine.stop()
        if settings.amqp_url is not None:
            await delete_topology(settings.amqp_url, settings.amqp_prefix, [DEST])


async def stored(engine: Engine, ids: list[str]) -> list[MessageRecord]:
    await engine.drain()
    return await engine.store.get_messages(ids)


def backoff_at_least(attempts_made: int) -> float:
    """The shortest wait ``OUTAGE_RETRY`` allows after that many failed attempts (jitter 20 %)."""
    return min(0.4, 0.1 * 2.0 ** (attempts_made - 1)) * 0.8


@pytest.mark.parametrize(
    ("transport", "connections"),
    [("embedded", 1), ("embedded", 3), pytest.param("rabbitmq", 1, marks=pytest.mark.rabbitmq)],
)
async def test_an_outage_costs_one_attempt_per_backoff_not_one_per_queued_message(
    tmp_path: Path, referral_data: dict[str, Any], transport: str, connections: int
) -> None:
    port = free_port()
    with capture_logs() as logs:
        async with rotating(
            tmp_path, port, transport, connections=connections, retry=OUTAGE_RETRY
        ) as engine:
            ids = await submit(engine, referral_data, QUEUED)

            async def probed_five_times() -> bool:
                return max(m.attempt_count for m in await stored(engine, ids)) >= 5

            assert await eventually(probed_five_times, timeout=30)
            found = sorted(await stored(engine, ids), key=lambda m: -m.attempt_count)
            probe, others = found[0], found[1:]
            # Only the attempts on the wire when the first connect failed, once each; the rest
            # waited, queued, without an attempt.
            tried = [m for m in others if m.attempt_count]
            assert len(tried) <= connections - 1, [m.attempt_count for m in found]
            assert all(m.attempt_count == 1 for m in tried)
            assert sum(m.status == "queued" for m in others) >= QUEUED - connections
            # The probe's attempts follow its retry policy, the gap growing with each.
            attempts = await engine.store.list_attempts(probe.id)
            assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
            for before, after in itertools.pairwise(attempts):
                gap = (after.started_at - before.started_at).total_seconds()
                assert gap >= backoff_at_least(before.number) - 0.005, (before.number, gap)
                assert (before.error or "").startswith("ConnectFailed: ")

            async with MllpReceiver(port=port) as receiver:  # the hospital is back
                assert await engine.wait_settled(timeout=30)
                delivered = await stored(engine, ids)
                assert {m.status for m in delivered} == {"delivered"}
                # Every message once, with the MSH-10 it was made with.
                sent = [read_msh(m).control_id for m in receiver.received]
                assert sorted(sent) == sorted(m.control_id for m in delivered)
            # Said once when it began and once when it ended, besides a line per attempt.
            said = [e for e in logs if e["event"].startswith("destination ")]
            assert [(e["event"], e["log_level"]) for e in said] == [
                ("destination unreachable", "warning"),
                ("destination reachable again", "warning"),
            ]
            down, back = said
            assert down["meanwhile"] == "no other message is tried before this one's next attempt"
            assert down["reason"].startswith("ConnectFailed: ") and down["destination"] == DEST
            assert back["outcome"] == "delivered" and back["down_for_s"] >= 0


async def test_a_restart_during_an_outage_keeps_the_probed_messages_time(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The message whose attempts found the destination down is left unsettled by a stop, as
    a fifo retry is: the next start sends it at its next_attempt_at, not before."""
    port = free_port()
    backoff = {"initial": "2s", "multiplier": 1, "max_delay": "2s", "max_attempts": 5}
    async with rotating(tmp_path, port, retry=backoff) as first:
        ids = await submit(first, referral_data, 3)

        async def probed() -> bool:
            return any(m.status == "retrying" for m in await stored(first, ids))

        assert await eventually(probed, timeout=10)
        [probe] = [m for m in await stored(first, ids) if m.status == "retrying"]
        assert [m.attempt_count for m in await stored(first, ids)].count(0) == 2
    async with (
        MllpReceiver(port=port) as receiver,
        rotating(tmp_path, port, retry=backoff) as second,
    ):
        assert await second.wait_settled(timeout=30)
        assert {m.status for m in await stored(second, ids)} == {"delivered"}
        attempts = await second.store.list_attempts(probe.id)
        # The first engine may have made another attempt before its stop (its 2 s backoff
        # can pass while a loaded machine stops it); the delivered one is the second engine's,
        # not sooner than the time the probe's failure had set.
        *failed, delivered = attempts
        assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
        assert 1 <= len(failed) <= 2 and all(a.outcome != "delivered" for a in failed)
        assert probe.next_attempt_at is not None
        assert delivered.started_at >= probe.next_attempt_at
        assert sorted(read_msh(m).control_id for m in receiver.received) == sorted(
            m.control_id for m in await stored(second, ids)
        )


async def test_a_retry_tried_now_during_an_outage_has_the_destination_tried_now(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Support makes a waiting retry due (the hospital phoned: it is back) while the
    destination's queue waits for the attempt after a failed connect, ten minutes away: that
    attempt is made now, and then the rest go."""
    port = free_port()
    failing = MllpReceiver(port=port, ack_code="AE")
    await failing.start()
    async with rotating(tmp_path, port, retry=TEN_MINUTES) as engine:
        [answered_ae] = await submit(engine, referral_data)
        assert await eventually(lambda: engine.retries_waiting(DEST) == 1)
        await failing.stop()  # down now: the next message's connect fails
        [refused] = await submit(engine, referral_data)
        assert await eventually(lambda: engine.retries_waiting(DEST) == 2)
        async with MllpReceiver(port=port) as receiver:
            await try_message_now(
                Where.engine(engine), SUPPORT, answered_ae, reason="phoned", source="test"
            )
            assert await engine.wait_settled(timeout=20)
            found = await stored(engine, [answered_ae, refused])
            assert [(m.status, m.attempt_count) for m in found] == [("delivered", 2)] * 2
            assert len(receiver.received) == 2


@pytest.mark.parametrize("transport", [EMBEDDED, RABBITMQ])
async def test_retries_wait_by_id_not_with_their_payloads(
    tmp_path: Path, referral_data: dict[str, Any], transport: str
) -> None:
    """While its retry waits, a message exists in the store only: the engine keeps no copy of
    it (no ``OutboundMessage`` of it anywhere), and reads it when the retry is due."""
    waiting = 10
    backoff = {"initial": "3s", "multiplier": 1, "max_delay": "3s", "max_attempts": 3}
    async with (
        MllpReceiver(ack_code="AE") as receiver,
        rotating(tmp_path, receiver.port, transport, retry=backoff) as engine,
    ):
        ids = await submit(engine, referral_data, waiting)
        assert await eventually(lambda: engine.retries_waiting(DEST) == waiting)
        ours = set(ids)

        def held() -> list[OutboundMessage]:
            gc.collect()
            return [
                o
                for o in gc.get_objects()
                if isinstance(o, OutboundMessage) and o.message_id in ours
            ]

        # The last one waits in the schedule from the moment its attempt is handed to the
        # recorder; on RabbitMQ its delivery (with the message) then waits among the acks to
        # send until that attempt is committed. So for that moment it is held; well within
        # the 3 s backoff, it is not:
        assert await eventually(lambda: held() == [], timeout=1.0)
        receiver.ack_code = "AA"
        assert await engine.wait_settled(timeout=30)
        found = await stored(engine, ids)
        assert [(m.status, m.attempt_count) for m in found] == [("delivered", 2)] * waiting
        # The retries went out as first sent: the payloads read back from the store.
        assert sorted(receiver.received) == sorted([m.payload for m in found] * 2)


async def test_a_stop_the_store_does_not_answer_leaves_waiting_retries_to_the_store(
    tmp_path: Path, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop reads the retries it hands back from the store: one that does not answer gets
    ``HAND_BACK_LOAD_S``, then the stop goes on, and the retries, still ``retrying`` there, go
    out from the next start."""
    waiting = 3
    backoff = {"initial": "3s", "multiplier": 1, "max_delay": "3s", "max_attempts": 3}
    async with MllpReceiver(ack_code="AE") as receiver:
        config = fast_destination(receiver.port, ordering="rotate", retry=backoff)
        catalog = build_catalog([(f"{DEST}.yaml", config)], today=TODAY)
        engine = Engine(settings_for(tmp_path), catalog=catalog)
        await engine.start()
        try:
            ids = await submit(engine, referral_data, waiting)
            assert await eventually(lambda: engine.retries_waiting(DEST) == waiting)
            await engine.drain()
        finally:

            async def not_answering(*args: Any, **kwargs: Any) -> list[MessageRecord]:
                await asyncio.Event().wait()
                return []

            monkeypatch.setattr(Store, "pending_messages", not_answering)
            with capture_logs() as logs:
                await asyncio.wait_for(engine.stop(), 10 + HAND_BACK_LOAD_S)
        [given_up] = [e for e in logs if e["event"].startswith("retries not handed back")]
        assert (given_up["messages"], given_up["error_type"]) == (waiting, "TimeoutError")

        monkeypatch.undo()
        receiver.ack_code = "AA"
        async with rotating(tmp_path, receiver.port, retry=backoff) as again:
            assert await again.wait_settled(timeout=30)
            found = await stored(again, ids)
            assert [(m.status, m.attempt_count) for m in found] == [("delivered", 2)] * waiting
