"""Why someone looks at patient data or exports a listing: the "why" of docs/product.md §8.

The audit trail records who, when, from where, what and why for every view of patient data and
every export. The first four the engine knows itself; the why only the person can say. Each
front door takes it where its people already give one, and states it here once for the work it
is about to do:

- the HTTP API: the ``X-Integrator-Reason`` header of any request (``integrator.http.app``),
  the same header a change or a revocation gives its reason in;
- the console: the reason the person gave for their session (asked once, changed any time,
  shown on every page), kept with the session in the store;
- the server's command line: ``--reason`` on each command that shows patient data or exports.

``integrator.patient_views.record_view`` and ``integrator.exports.record_export`` read it when
they write their entry, so no service between a door and the entry carries it: a context
variable, bound once at the door and carried through whatever the request runs (as structlog
binds a request's context), including the tasks it starts. A door states a reason, or none, for
every request it answers, so nothing one request stated is left for the next.

A stated reason obeys the rules every reason does (``integrator.reasons.bounded``): at most
``MAX_REASON`` characters and no BSN written out, since it stays in the trail for years, read
by people who may not see patient data. A door checks it before anything is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final

_STATED: Final[ContextVar[str | None]] = ContextVar("integrator.stated_reason", default=None)


def state(reason: str | None) -> None:
    """Bind ``reason`` (None: none given) for the rest of the request being answered: for a
    door that answers each request in a task of its own (the API, the console), which sets it
    first thing for every request, given or not."""
    _STATED.set(reason or None)


@contextmanager
def stating(reason: str | None) -> Iterator[None]:
    """Within it, ``reason`` is what was stated (the command line, tests); as it was after."""
    token = _STATED.set(reason or None)
    try:
        yield
    finally:
        _STATED.reset(token)


def stated() -> str | None:
    """The reason the door stated for the work being done, or None when none was given."""
    return _STATED.get()
