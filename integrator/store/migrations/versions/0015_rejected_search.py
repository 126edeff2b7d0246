"""Rejected input found by ZD number, provider and BSN hash.

- ``rejected_events.zd_number``, ``provider_id``, ``bsn_hash``: what intake could read from a
  body that failed validation (``integrator.rejected_keys``), each NULL when it could not, each
  indexed: a GP's "I sent ZD300000001" is one lookup, not every body opened.

Rows kept before this revision get the ZD number and provider read from their body here, when
the body is stored unsealed (no ``INTEGRATOR_DATA_KEYS`` when it arrived): a migration has no
data keys, so a sealed body is left as it is and its row has neither. None gets a BSN hash: the
search key is not the migration's either. Rejected input is kept 30 days by default, so rows
without them leave the store soon. The reading is a frozen copy of the rules at this revision
(a migration must not change when the code does); a body that cannot be read leaves NULLs.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("zd_number", 32),
    ("provider_id", 128),
    ("bsn_hash", 64),
)
PAGE = 20
"""Bodies read at once: each may be up to tens of MiB of attachments."""

_ZD = re.compile(r"ZD[0-9]{9}")
_SEALED = b"\x89ITG\x01"
_ESCAPED = b"\x89ITG\x00"  # a plain body that happened to start with the magic


def upgrade() -> None:
    for name, width in COLUMNS:
        op.add_column("rejected_events", sa.Column(name, sa.String(width), nullable=True))
        op.create_index(op.f(f"ix_rejected_events_{name}"), "rejected_events", [name])
    _backfill(op.get_bind())


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_index(op.f(f"ix_rejected_events_{name}"), table_name="rejected_events")
        with op.batch_alter_table("rejected_events") as batch:
            batch.drop_column(name)


def _backfill(conn: sa.Connection) -> None:
    table = sa.table(
        "rejected_events",
        sa.column("id", sa.String()),
        sa.column("raw", sa.LargeBinary()),
        sa.column("zd_number", sa.String()),
        sa.column("provider_id", sa.String()),
    )
    after = ""
    while True:
        rows = conn.execute(
            sa.select(table.c.id, table.c.raw)
            .where(table.c.id > after)
            .order_by(table.c.id)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        for row in rows:
            zd_number, provider_id = _read(bytes(row.raw))
            if zd_number is not None or provider_id is not None:
                conn.execute(
                    sa.update(table)
                    .where(table.c.id == row.id)
                    .values(zd_number=zd_number, provider_id=provider_id)
                )
        after = rows[-1].id


def _read(raw: bytes) -> tuple[str | None, str | None]:
    """The ZD number and provider of an unsealed body, as intake reads them at this revision."""
    if raw.startswith(_SEALED):
        return None, None
    if raw.startswith(_ESCAPED):
        raw = raw[len(_ESCAPED) :]
    try:
        body = json.loads(raw)
    except Exception:
        return None, None
    if not isinstance(body, dict):
        return None, None
    zd_number = body.get("zd_number")
    zd = zd_number.strip().upper() if isinstance(zd_number, str) else None
    provider = body.get("provider")
    given = provider.get("id") if isinstance(provider, dict) else None
    provider_id = given.strip() if isinstance(given, str) else None
    return (
        zd if zd is not None and _ZD.fullmatch(zd) else None,
        provider_id
        if provider_id and len(provider_id) <= 128 and provider_id.isprintable()
        else None,
    )
