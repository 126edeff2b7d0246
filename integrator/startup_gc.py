"""The garbage collector held off while an ``integrator`` process imports, on when its work begins.

Starting a command imports some 260,000 objects that live as long as the process (modules,
classes, functions, SQLAlchemy's and pydantic's structures). CPython's collector, seeing the
heap grow, scanned it again and again meanwhile: about a fifth of the CPU a command or an
engine spends importing (0.2-0.35 s of 1.4-1.8 s; bench/results/perf.md, "Thirty-sixth
session"). And once the engine ran, each full collection scanned all of them again (a full
``gc.collect()`` of them: 0.13-0.18 s, the event loop stopped meanwhile), though none of them
will ever be garbage.

So the command's entry point holds the collector (:func:`hold`) and the CLI releases it where
the command's work begins, as its event loop starts (:func:`release`): what exists by then is
frozen (``gc.freeze``: left out of every later collection, as it would never be collected) and
the collector runs as before for what the work makes. The import's own garbage (some 2,000
objects, freed by no collection meanwhile) is frozen with it, once. A command that ends without
an event loop (``--help``, a refused argument) ends with the collector held: it makes little.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """Stop collecting until :func:`release`; nothing when the collector is off already."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Freeze what exists and collect again, when :func:`hold` stopped it; else nothing (an
    in-process caller, a test, keeps its collector as it has it)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
