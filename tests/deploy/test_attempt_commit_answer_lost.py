"""A write of attempts that committed while its answer was lost is not recorded twice.

Found by a chaos soak of two engines on RabbitMQ and PostgreSQL with the engines' connections
to PostgreSQL cut now and then: twice in 10,688 messages, a cut fell between the server's
commit of a batch of attempts and its answer. The recorder saw the write fail (`08003`, the
server closed the connection), tried the same batch again once the store was back, and the
message's history showed its one delivery as two attempts #1, with the same start and
duration (`messages show`, the API, the console), while its `attempt_count` said 1. Now a
try after a failed one passes over the attempts stored already (``record_attempts(again=)``).

Here the store is a real PostgreSQL behind a proxy that lets the write through and drops the
server's answer to it, closing the connection, as a cut at that moment does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from destinations.worker import AttemptResult
from integrator import recorder as recorder_module
from integrator.recorder import AttemptRecorder
from integrator.store import AttemptRecord, Store
from tests.deploy.proxy import CuttableProxy
from tests.services import POSTGRES_HOST, POSTGRES_PORT
from tests.store.factories import T0, make_event, make_message

pytestmark = [pytest.mark.postgres]


class AnswerLosingProxy(CuttableProxy):
    """``lose_next_answer``: the next bytes the server sends (the answer to what the client
    wrote last, which the server has done) are dropped, and both sides of every connection
    closed: the client sees the server go, after its statement took effect."""

    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__(target_host, target_port)
        self.lose_next_answer = False
        self.answers_lost = 0

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool = False
    ) -> None:
        if upstream:
            await super()._pipe(src, dst, upstream)
            return
        try:
            while data := await src.read(65536):
                if self.lose_next_answer:
                    self.lose_next_answer = False
                    self.answers_lost += 1
                    for writer in list(self._writers):
                        writer.transport.abort()
                    return
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(dst)
            dst.close()


@pytest.fixture
async def proxy() -> AsyncIterator[AnswerLosingProxy]:
    losing = AnswerLosingProxy(POSTGRES_HOST, POSTGRES_PORT)
    await losing.start()
    yield losing
    await losing.close()


def _delivered(message_id: str, number: int, started_after_s: float) -> AttemptResult:
    return AttemptResult(
        message_id=message_id,
        number=number,
        started_at=T0 + timedelta(seconds=started_after_s),
        duration_ms=3.0,
        outcome="delivered" if number > 1 else "retry",
        ack_code="AA" if number > 1 else "AE",
        ack_bytes=b"MSA|AA|x\r" if number > 1 else b"MSA|AE|x\r",
        error=None if number > 1 else "ACK AE",
        status="delivered" if number > 1 else "retrying",
        next_attempt_at=None if number > 1 else T0 + timedelta(seconds=1),
    )


async def test_a_batch_committed_before_its_answer_was_lost_is_recorded_once(
    pg_database: str, proxy: AnswerLosingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "RETRY_DELAY", 0.05)
    store = await Store.open(f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/{pg_database}")
    recorder = AttemptRecorder(store)
    try:
        first, second = make_message(), make_message()
        await store.accept_event(make_event(), [first, second])
        recorder.start()
        # A first write on the recorder's kept connection: its statement is prepared there, so
        # the next write is one exchange, whose answer comes after the commit.
        await recorder.record(_delivered(first.id, 1, 0.0))
        await asyncio.wait_for(recorder.drain(), 10)

        proxy.lose_next_answer = True
        await recorder.record(_delivered(first.id, 2, 2.0))
        await recorder.record(_delivered(second.id, 1, 2.5))
        await asyncio.wait_for(recorder.drain(), 20)  # tried again once the store answered
        assert proxy.answers_lost == 1

        history = await store.attempts_of([first.id, second.id])
        message = await store.get_message(first.id)
        other = await store.get_message(second.id)
    finally:
        await recorder.close(within=5)
        await store.close()
    assert [_seen(a) for a in history[first.id]] == [(1, "retry"), (2, "delivered")]
    assert [_seen(a) for a in history[second.id]] == [(1, "retry")]
    assert message is not None and other is not None
    assert (message.status, message.attempt_count) == ("delivered", 2)
    assert (other.status, other.attempt_count) == ("retrying", 1)


async def test_a_batch_written_again_passes_over_what_is_stored_and_writes_the_rest(
    pg_database: str,
) -> None:
    """The store's side alone: of a batch written again, the attempts stored already change
    nothing (neither their rows nor their message), and those missing are written."""
    store = await Store.open(
        f"postgresql+asyncpg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{pg_database}"
    )
    try:
        message = make_message()
        await store.accept_event(make_event(), [message])
        retry = _delivered(message.id, 1, 0.0)
        done = _delivered(message.id, 2, 2.0)
        stored = (_record(retry), retry.status, retry.next_attempt_at, retry.error)
        await store.record_attempts([stored])
        missing = (_record(done), done.status, done.next_attempt_at, done.error)
        await store.record_attempts([stored, missing], again=True)
        await store.record_attempts([stored, missing], again=True)
        history = await store.list_attempts(message.id)
        after = await store.get_message(message.id)
    finally:
        await store.close()
    assert [_seen(a) for a in history] == [(1, "retry"), (2, "delivered")]
    assert after is not None
    assert (after.status, after.attempt_count) == ("delivered", 2)


def _record(result: AttemptResult) -> AttemptRecord:
    return AttemptRecord(
        message_id=result.message_id,
        number=result.number,
        started_at=result.started_at,
        duration_ms=result.duration_ms,
        outcome=result.outcome,
        ack_code=result.ack_code,
        ack_bytes=result.ack_bytes,
        error=result.error,
    )


def _seen(attempt: AttemptRecord) -> tuple[int, str]:
    return (attempt.number, str(attempt.outcome))
