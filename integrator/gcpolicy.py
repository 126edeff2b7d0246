"""Garbage-collector settings for the long-running engine process.

Per message the engine allocates many small container objects (pydantic models, SQLAlchemy
parameter dicts, AMQP frames, asyncio handles). With CPython's defaults a young collection runs
every 700 net allocations, and every so often a full one walks *every* tracked object, including
the hundreds of thousands that live from start-up to shutdown (modules, SQLAlchemy's compiled
statements, pydantic's validators, the hl7apy tables). That was a fifth of the engine's time
under load: ``bench/bench_rabbitmq.py`` went from about 950-995 to 1,200-1,280 delivered/s with
either change below, and both together keep the full collections small *and* rare.

- ``gc.freeze()`` after start-up moves what exists then into a permanent generation that the
  collector never walks again (start-up garbage is collected just before).
- A higher young-generation threshold makes collections rarer; each one has more to look at,
  which costs the same per object, so the total falls.

Memory is still freed at once by reference counting; only garbage in reference cycles waits a
little longer. One price: a start-up object that later ends up in cyclic garbage (a destination
runner replaced after a reload, say) is not reclaimed; that is bounded by what start-up built,
once. The bench records the engine's peak resident memory next to its throughput.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLD = 20


def tune_for_service() -> None:
    """Call once, after start-up, in a process that runs for long (``integrator run``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
