"""Stage marks for ``bench/latency_stages.py``: imported at start-up by every Python process
that has this directory first on ``PYTHONPATH``, it wraps a few engine methods in the
``integrator run`` processes only, to write when each message passed each stage.

Not part of the engine: the wrapped methods are private to it and may change; the bench then
says which stage it could not see. The marks are wall-clock times (``time.time``), so they
compare with the store's times and across processes; each process appends its marks to
``$BENCH_STAGES_DIR/stages-<pid>.jsonl`` every few thousand and at exit.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from typing import Any

OUT = os.environ.get("BENCH_STAGES_DIR", "")
_marks: list[tuple[str, str, float]] = []


def _flush() -> None:
    if _marks:
        with open(os.path.join(OUT, f"stages-{os.getpid()}.jsonl"), "a") as out:
            out.writelines(json.dumps(m) + "\n" for m in _marks)
        _marks.clear()


def _mark(stage: str, ids: list[str]) -> None:
    now = time.time()
    _marks.extend((stage, i, now) for i in ids)
    if len(_marks) > 5000:
        _flush()


def _install() -> None:
    from integrator import intake
    from integrator.store import store
    from integrator.transport import rabbitmq

    prepare_all = intake.prepare_all  # type: ignore[attr-defined]

    def _prepare_all(*args: Any, **kwargs: Any) -> Any:
        # Intake prepares a chunk of a few events at once: each message marked when its
        # chunk is done (at most ``intake.YIELD_EVERY`` events' work later than its own).
        prepared = prepare_all(*args, **kwargs)
        _mark("prepared", [m.id for p in prepared for m in p.messages])
        return prepared

    accept = store.Store.accept_events

    async def accept_events(self: Any, batch: Any, *args: Any, **kwargs: Any) -> Any:
        ids = [m.id for _, messages in batch for m in messages]
        _mark("committing", ids)
        accepted = await accept(self, batch, *args, **kwargs)
        _mark("committed", ids)
        return accepted

    publish = rabbitmq.RabbitMQTransport.publish

    async def publish_(self: Any, messages: Any, *, written: Any = None) -> None:
        _mark("publishing", [m.message_id for m in messages])
        await publish(self, messages, written=written)
        _mark("confirmed", [m.message_id for m in messages])

    inbound = rabbitmq._Inbound.__init__

    def inbound_(self: Any, *args: Any, **kwargs: Any) -> None:
        inbound(self, *args, **kwargs)
        _mark("consumed", [self.message.message_id])

    receive = rabbitmq.RabbitMQTransport.receive

    async def receive_(self: Any, destination_id: str) -> Any:
        delivery = await receive(self, destination_id)
        _mark("handed out", [delivery.message.message_id])
        return delivery

    intake.prepare_all = _prepare_all  # type: ignore[attr-defined]
    store.Store.accept_events = accept_events  # type: ignore[method-assign]
    rabbitmq.RabbitMQTransport.publish = publish_  # type: ignore[method-assign]
    rabbitmq._Inbound.__init__ = inbound_  # type: ignore[method-assign]
    rabbitmq.RabbitMQTransport.receive = receive_  # type: ignore[method-assign]
    atexit.register(_flush)


if OUT and "run" in sys.argv:  # an ``integrator run`` engine process, nothing else
    _install()
