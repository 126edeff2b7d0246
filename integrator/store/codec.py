"""Convert between records and table rows: JSON text columns, the joined message view, and
sealing: every column that may hold patient data is sealed here on its way in and opened here
on its way out (``integrator.store.sealing``), bound to its row's identity."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Result, Row, Select, select

from integrator.store.records import (
    AttemptRecord,
    AuditRecord,
    EventRecord,
    MessageRecord,
    RejectedEventRecord,
    ResendRecord,
)
from integrator.store.sealing import Sealer, aad
from integrator.store.tables import events, messages, resends


def dump_json(value: Any) -> str:
    """Compact, UTF-8-friendly JSON; a value that is not JSON-ready is the caller's bug."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(text: str) -> Any:
    return json.loads(text)


def event_row(event: EventRecord, sealer: Sealer) -> dict[str, Any]:
    payload = event.payload if isinstance(event.payload, str) else dump_json(event.payload)
    return {
        "id": event.id,
        "type": event.type,
        "action": event.action,
        "zd_number": event.zd_number,
        "provider_id": event.provider_id,
        "received_at": event.received_at,
        "source": str(event.source),
        "payload": sealer.seal_text(payload, aad("events", "payload", event.id)),
        "bsn_hash": event.bsn_hash,
        "caller": event.caller,
    }


def event_record(row: Row[Any], sealer: Sealer) -> EventRecord:
    return EventRecord(
        id=row.id,
        type=row.type,
        action=row.action,
        zd_number=row.zd_number,
        provider_id=row.provider_id,
        received_at=row.received_at,
        source=row.source,
        payload=load_json(sealer.open_text(row.payload, aad("events", "payload", row.id))),
        bsn_hash=row.bsn_hash,
        pruned_at=row.pruned_at,
        caller=row.caller,
    )


MESSAGE_COLUMNS = (
    *messages.c,
    events.c.zd_number,
    events.c.type.label("event_type"),
)
_WITHOUT_PAYLOAD = tuple(c for c in MESSAGE_COLUMNS if c is not messages.c.payload)


def select_messages(*, payload: bool = True) -> Select[Any]:
    """Messages joined with the event fields that listings show and filters search.

    ``payload=False`` leaves the HL7 bytes unread (the record's ``payload`` is then ``b""``):
    a listing shows ids and states, and a thousand referrals with a PDF each, read and unsealed
    for one page, held some 2 GB in the engine."""
    columns = MESSAGE_COLUMNS if payload else _WITHOUT_PAYLOAD
    return select(*columns).select_from(messages.join(events, messages.c.event_id == events.c.id))


def message_records(rows: Result[Any], sealer: Sealer) -> list[MessageRecord]:
    """The messages of a ``select_messages`` result. Whether it holds the payload is asked of
    the result once (``select_messages(payload=False)`` leaves it out), not of every row: a
    row's ``_fields`` are made anew at each ask, which cost more than reading the rest of it
    (an export of 100,000 messages)."""
    payload = "payload" in rows.keys()  # noqa: SIM118 (``in rows`` would read the rows)
    return [_message_record(row, sealer, payload) for row in rows]


def _message_record(row: Row[Any], sealer: Sealer, payload: bool) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        seq=row.seq,
        event_id=row.event_id,
        destination_id=row.destination_id,
        version=row.version,
        message_type=row.message_type,
        control_id=row.control_id,
        payload=(
            sealer.open(bytes(row.payload), aad("messages", "payload", row.id)) if payload else b""
        ),
        status=row.status,
        attempt_count=row.attempt_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_attempt_at=row.next_attempt_at,
        last_error=open_last_error(row.last_error, row.id, sealer),
        warnings=_warnings(row.warnings),
        is_test=bool(row.is_test),
        zd_number=row.zd_number,
        event_type=row.event_type,
        resend_of=row.resend_of,
        pruned_at=row.pruned_at,
        released_at=row.released_at,
    )


def _warnings(text: str) -> tuple[str, ...]:
    """A message's warnings: nearly always none, read then without ``json.loads`` (about
    0.8 µs of every listed row)."""
    return () if text == "[]" else tuple(load_json(text))


NUL_SHOWN = "\u2400"
"""What a NUL in a receiver's words is stored as: the symbol for it (␀), seen where it was."""


