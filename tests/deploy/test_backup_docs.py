"""docs/deploy.md's "What to back up" sends SQLite backups to ``integrator backup FILE``.

A ``sqlite3 integrator.db ".backup copy.db"`` run from an operator's shell writes a copy with
that shell's umask (022: readable by every user of the server; the unit's ``UMask=0077`` only
applies to the engine) and records nothing in the audit trail, while a copy holds every
patient's data. ``integrator backup`` writes both files 0600 and audits each copy
(docs/operators.md, "Backups"); PostgreSQL keeps ``pg_dump``, which ``integrator backup``
refuses to stand in for.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
# A sqlite3 shell command that copies a store: sqlite3 <file> ".backup <copy>" (any quoting).
SQLITE_BACKUP_COMMAND = re.compile(r"sqlite3\s+\S+\s+[\"']?\.backup\s+\S+")


def backup_rows() -> dict[str, str]:
    """The rows of deploy.md's "What to back up" table: what, and the whole row."""
    text = (DOCS / "deploy.md").read_text(encoding="utf-8")
    section = text.split("## What to back up", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return {row.split("|")[1].strip(): row for row in rows}


def test_the_sqlite_row_prescribes_integrator_backup_with_a_link_to_operators() -> None:
    [row] = [row for what, row in backup_rows().items() if what.startswith("with SQLite")]
    assert "`integrator backup FILE`" in row
    assert "(operators.md#backups)" in row
    assert not SQLITE_BACKUP_COMMAND.search(row)


def test_the_postgresql_row_keeps_pg_dump() -> None:
    row = backup_rows()["the PostgreSQL database"]
    assert "`pg_dump` (consistent while the engines run), and WAL archiving" in row
    assert "integrator backup" not in row


def test_no_page_gives_a_sqlite3_backup_command() -> None:
    found = [
        f"{page.name}: {match.group(0)}"
        for page in sorted(DOCS.glob("*.md"))
        for match in SQLITE_BACKUP_COMMAND.finditer(page.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(found)
