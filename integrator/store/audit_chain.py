"""The audit log as a hash chain: each entry's hash covers its content and the hash before it.

``hash = sha256(prev_hash + canonical JSON of {seq, at, actor, action, target, reason, details})``
where ``seq`` is the entry's id, ``at`` its UTC time in ISO 8601 with microseconds and
``details`` the stored JSON text exactly as kept. The first entry's ``prev_hash`` is
:data:`GENESIS`; once the oldest entries were pruned (retention), the first entry kept links to
the anchor they left instead (``integrator.store.audit_prune``). Editing an entry breaks its
own hash; removing, inserting or reordering entries breaks the next entry's ``prev_hash`` (or its
``seq``). Someone with write access who recomputes
the whole chain from the edit onwards is not caught by the chain alone: compare the newest hash
with a copy kept elsewhere (``integrator audit verify`` prints it).

Appends are serialized so the chain cannot fork: SQLite has one writer at a time, PostgreSQL
takes a transaction-scoped advisory lock before the entry gets its id (a prune takes it too).

Migration 0005 carries a frozen copy of :func:`entry_hash`; both must stay identical.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from integrator.store.advisory import advisory_key
from integrator.store.codec import dump_json
from integrator.store.tables import audit_log

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

PENDING = "-"
"""Placeholder while an entry waits for its id (within the appending transaction only)."""


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    reason: str | None,
    details: str,
) -> str:
    """The hash of one entry, chained to ``prev_hash``."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    content = json.dumps(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "target": target,
            "reason": reason,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def audit_row(
    at: datetime,
    actor: str,
    action: str,
    target: str,
    *,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry as ``append_audit`` takes it: its details as the store keeps them (JSON)."""
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "reason": reason,
        "details": dump_json(dict(details or {})),
    }


def lock_key(schema: str | None) -> int:
    """The advisory lock appends and prunes of the audit chain take turns by, per schema."""
    return advisory_key("audit", schema)


async def append_audit(
    conn: AsyncConnection,
    rows: Sequence[Mapping[str, Any]],
    *,
    schema: str | None = None,
) -> list[int]:
    """Append entries (``at, actor, action, target, reason, details`` as stored) in this
    transaction, chained to the newest entry; return their ids in order.

    Each row is inserted first and hashed once it has its id: on SQLite the transaction's first
    statement must write (see ``Store._transaction``), and the id is part of the hash.
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        # Held to the commit: a second appender waits here, before its entry takes an id, and
        # then sees this transaction's entries as the newest.
        await conn.execute(select(func.pg_advisory_xact_lock(lock_key(schema))))
    ids: list[int] = []
    prev: str | None = None
    for row in rows:
        result = await conn.execute(
            insert(audit_log).returning(audit_log.c.id),
            {**row, "prev_hash": PENDING, "hash": PENDING},
        )
        entry_id: int = result.scalar_one()
        if prev is None:
            before = await conn.execute(
                select(audit_log.c.hash)
                .where(audit_log.c.id < entry_id)
                .order_by(audit_log.c.id.desc())
                .limit(1)
            )
            prev = before.scalar() or GENESIS
        digest = entry_hash(
            prev,
            entry_id,
            row["at"],
            row["actor"],
            row["action"],
            row["target"],
            row["reason"],
            row["details"],
        )
        await conn.execute(
            update(audit_log).where(audit_log.c.id == entry_id).values(prev_hash=prev, hash=digest)
        )
        ids.append(entry_id)
        prev = digest
    return ids
