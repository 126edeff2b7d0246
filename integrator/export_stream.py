"""CLI CSV exports written as they are read: memory stays flat whatever the selection's size.

``messages list --csv --limit 100000`` built its file whole before writing a byte (266 MiB
peak for 100,000 rows, about 1.7 KiB a row). Here the rows are read from the store a page at
a time (``PAGE``), on the listing's own order with a keyset (``Store.list_messages(after=)``,
``list_events(after=)``, ``list_audit(before_id=)``), and each page is written before the
next is read. The bytes are those of the whole-file exports (``csv_cells.csv_lines``, the same
cells as ``search.to_csv``, ``exports.events_csv``, ``audit.audit_csv``).

The audit rule stays "no record, no export" (``exports``): the entry is written before the
first row, and it says how many rows the file will hold, counted first and capped by the
limit; no more than that is ever written. A file can still end short: the store fails midway,
or stdout closes early (``| head``). Then a second entry, ``export.cut``, says how many rows
did go out, of how many, naming the first entry and why: the trail never claims rows that were
not written without saying so next to it. When even that entry cannot be written (the store
is gone), ``ExportCut`` says so, and the first entry then claims more than went out: the
trail errs on the side of "more may have left", never less.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from datetime import tzinfo
from typing import Final

from integrator.csv_cells import csv_lines, csv_rows_text
from integrator.exports import EXPORTS, record_export
from integrator.store import MessageFilter, Store
from integrator.store.records import AuditFilter, EventFilter

PAGE: Final = 1_000
"""Rows read per query: a page's records and its text are all an export holds at a time."""

CUT_ACTION: Final = "export.cut"
"""The audit action of an export that ended before its last row."""

REASON_MAX: Final = 300
"""An audit reason is read by people: a store's error is cut to this many characters."""

Pages = AsyncGenerator[Sequence[Sequence[object]], None]
"""An export's rows, a page of cells at a time."""


class ExportCut(Exception):
    """An export ended before its last row: what went out, of what, why, and what the audit
    trail says of it. The file written is incomplete.

    ``interrupted``: Ctrl-C stopped it (SIGINT, which cancels the command's task), not a
    failure: the command then exits as a shell reports a process SIGINT ended (130), so a
    script tells "I stopped it" from "it broke"."""

    def __init__(self, text: str, *, interrupted: bool = False) -> None:
        super().__init__(text)
        self.interrupted = interrupted


@dataclasses.dataclass(frozen=True, slots=True)
class Planned:
    """One export: what (``exports.EXPORTS``), its columns, how many rows it will hold (for
    the audit entry written before the first one) and its rows."""

    what: str
    header: Sequence[str]
    rows: int
    pages: Pages


async def write_export(
    store: Store,
    planned: Planned,
    *,
    actor: str,
    terms: Mapping[str, object | None],
    bsn_hash: str | None,
    limit: int,
    write: Callable[[str], object],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Audit ``planned`` and write it through ``write`` a page at a time; the rows written.

    At most ``planned.rows`` rows go out. Fewer (the selection shrank meanwhile) or a failure
    on the way (the store, ``write``): ``export.cut`` is recorded, and a failure is raised
    again as ``ExportCut``. ``progress`` is told the rows written after each page."""
    await record_export(
        store, actor, planned.what, terms, bsn_hash=bsn_hash, limit=limit, rows=planned.rows
    )
    written = 0
    # The header goes out with the first page, in one write: a pipe then fills as it would with
    # the whole file, rather than behind a 60-byte write of its own.
    header = "".join(csv_lines(planned.header, ()))
    try:
        async with aclosing(planned.pages) as pages:
            async for page in pages:
                take = page[: planned.rows - written]
                text = header + csv_rows_text(take)
                try:
                    write(text)
                except Exception as exc:  # part of the page may have gone out
                    sent = getattr(exc, "written", None)  # ``cli.output.OutputNotWritten``
                    if isinstance(sent, int):
                        written += rows_begun(text, len(header), sent)
                    raise
                header = ""
                written += len(take)
                if progress is not None:
                    progress(written)
                if written >= planned.rows:
                    break
        if header:  # nothing matched: the header alone, as the whole file was
            write(header)
    except (Exception, KeyboardInterrupt, asyncio.CancelledError) as exc:  # Ctrl-C: cancelled
        why = _reason(exc)
        said = await _record_cut(store, actor, planned, written, why)
        raise ExportCut(
            f"export stopped after {written:,} of {planned.rows:,} rows ({why}): the file is "
            f"incomplete; {said}",
            interrupted=_interrupted(exc),
        ) from exc
    if written < planned.rows:  # complete as the store now stands: fewer matched by the end
        await _record_cut(store, actor, planned, written, "fewer rows matched by the end")
    return written


def rows_begun(text: str, header: int, sent: int) -> int:
    """How many rows of ``text`` (after ``header`` characters of header) went out in its first
    ``sent`` bytes, whole or begun: a row cut midway has shown its first cells, so it counts.
    A cell holding a line break counts as two: the trail may say more went out, never less."""
    out = text.encode("utf-8", "replace")[:sent]
    rows = out[len(text[:header].encode("utf-8", "replace")) :]
    return rows.count(b"\n") + (1 if rows and not rows.endswith(b"\n") else 0)


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C: ``KeyboardInterrupt``, or the cancellation ``asyncio.Runner`` makes of it."""
    return isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)


