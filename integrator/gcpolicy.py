"""Garbage-collector settings for the long-running engine process.

Per message the engine allocates many small container objects (pydantic models, SQLAlchemy
parameter dicts, AMQP frames, asyncio handles). With CPython's defaults a young collection runs
every 700 net allocations, and every so often a full one walks *every* tracked object, including
the hundreds of thousands that live from start-up to shutdown (modules, SQLAlchemy's compiled
statements, pydantic's validators, the hl7apy tables). That was a fifth of the engine's time
under load: ``bench/bench_rabbitmq.py`` went from about 950-995 to 1,200-1,280 delivered/s with
either change below, and both together keep the full collections small *and* rare.

- ``gc.freeze()`` moves what exists then into a permanent generation that the collector never
  walks again (garbage is collected just before). It is done twice: once before the engine
  starts (``freeze_what_exists``: the imports, the settings, the destination files, most of
  the heap), and once after (``tune_for_service``: what the start added). A full collection
  walks every object not frozen; made only after the start, it held the first events by
  33 ms here (up to 77 under load) while the intake and the delivery loops already ran, where
  after the first freeze it takes 1.5 ms.
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


def freeze_what_exists() -> None:
    """Call once before the engine starts, so that the collection after it is short."""
    gc.collect()
    gc.freeze()


def tune_for_service() -> None:
    """Call once, after start-up, in a process that runs for long (``integrator run``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
