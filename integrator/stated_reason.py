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

``integrator.patient_views.record_view`` and ``integrator.exports.record_export`` ask for it
(``why``) when they write their entry, so no service between a door and the entry carries it: a
context variable, bound once at the door and carried through whatever the request runs (as
structlog binds a request's context), including the tasks it starts. Every HTTP request begins
with nothing stated and ends putting back what was (``integrator.http.reason_scope``), and the
console states its session's reason, or none, for every request, so nothing one request stated
is left for the next.

With ``INTEGRATOR_REASON_REQUIRED`` set, a view or export without one is refused
(``ReasonNeeded``) before its entry is written and so before anything is shown: the door says
whether one is required, and how its people give it (``named``), so that the refusal names the
header, the option or the console's question. Without it (the default) a view without a reason
is recorded with none, and ``audit summary`` counts those per person.

A stated reason obeys the rules every reason does (``integrator.reasons.bounded``): at most
``MAX_REASON`` characters and no BSN written out, since it stays in the trail for years, read
by people who may not see patient data. A door checks it before anything is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Final

from integrator.errors import PermanentError

NEEDED: Final = (
    "required: say why you look at patient data or export it (it goes into the audit trail; "
    "this engine is set to ask: INTEGRATOR_REASON_REQUIRED)"
)
"""The rule a view or export without a reason breaks where one is required."""

NEEDED_CODE: Final = "reason.needed"
"""Its refusal code (``integrator.refusal``): the console asks for the session's reason."""


@dataclass(frozen=True, slots=True)
class Stated:
    """What a door stated: the reason (None: none given), whether one is required, and how
    its people give one (``named``: ``X-Integrator-Reason``, ``--reason``)."""

    reason: str | None = None
    required: bool = False
    named: str = "reason"


_NONE: Final = Stated()
"""Nothing stated (a frozen dataclass, so one default serves every context)."""
_STATED: Final[ContextVar[Stated]] = ContextVar("integrator.stated_reason", default=_NONE)


class ReasonNeeded(PermanentError):
    """A view of patient data or an export without a reason, where one is required: nothing
    was shown. The text names how the door takes one (``--reason: required: …``)."""

    exit_code = 2

    def __init__(self, named: str) -> None:
        self.named = named
        super().__init__(f"{named}: {NEEDED}")


def given(reason: str | None) -> str | None:
    """``reason`` without its outer blanks, or None for one that says nothing: a blank reason
    is none, at every door (the console's form strips it; ``--reason " "`` and a header of
    spaces must neither satisfy a required reason nor escape the count of those without)."""
    return (reason or "").strip() or None


def state(reason: str | None, *, required: bool = False, named: str = "reason") -> None:
    """Bind ``reason`` (None: none given) for the rest of the request being answered: for a
    door that answers each request in a task of its own (the API, the console), which sets it
    first thing for every request, given or not (``http.reason_scope`` puts the one before
    back after it)."""
    _STATED.set(Stated(given(reason), required, named))


@contextmanager
def stating(
    reason: str | None, *, required: bool | None = None, named: str | None = None
) -> Iterator[None]:
    """Within it, ``reason`` is what was stated (the command line, tests); as it was after.
    ``required`` and ``named`` not given: as stated already."""
    now = _STATED.get()
    token = _STATED.set(
        Stated(
            given(reason),
            now.required if required is None else required,
            now.named if named is None else named,
        )
    )
    try:
        yield
    finally:
        _STATED.reset(token)


def fresh() -> Token[Stated]:
    """Nothing stated, from here until ``put_back(token)``: for a request's outermost layer
    (``http.reason_scope``), which ``stating`` would serve as well at a few microseconds more
    on every request the engine answers."""
    return _STATED.set(_NONE)


def put_back(token: Token[Stated]) -> None:
    """What was stated before ``fresh`` gave ``token``."""
    _STATED.reset(token)


def stated() -> str | None:
    """The reason the door stated for the work being done, or None when none was given."""
    return _STATED.get().reason


def why() -> str | None:
    """The reason to record with a view or an export: ``stated()``, or ``ReasonNeeded``
    raised when none was given where one is required."""
    now = _STATED.get()
    if now.reason is None and now.required:
        raise ReasonNeeded(now.named).coded(NEEDED_CODE)
    return now.reason
