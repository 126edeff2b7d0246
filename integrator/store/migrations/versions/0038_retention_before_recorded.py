"""A store that held data before engines recorded their periods: its last engine kept
unrouted events for ever, as far as ``integrator prune`` can tell.

``integrator prune`` run while no engine runs compares its periods with those of the last
engine that started on the store (``engine_retention``, 0034). A store last run by a version
from before 0034 has no such row, and the prune was not judged at all: upgraded from such a
version and run before any new engine started, it emptied the payloads of events no
destination had served for 90 days, which that version never pruned (docs/deploy.md promises
it is refused). So a store that already holds events, and no row, gets one standing for that
last engine: no periods recorded (``{}``), which ``integrator.lifecycle.agreement`` reads as
what a version from before kept (``KEPT_BEFORE_RECORDED``: unrouted events for ever), with an
empty host and pid 0, said as "a version from before engines recorded their periods". The
first engine that starts replaces it with its own periods, as every start does.

A store with no event gets no row: nothing an old version kept is in it (a new store, made by
a migration from nothing, is one).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _retention(aware: bool) -> sa.TableClause:
    return sa.table(
        "engine_retention",
        sa.column("id", sa.Integer()),
        sa.column("retention", sa.Text()),
        sa.column("host", sa.String()),
        sa.column("pid", sa.Integer()),
        sa.column("recorded_at", sa.DateTime(timezone=aware)),
    )


def upgrade() -> None:
    bind = op.get_bind()
    recorded = bind.execute(sa.text("SELECT 1 FROM engine_retention")).first()
    held = bind.execute(sa.text("SELECT 1 FROM events LIMIT 1")).first()
    if recorded is not None or held is None:
        return
    # As ``UTCDateTime`` binds a moment on each backend: naive UTC on SQLite.
    aware = bind.dialect.name == "postgresql"
    now = datetime.now(UTC)
    at = now if aware else now.replace(tzinfo=None)
    op.execute(
        _retention(aware).insert().values(id=1, retention="{}", host="", pid=0, recorded_at=at)
    )


def downgrade() -> None:
    table = _retention(op.get_bind().dialect.name == "postgresql")
    op.execute(table.delete().where(table.c.host == ""))
