"""Garbage-collector settings: for every ``integrator`` process while it imports, and for the
long-running engine process.

**While a command imports** (``hold_for_imports``, ``release_after_imports``): starting one
imports some 260,000 objects that live as long as the process, and the collector, seeing the
heap grow, scanned it again and again meanwhile: about a fifth of a command's start-up CPU
(bench/results/perf.md, "Thirty-sixth session"). The entry point holds the collector and the
CLI releases it where the command's work begins, as its event loop starts: what exists then is
frozen (the imports' own garbage, some 2,000 objects, with it, once) and collections run as
before for what the work makes. A command that ends before its loop (``--help``) ends held.

**The engine**: per message the engine allocates many small container objects (pydantic models,
SQLAlchemy parameter dicts, AMQP frames, asyncio handles). With CPython's defaults a young
collection runs every 700 net allocations, and every so often a full one walks *every* tracked
object, including the hundreds of thousands that live from start-up to shutdown (modules,
SQLAlchemy's compiled statements, pydantic's validators, the hl7apy tables). That was a fifth of
the engine's time under load: ``bench/bench_rabbitmq.py`` went from about 950-995 to 1,200-1,280
delivered/s with either change below, and both together keep the full collections small *and*
rare.

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


_held = False


def hold_for_imports() -> None:
    """At a command's entry point: no collection until ``release_after_imports``; nothing when
    the collector is off already."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_after_imports() -> None:
    """Where the command's work begins: freeze what exists (no ``gc.collect`` first: a full
    walk of the imports, 0.13-0.18 s, for 2,000 objects) and collect again, when
    ``hold_for_imports`` stopped it; else nothing (an in-process caller, a test, keeps its
    collector as it has it)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
