"""Every export of a listing is audited (docs/product.md §8: "every export").

A CSV leaves the engine's control the moment it is written: whoever holds the file can pass it
on. So each export writes an audit entry *before* its first row goes out (no record, no
export): who, what was exported (``messages.csv``, ``events.csv``, ``audit.csv``), why (the
reason the front door was given, ``integrator.stated_reason``), the terms it was made with,
the page size and how many rows it held. A BSN term is recorded as its keyed hash, like a
patient-data view (``integrator.patient_views``), never as the BSN. A free-text term
(``FREE_TEXT``: the audit trail's target and actor, an event's provider, an MSH-10, a
destination) is compared whole with what the store holds, so a patient's name and birth date
typed there finds nothing; kept as typed in an entry that lasts five years and cannot be
edited, it would put patient data in the trail every admin reads. So such a term is recorded
only when the export held a row, when it equalled something the engine itself wrote;
otherwise ``NOT_KEPT`` stands in its place.

The command line's exports are written as they are read (``integrator.export_stream``), so
the rows are counted before the entry is written and an export that stops early is recorded
as such (``export.cut``); the API's and the console's (at most 1,000 rows) are built here
whole, the same bytes.

Every export takes the engine's zone (``Settings.zone``) and writes its times in it, in full
with their offset, as ``--json`` does: the same search exported from the CLI, the API or the
console gives the same file, and its times match the listing people exported it from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from datetime import tzinfo
from typing import Final

from integrator.csv_cells import csv_text
from integrator.message_reads import dead_letter_states, messages_in_sight
from integrator.presenters import iso_time
from integrator.search import to_csv
from integrator.stated_reason import why
from integrator.store import MessageFilter, MessageRecord, Store
from integrator.store.records import EventFilter, ListedEvent

EXPORTS: Final = {
    "messages": "messages.export",
    "events": "events.export",
    "audit": "audit.export",
}
"""What can be exported, and the audit action of its export."""


FREE_TEXT: Final = frozenset({"target", "actor", "provider", "control_id", "destination"})
"""Terms whose text is not checked against a form, only compared with what is stored."""
NOT_KEPT: Final = "(matched nothing: not kept)"
"""The record of a free-text term of an export that held no row: it may be typed patient
data."""


async def record_export(
    store: Store,
    actor: str,
    what: str,
    terms: Mapping[str, object | None],
    *,
    bsn_hash: str | None,
    limit: int,
    rows: int,
    offset: int = 0,
    source: str | None = None,
    after: str | int | None = None,
) -> None:
    """Audit that ``actor`` exported ``rows`` rows of ``what`` as CSV, with ``terms``.

    ``terms`` as the caller gave them; a ``bsn`` among them is left out and ``bsn_hash`` (the
    filter's keyed hash of it) recorded instead, and with no row a free-text term is
    ``NOT_KEPT``. ``source`` is the client's address when the export came through the HTTP API
    or the console. ``after``: the id of the item the page started after (the API's paging),
    recorded when given.
    """
    given = {
        name: NOT_KEPT if name in FREE_TEXT and not rows else value
        for name, value in terms.items()
        if value is not None and name != "bsn"
    }
    if bsn_hash is not None:
        given["bsn_hash"] = bsn_hash
    details: dict[str, object] = {
        "terms": given,
        "limit": limit,
        "offset": offset,
        "rows": rows,
        "format": "csv",
    }
    if source is not None:  # the CLI on the server names no address: its actor says where
        details["source"] = source
    if after is not None:
        details["after"] = after
    await store.add_audit(actor, EXPORTS[what], f"{what}.csv", reason=why(), details=details)


@dataclasses.dataclass(frozen=True, slots=True)
class ExportPage:
    """A page of an export: the file, and its rows' ids in order (the last is where the next
    page starts, as ``after``)."""

    text: str
    ids: tuple[str | int, ...]


async def export_messages(
    store: Store,
    flt: MessageFilter,
    *,
    actor: str,
    terms: Mapping[str, object | None],
    limit: int,
    zone: tzinfo,
    source: str | None = None,
    offset: int = 0,
    after: MessageRecord | None = None,
) -> ExportPage:
    """The messages ``flt`` finds (newest first, at most ``limit``) as the reports' CSV
    (``search.to_csv``: identifiers only, no BSN); audited before it is returned, the same
    whichever front door asked (``integrator messages list --csv``, the console). How many
    match in all, for a front door to say when the file holds fewer: ``Store.count_messages``.

    One page of the listing's order: ``offset`` rows on, or those
    after the message ``after`` (``message_service.page_start``), both recorded."""
    found = await messages_in_sight(
        store,
        await store.list_messages(flt, limit=limit, offset=offset, after=after, payloads=False),
        flt.destination_ids,
    )
    await record_export(
        store,
        actor,
        "messages",
        terms,
        bsn_hash=flt.bsn_hash,
        limit=limit,
        rows=len(found),
        offset=offset,
        source=source,
        after=None if after is None else after.id,
    )
    text = to_csv(found, zone, await dead_letter_states(store, found))
    return ExportPage(text, tuple(m.id for m in found))


EVENT_CSV_COLUMNS: Final = (
    "event_id",
    "zd_number",
    "event_type",
    "action",
    "provider",
    "received_at",
    "source",
    "messages",
    "caller",
    "pruned_at",
)
"""An event listing's columns: identifiers and routing facts, never patient data (``messages``
0 is an unrouted event, or one pruned unrouted past its period; ``caller`` empty for one
accepted before callers were kept). ``caller`` last: a report reading the columns before it
by position reads them still; ``pruned_at`` (when retention emptied its JSON, empty while it
is kept) after it, for the same reason: with ``messages`` 0 it names a referral no hospital
got whose content is gone, which only upstream can send again."""


async def export_events(
    store: Store,
    flt: EventFilter,
    *,
    actor: str,
    terms: Mapping[str, object | None],
    limit: int,
    zone: tzinfo,
    source: str | None = None,
    offset: int = 0,
    after: ListedEvent | None = None,
) -> ExportPage:
    """The events ``flt`` finds (newest first, at most ``limit``) as CSV
    (``EVENT_CSV_COLUMNS``); audited before it is returned, as ``export_messages``.

    One page of the listing's order: ``offset`` rows on, or those
    after the event ``after`` (``event_reads.page_start``), both recorded."""
    found = await store.list_events(flt, limit=limit, offset=offset, after=after)
    await record_export(
        store,
        actor,
        "events",
        terms,
        bsn_hash=flt.bsn_hash,
        limit=limit,
        rows=len(found),
        offset=offset,
        source=source,
        after=None if after is None else after.id,
    )
    return ExportPage(events_csv(found, zone), tuple(e.id for e in found))


def events_csv(events: Iterable[ListedEvent], zone: tzinfo | None = None) -> str:
    """Events as CSV (``EVENT_CSV_COLUMNS``), times in ``zone`` if given, written with
    ``csv_cells.csv_text``: the provider is whatever string the sender wrote, and a value a
    spreadsheet would run as a formula gets a leading apostrophe."""
    return csv_text(EVENT_CSV_COLUMNS, event_cells(events, zone))


def event_cells(
    events: Iterable[ListedEvent], zone: tzinfo | None = None
) -> Iterator[list[object]]:
    """The cells of ``events_csv``'s rows: one rule for the whole file and for an export
    written page by page (``integrator.export_stream``)."""
    for e in events:
        yield [
            e.id,
            e.zd_number,
            e.type,
            e.action,
            e.provider_id,
            iso_time(e.received_at, zone),
            e.source,
            e.message_count,
            e.caller or "",
            "" if e.pruned_at is None else iso_time(e.pruned_at, zone),
        ]
