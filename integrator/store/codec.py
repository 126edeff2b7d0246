"""Convert between records and table rows: JSON text columns and the joined message view."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, Select, select

from integrator.store.records import (
    AttemptRecord,
    AuditRecord,
    EventRecord,
    MessageRecord,
    RejectedEventRecord,
    ResendRecord,
)
from integrator.store.tables import events, messages, resends


def dump_json(value: Any) -> str:
    """Compact, UTF-8-friendly JSON; a value that is not JSON-ready is the caller's bug."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(text: str) -> Any:
    return json.loads(text)


def event_row(event: EventRecord) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "action": event.action,
        "zd_number": event.zd_number,
        "provider_id": event.provider_id,
        "received_at": event.received_at,
        "source": str(event.source),
        "payload": event.payload if isinstance(event.payload, str) else dump_json(event.payload),
        "bsn_hash": event.bsn_hash,
    }


def event_record(row: Row[Any]) -> EventRecord:
    return EventRecord(
        id=row.id,
        type=row.type,
        action=row.action,
        zd_number=row.zd_number,
        provider_id=row.provider_id,
        received_at=row.received_at,
        source=row.source,
        payload=load_json(row.payload),
        bsn_hash=row.bsn_hash,
        pruned_at=row.pruned_at,
    )


MESSAGE_COLUMNS = (
    *messages.c,
    events.c.zd_number,
    events.c.type.label("event_type"),
)


def select_messages() -> Select[Any]:
    """Messages joined with the event fields that listings show and filters search."""
    return select(*MESSAGE_COLUMNS).select_from(
        messages.join(events, messages.c.event_id == events.c.id)
    )


def message_record(row: Row[Any]) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        seq=row.seq,
        event_id=row.event_id,
        destination_id=row.destination_id,
        version=row.version,
        message_type=row.message_type,
        control_id=row.control_id,
        payload=bytes(row.payload),
        status=row.status,
        attempt_count=row.attempt_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        warnings=tuple(load_json(row.warnings)),
        is_test=bool(row.is_test),
        zd_number=row.zd_number,
        event_type=row.event_type,
        resend_of=row.resend_of,
        pruned_at=row.pruned_at,
    )


def attempt_row(attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "message_id": attempt.message_id,
        "number": attempt.number,
        "started_at": attempt.started_at,
        "duration_ms": float(attempt.duration_ms),
        "outcome": str(attempt.outcome),
        "ack_code": attempt.ack_code,
        "ack_bytes": attempt.ack_bytes,
        "error": attempt.error,
    }


def attempt_record(row: Row[Any]) -> AttemptRecord:
    return AttemptRecord(
        message_id=row.message_id,
        number=row.number,
        started_at=row.started_at,
        duration_ms=row.duration_ms,
        outcome=row.outcome,
        ack_code=row.ack_code,
        ack_bytes=None if row.ack_bytes is None else bytes(row.ack_bytes),
        error=row.error,
    )


def reason_text(reason: Sequence[Mapping[str, str]]) -> str:
    return dump_json([dict(item) for item in reason])


def rejected_record(row: Row[Any]) -> RejectedEventRecord:
    return RejectedEventRecord(
        id=row.id,
        received_at=row.received_at,
        source=row.source,
        raw=bytes(row.raw),
        reason=load_json(row.reason),
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