def _reason(exc: BaseException) -> str:
    """Why an export stopped, in words fit for stderr and the trail: never a row's content."""
    if _interrupted(exc):
        return "interrupted"
    cause = getattr(exc, "cause", None)  # ``cli.output.OutputNotWritten``: the system's words
    if isinstance(cause, OSError):
        return "stdout refused the rest: " + (cause.strerror or type(cause).__name__)
    return (str(exc) or type(exc).__name__)[:REASON_MAX]


async def _record_cut(store: Store, actor: str, planned: Planned, written: int, why: str) -> str:
    """Record that ``planned`` ended with ``written`` rows; what the trail says, for stderr."""
    try:
        await store.add_audit(
            actor,
            CUT_ACTION,
            f"{planned.what}.csv",
            reason=why,
            details={"export": EXPORTS[planned.what], "rows": written, "of": planned.rows},
        )
    except Exception as exc:  # the store that failed the export may fail this too
        return (
            f"the audit entry records {planned.rows:,} rows and the correction could not be "
            f"recorded ({exc})"
        )
    return f"recorded in the audit log ({CUT_ACTION}: {written:,} of {planned.rows:,} rows)"


async def message_pages(
    store: Store, flt: MessageFilter, zone: tzinfo, page: int = PAGE
) -> AsyncGenerator[Sequence[Sequence[object]], None]:
    """``exports.export_messages``'s rows, a page at a time, newest first."""
    from integrator.message_reads import dead_letter_states, messages_in_sight
    from integrator.search import csv_cells

    after = None
    while True:
        found = await store.list_messages(flt, limit=page, payloads=False, after=after)
        if not found:
            return
        after = found[-1]
        shown = await messages_in_sight(store, found, flt.destination_ids)
        yield list(csv_cells(shown, zone, await dead_letter_states(store, shown)))


async def event_pages(
    store: Store, flt: EventFilter, zone: tzinfo, page: int = PAGE
) -> AsyncGenerator[Sequence[Sequence[object]], None]:
    """``exports.export_events``'s rows, a page at a time, newest first."""
    from integrator.exports import event_cells

    after = None
    while True:
        found = await store.list_events(flt, limit=page, after=after)
        if not found:
            return
        after = found[-1]
        yield list(event_cells(found, zone))


async def audit_pages(
    store: Store, flt: AuditFilter, zone: tzinfo, *, below: int, page: int = PAGE
) -> AsyncGenerator[Sequence[Sequence[object]], None]:
    """``audit.audit_csv``'s rows, a page at a time, newest first, of the entries older than
    ``below``: the trail grows while it is exported (by the export's own entry, first)."""
    from integrator.audit import audit_cells

    before = below
    while True:
        found = await store.list_audit(flt, limit=page, before_id=before)
        if not found:
            return
        before = found[-1].id
        yield list(audit_cells(found, zone))
