"""Events pruned before any destination got them stay marked: ``events.unrouted`` with
``pruned_at`` says "never routed".

Retention empties an unrouted event's JSON after ``INTEGRATOR_RETAIN_UNROUTED_DAYS`` and used to
clear its mark too, so such a referral then looked like any pruned event: no listing could say
which ZD numbers never reached a hospital and must be asked of upstream again. The mark now
stays (the unrouted list asks ``pruned_at IS NULL`` beside it), and the partial index on the
marked rows (0030) serves both lists, where a ``NOT EXISTS`` per pruned event read them all.
This marks those pruned so before: every pruned event without a message (before unrouted
retention, an event without messages was never pruned, so each is one pruned unrouted).

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE events SET unrouted = true WHERE pruned_at IS NOT NULL AND NOT unrouted "
        "AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.event_id = events.id)"
    )


def downgrade() -> None:
    # As 0038 and before read the mark: an event waiting to be routed, never a pruned one.
    op.execute("UPDATE events SET unrouted = false WHERE pruned_at IS NOT NULL AND unrouted")
