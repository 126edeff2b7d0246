"""TOTP secrets sealed at rest: ``people.totp_secret`` becomes TEXT.

A secret sealed with the data key (``$itg$1$<kid>$<base64>``) takes up to 120 characters for
today's 32-character secret, more than the 64 the column held; TEXT, as every sealed text
column, so no length ties the schema to the secret, the key id or the envelope. The values stay
as they are: a plain secret keeps working, and ``integrator keys rotate`` seals it.

PostgreSQL changes the type in place. SQLite cannot change a column's type, and rebuilding
``people`` (Alembic's batch mode) is refused while the tables that refer to it hold rows, since
the store runs with foreign keys on and a pragma cannot switch them off inside the migration's
transaction. So on SQLite a TEXT column is added, the values copied into it, the old column
dropped and the new one renamed: each a plain ``ALTER TABLE`` (DROP COLUMN needs SQLite 3.35).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _change_type(sa.String(64), sa.Text(), "TEXT")


def downgrade() -> None:
    _refuse_sealed_secrets()
    _change_type(sa.Text(), sa.String(64), "VARCHAR(64)")


SEALED_PREFIX = "$itg$"
"""How a text sealed at rest begins (``integrator.store.sealing.TEXT_MAGIC``), kept here as
this revision knows it: a migration must not change with the code."""


def _refuse_sealed_secrets() -> None:
    """Only a store without sealed secrets fits back. PostgreSQL refused a longer value in the
    middle of the step ("value too long for type character varying(64)"), and SQLite, which
    holds any length, kept it: the release before read the envelope as the secret itself, so
    every person with one could no longer sign in. Unsealing needs the data keys, which a
    migration does not have, so the step refuses and says what to do instead."""
    sealed = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT COUNT(*) FROM people WHERE totp_secret LIKE :sealed "
                "OR LENGTH(totp_secret) > 64"
            ),
            {"sealed": SEALED_PREFIX + "%"},
        )
        .scalar_one()
    )
    if sealed:
        raise RuntimeError(
            f"migration 0008 cannot be undone: {sealed} person(s) have a TOTP secret sealed "
            "with a data key, which the schema before it cannot hold and the release before "
            "cannot read; nothing was changed by this step. To go back to a release before "
            "0008, restore the backup made before the upgrade (docs/deploy.md, Going back)"
        )


def _change_type(old: sa.types.TypeEngine[str], new: sa.types.TypeEngine[str], sql: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("people", "totp_secret", existing_type=old, type_=new)
        return
    if sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(
            f"this store's migration 0008 needs SQLite 3.35 or newer (ALTER TABLE ... DROP "
            f"COLUMN); this Python's sqlite3 module uses SQLite {sqlite3.sqlite_version}: "
            "use a Python built with a newer SQLite (python.org builds and Debian 12 have one)"
        )
    op.execute(f"ALTER TABLE people ADD COLUMN totp_secret_0008 {sql}")
    op.execute("UPDATE people SET totp_secret_0008 = totp_secret")
    op.execute("ALTER TABLE people DROP COLUMN totp_secret")
    op.execute("ALTER TABLE people RENAME COLUMN totp_secret_0008 TO totp_secret")
