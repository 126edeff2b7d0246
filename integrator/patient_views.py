"""Every view of patient data is audited (docs/product.md §8, docs/access.md).

One message or event in full, or a search by BSN, writes an audit entry ``patient_data.view``
*before* the answer goes out (no record, no view), whichever front door shows it (the API, the
console, the server's CLI): who (the authenticated identity), from where (``source``, the
client's address, in the details), what (the message or event id, or the search), why (the
reason the front door was given, ``integrator.stated_reason``; none when none was), and which
patient as the BSN's keyed hash (``Settings.bsn_hash``, the value ``events.bsn_hash`` holds):
never the BSN itself. Whoever reads the audit trail can ask "who looked at this patient" by
hashing the BSN with the same key, without the trail holding a list of BSNs.

The server's CLI records its views here too, as ``local:<user>`` with ``source`` None (the actor
says where): the front doors find and read through ``integrator.message_reads`` and
``integrator.event_reads``, which call these functions. An entry that cannot be written leaves
the store's error to the caller, with a note saying that nothing was shown (``NOT_SHOWN``), and
nothing is returned.

A view is something shown. An answer made for an HTTP ``HEAD`` (the API's and the console's
``integrator.http.head``) is made as its ``GET`` is, with every check and refusal, and then goes
out without its content: no patient data leaves, so no view is recorded (``headers_only``). An
entry for it would say in the trail that someone looked at a patient they never saw. The rule
is here, where every view is recorded, not in each route: whichever front door or route reads
through these functions answers a ``HEAD`` by it, including routes added later.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from integrator.access.permissions import Identity
from integrator.stated_reason import why
from integrator.store import Store, StoreError

PATIENT_DATA_VIEW: Final = "patient_data.view"
NOT_SHOWN: Final = "nothing was shown: patient data is shown only once its view is in the audit log"


class Withheld:
    """An answer made within ``headers_only``; ``patient_data`` once it would have been a view
    of patient data (its ``GET`` would have recorded one)."""

    __slots__ = ("patient_data",)

    def __init__(self) -> None:
        self.patient_data = False


_HEADERS_ONLY: Final[ContextVar[Withheld | None]] = ContextVar(
    "integrator.headers_only", default=None
)
"""Set while an answer is made that goes out without its content (``headers_only``)."""


@contextmanager
def headers_only() -> Iterator[Withheld]:
    """Within it, the answer being made goes out without its content (an HTTP ``HEAD``, RFC
    9110 §9.3.2): it is read and checked as for its ``GET``, but no view is recorded, since
    nothing is shown. A context variable, so it holds for this request alone (and the tasks it
    starts, which share the one ``Withheld``), whatever runs concurrently.

    What it yields says whether the answer would have been a view of patient data: its size
    (``Content-Length``) is then left out too (``http.head``), as RFC 9110 lets a ``HEAD`` do,
    or an unrecorded ``HEAD`` told how long a patient's record is."""
    withheld = Withheld()
    token = _HEADERS_ONLY.set(withheld)
    try:
        yield withheld
    finally:
        _HEADERS_ONLY.reset(token)


def answering_headers_only() -> bool:
    """Whether the answer being made goes out without its content (within ``headers_only``):
    for whatever else a ``GET`` would write that nobody will see (a form's one-time token)."""
    return _HEADERS_ONLY.get() is not None


async def record_view(
    store: Store,
    identity: Identity,
    target: str,
    *,
    view: str,
    bsn_hash: str | None,
    **details: Any,
) -> None:
    """Audit that ``identity`` saw patient data: ``view`` says which (``message``, ``event``,
    ``messages.search``, ``events.search``, ``deadletter``), ``target`` the id or the search.

    A store failure is raised as it was (the API still answers 503 while the store is down),
    with ``NOT_SHOWN`` added as a note, which the CLI prints after the error. Within
    ``headers_only`` (a ``HEAD``) nothing is recorded: nothing is shown. Where a reason is
    required and none was stated (``stated_reason.why``), ``ReasonNeeded`` is raised first,
    for a ``HEAD`` too, which answers with its ``GET``'s status.
    """
    reason = why()  # refused where one is required, a HEAD too: it answers as its GET
    withheld = _HEADERS_ONLY.get()
    if withheld is not None:
        withheld.patient_data = True
        return
    try:
        await store.add_audit(
            identity.display,
            PATIENT_DATA_VIEW,
            target,
            reason=reason,
            details={"view": view, "bsn_hash": bsn_hash, **details},
        )
    except StoreError as exc:
        exc.add_note(NOT_SHOWN)
        raise


async def record_search(
    store: Store,
    identity: Identity,
    search: str,
    *,
    bsn_hash: str | None,
    found: int,
    source: str | None,
) -> None:
    """Audit a search by BSN (``messages.search``, ``events.search``, ``audit.search``) with
    how many it found; a search without a BSN shows no patient's data and records nothing."""
    if bsn_hash is None:
        return
    await record_view(
        store, identity, search, view=search, bsn_hash=bsn_hash, found=found, source=source
    )
