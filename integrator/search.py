"""Turning support staff's search terms into a store filter, and listings into CSV.

The BSN is hashed here with the engine's search key (``Settings.bsn_hash``), so the store, its
queries and its logs only ever see the hash. Periods are read in the engine's time zone: a date
means that whole local day (``--until 2026-11-27`` includes the 27th).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from integrator.settings import Settings
from integrator.store import MessageFilter, MessageRecord, MessageStatus

CSV_COLUMNS = (
    "message_id",
    "event_id",
    "zd_number",
    "event_type",
    "destination",
    "version",
    "message_type",
    "control_id",
    "status",
    "attempts",
    "created_at",
    "updated_at",
    "last_error",
    "resend_of",
)
"""No BSN and no name: the export is for reports, identifiers and delivery facts only."""


class BadSearch(ValueError):
    """A search term that cannot be used; the text names the term, never a patient value."""


def parse_moment(text: str, settings: Settings, *, end: bool = False) -> datetime:
    """An ISO date or date-time; without a zone it is local time. ``end``: a date's next day."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time(), tzinfo=settings.zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadSearch(
            f"{value!r} is not an ISO date (2026-11-27) or date-time (2026-11-27T09:30)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.zone)
    return moment


def build_filter(
    settings: Settings,
    *,
    zd_number: str | None = None,
    event_id: str | None = None,
    control_id: str | None = None,
    destination: str | None = None,
    status: str | None = None,
    version: str | None = None,
    event_type: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    bsn: str | None = None,
) -> MessageFilter:
    if status is not None and status not in {s.value for s in MessageStatus}:
        raise BadSearch(
            f"unknown status {status!r}; one of {', '.join(s.value for s in MessageStatus)}"
        )
    if bsn is not None and not (bsn.strip().isdigit() and len(bsn.strip()) == 9):
        raise BadSearch("a BSN has exactly 9 digits")
    since_at = parse_moment(since, settings) if isinstance(since, str) else since
    until_at = parse_moment(until, settings, end=True) if isinstance(until, str) else until
    for name, moment in (("since", since_at), ("until", until_at)):
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=settings.zone)
            if name == "since":
                since_at = moment
            else:
                until_at = moment
    return MessageFilter(
        zd_number=zd_number or None,
        event_id=event_id or None,
        destination_id=destination or None,
        status=status or None,
        version=version or None,
        control_id=control_id or None,
        since=since_at,
        until=until_at,
        event_type=event_type or None,
        bsn_hash=settings.bsn_hash(bsn) if bsn else None,
    )


def csv_row(m: MessageRecord) -> dict[str, Any]:
    return {
        "message_id": m.id,
        "event_id": m.event_id,
        "zd_number": m.zd_number,
        "event_type": m.event_type,
        "destination": m.destination_id,
        "version": m.version,
        "message_type": m.message_type,
        "control_id": m.control_id,
        "status": m.status,
        "attempts": m.attempt_count,
        "created_at": m.created_at.isoformat(),
        "updated_at": m.updated_at.isoformat(),
        "last_error": m.last_error or "",
        "resend_of": m.resend_of or "",
    }


def to_csv(messages: Iterable[MessageRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for m in messages:
        writer.writerow(csv_row(m))
    return out.getvalue()
