"""A resend family is read through the ``resend_of`` index also where SQLite has statistics.

The engine never runs ``ANALYZE``; an administrator may (SQLite advises ``PRAGMA optimize``).
With statistics, an index on ``resend_of`` over every message, nearly all ``NULL``, looked to
SQLite like a few values each shared by thousands of rows, and a family's
``id IN (…) OR resend_of IN (…)`` for a page of 100 messages was planned as a scan of every
message: seconds on a million, for every message listing, the message page and the dead
letters. Over resends only (revision 0031), its statistics describe resends.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from integrator.store import Store
from tests.store.helpers import statements_sent

MESSAGES = 20_000
RESENDS = 6  # few, as in a store that runs well: each a resend of the message before it


def _fill(db: Path) -> list[str]:
    """``MESSAGES`` messages, the last ``RESENDS`` of them resends, then ``ANALYZE``."""
    now = "2026-12-01 00:00:00.000000"
    ids = [str(uuid.uuid4()) for _ in range(MESSAGES)]
    rows = [
        (
            *(message_id, seq, str(uuid.uuid4()), "noord", "ref-v2", "REF^I12"),
            *(f"C{seq:019d}", b"", "delivered", 1, now, now),
            ids[seq - 2] if seq > MESSAGES - RESENDS else None,
        )
        for seq, message_id in enumerate(ids, 1)
    ]
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")  # messages without their events: plans only
        conn.executemany(
            "INSERT INTO messages (id, seq, event_id, destination_id, version, message_type, "
            "control_id, payload, status, attempt_count, created_at, updated_at, resend_of) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()
    return ids


async def test_a_family_of_a_page_is_read_by_index_after_analyze(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    made = await Store.open(f"sqlite:///{db}")
    await made.close()
    ids = _fill(db)

    store = await Store.open(f"sqlite:///{db}")
    try:
        page = ids[:100]  # a listing's page: its family is read for every message on it
        with statements_sent(store) as sent:
            links = await store.resend_family(page)
        assert [link.id for link in links] == page  # none of them has a resend
    finally:
        await store.close()
    asked = [(sql, values) for sql, values in sent if "resend_of IN" in sql]

    assert asked, "the family was not read with resend_of IN"
    conn = sqlite3.connect(db)
    try:
        for statement, parameters in asked:
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            assert not any(step.startswith("SCAN messages") for step in plan), plan
            assert any("ix_messages_resend_of" in step for step in plan), plan
    finally:
        conn.close()