def storable_error(text: str) -> str:
    """An attempt's error as the store keeps it: a receiver's ACK text (MSA-3, ERR) is quoted in
    it as sent, and may hold a NUL, which PostgreSQL keeps in no text column. Refused there,
    the attempt's row could never be written, and every destination's delivery waited behind
    it for good. Both stores keep the same text, so a message reads the same on either; the
    ACK's own bytes are kept as received (``ack_bytes``). A lone surrogate, which no UTF-8
    store takes, becomes U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", NUL_SHOWN)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def seal_last_error(text: str | None, message_id: str, sealer: Sealer) -> str | None:
    """``messages.last_error`` may quote the receiver's ACK text, so it is sealed too."""
    if text is None:
        return None
    return sealer.seal_text(storable_error(text), aad("messages", "last_error", message_id))


def open_last_error(text: str | None, message_id: str, sealer: Sealer) -> str | None:
    if text is None:
        return None
    return sealer.open_text(text, aad("messages", "last_error", message_id))


def attempt_identity(message_id: str, number: int) -> str:
    """An attempt's identity for sealing: its row id is only known after the insert."""
    return f"{message_id}/{number}"


def attempt_row(attempt: AttemptRecord, sealer: Sealer) -> dict[str, Any]:
    identity = attempt_identity(attempt.message_id, attempt.number)
    return {
        "message_id": attempt.message_id,
        "number": attempt.number,
        "started_at": attempt.started_at,
        "duration_ms": float(attempt.duration_ms),
        "outcome": str(attempt.outcome),
        "ack_code": attempt.ack_code,
        "ack_bytes": None
        if attempt.ack_bytes is None
        else sealer.seal(attempt.ack_bytes, aad("attempts", "ack_bytes", identity)),
        "error": None
        if attempt.error is None
        else sealer.seal_text(storable_error(attempt.error), aad("attempts", "error", identity)),
    }


def attempt_record(row: Row[Any], sealer: Sealer) -> AttemptRecord:
    identity = attempt_identity(row.message_id, row.number)
    return AttemptRecord(
        message_id=row.message_id,
        number=row.number,
        started_at=row.started_at,
        duration_ms=row.duration_ms,
        outcome=row.outcome,
        ack_code=row.ack_code,
        ack_bytes=None
        if row.ack_bytes is None
        else sealer.open(bytes(row.ack_bytes), aad("attempts", "ack_bytes", identity)),
        error=None
        if row.error is None
        else sealer.open_text(row.error, aad("attempts", "error", identity)),
    )


def reason_text(reason: Sequence[Mapping[str, str]]) -> str:
    return dump_json([dict(item) for item in reason])


def rejected_raw(raw: bytes, rejected_id: str, sealer: Sealer) -> bytes:
    """Rejected input is kept byte for byte, patient data and all: sealed like a payload.

    Its reason stays clear: field errors name the path and the rule, never the value.
    """
    return sealer.seal(bytes(raw), aad("rejected_events", "raw", rejected_id))


def rejected_record(row: Row[Any], sealer: Sealer) -> RejectedEventRecord:
    return RejectedEventRecord(
        id=row.id,
        received_at=row.received_at,
        source=row.source,
        raw=sealer.open(bytes(row.raw), aad("rejected_events", "raw", row.id)),
        reason=load_json(row.reason),
        zd_number=row.zd_number,
        provider_id=row.provider_id,
        caller=row.caller,
        bsn_hash=row.bsn_hash,
    )


def audit_record(row: Row[Any]) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        reason=row.reason,
        details=load_json(row.details),
        hash=row.hash,
        prev_hash=row.prev_hash,
    )


def select_resends() -> Select[Any]:
    """Resends with the new message's destination, MSH-10 and status."""
    return select(
        resends,
        messages.c.destination_id,
        messages.c.control_id,
        messages.c.status,
    ).select_from(resends.join(messages, resends.c.message_id == messages.c.id))


def resend_record(row: Row[Any]) -> ResendRecord:
    return ResendRecord(
        message_id=row.message_id,
        original_id=row.original_id,
        at=row.at,
        actor=row.actor,
        reason=row.reason,
        mode=row.mode,
        destination_id=row.destination_id,
        control_id=row.control_id,
        status=row.status,
        job_id=row.job_id,
    )
