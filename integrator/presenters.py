"""Plain-data views of store records and the registry, shared by the CLI (``--json``) and the API.

One shape for both, so a script written against ``integrator messages list --json`` can move to
``GET /api/v1/messages`` unchanged.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from integrator.catalog import Catalog
from integrator.hl7view import decode_message
from integrator.store import AttemptRecord, MessageRecord
from mappings.registry import REGISTRY


def message_summary(m: MessageRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "event_id": m.event_id,
        "event_type": m.event_type,
        "zd_number": m.zd_number,
        "destination": m.destination_id,
        "version": m.version,
        "message_type": m.message_type,
        "control_id": m.control_id,
        "status": m.status,
        "attempts": m.attempt_count,
        "created_at": m.created_at.isoformat(),
        "updated_at": m.updated_at.isoformat(),
        "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
        "last_error": m.last_error,
        "warnings": list(m.warnings),
        "test": m.is_test,
    }


def attempt_view(a: AttemptRecord) -> dict[str, Any]:
    return {
        "number": a.number,
        "started_at": a.started_at.isoformat(),
        "duration_ms": round(a.duration_ms, 3),
        "outcome": a.outcome,
        "ack_code": a.ack_code,
        "ack": _text(a.ack_bytes),
        "error": a.error,
    }


def message_detail(m: MessageRecord, attempts: list[AttemptRecord]) -> dict[str, Any]:
    detail = message_summary(m)
    detail["hl7"] = decode_message(m.payload)
    detail["attempt_history"] = [attempt_view(a) for a in attempts]
    return detail


def _text(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data).decode("ascii")


def versions_table(today: date, catalog: Catalog | None) -> list[dict[str, Any]]:
    rows = []
    for version in REGISTRY.values():
        users = sorted(
            d.id
            for d in (catalog.destinations.values() if catalog else ())
            if version.name in d.messages.values()
        )
        rows.append(
            {
                "name": version.name,
                "event_type": version.event_type,
                "hl7_version": version.hl7_version,
                "message_type": version.message_type_new,
                "charset": version.charset,
                "status": version.status_on(today),
                "deprecated_since": _iso(version.deprecated_since),
                "sunset": _iso(version.sunset),
                "successor": version.successor,
                "destinations": users,
            }
        )
    return rows


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
