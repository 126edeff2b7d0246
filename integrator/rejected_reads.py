"""Rejected input: what arrived, failed validation and was kept, for support to look at.

Intake keeps every refused body byte for byte with why (``Store.reject_event``), and its
answer names the id (``kept as rejected event …``); over RabbitMQ that id is only in the
engine's log. A listing shows when, from where, how large and which rules it broke (field paths
and rules, never values), and holds no patient data. One body in full may (it is what a GP's
system sent), so reading it is recorded as a view of patient data (``patient_data.view``, view
``rejected``) before it is returned, as a message or event in full is. The view has no BSN
hash: the body failed validation, so its BSN may be missing or malformed.
"""

from __future__ import annotations

from typing import Any

from integrator.access.permissions import Identity
from integrator.patient_views import record_view
from integrator.store import Store
from integrator.store.records import RejectedEventRecord


def rejected_summary(record: RejectedEventRecord) -> dict[str, Any]:
    """What a listing shows of rejected input: no byte of the body itself."""
    return {
        "id": record.id,
        "received_at": record.received_at,
        "source": record.source,
        "bytes": len(record.raw),
        "problems": [f"{r.get('path') or '$'}: {r.get('rule', '?')}" for r in record.reason],
    }


async def list_rejected(store: Store, *, limit: int) -> list[dict[str, Any]]:
    """The newest rejected input first, as ``rejected_summary`` shows it."""
    return [rejected_summary(r) for r in await store.list_rejected(limit=limit)]


async def read_rejected(
    store: Store, identity: Identity, rejected_id: str, *, source: str | None = None
) -> dict[str, Any] | None:
    """One piece of rejected input in full (its body as text, and every broken rule with its
    message), recorded as ``identity``'s view before it is returned; None for an unknown id."""
    record = await store.get_rejected(rejected_id)
    if record is None:
        return None
    await record_view(store, identity, record.id, view="rejected", bsn_hash=None, source=source)
    return {
        **rejected_summary(record),
        "reason": record.reason,
        "body": record.raw.decode("utf-8", errors="replace"),
    }
