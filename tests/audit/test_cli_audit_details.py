"""``integrator audit list`` shows each entry's details as ``key: value`` (``integrator.
audit_details``, as the console's audit page does), where it showed none and only ``--json``
and ``--csv`` had them: in a column where the terminal has room, else under the table by the
entry's id. What is shown is what ``--json`` gives, nothing more."""

from __future__ import annotations

import asyncio
import json
from io import StringIO
from pathlib import Path
from typing import Any

from rich.console import Console

from integrator.audit_details import YesNo, detail_pairs
from integrator.cli.audit import _listing
from integrator.store import Store
from tests.audit.test_cli_audit import SEARCH_KEY
from tests.cli_in_process import run_cli
from tests.integrator.test_cli_reading import AMSTERDAM

ACTOR = "person:anna.de.vries@example.nl"
TARGET = "ziekenhuis-noord-lab-"
"""A long actor and targets: on 80 columns the table has no room for the details."""
DETAILS: list[dict[str, Any]] = [
    {"grants": ["viewer@CARD", "lab@LAB"], "totp": False, "source": None},
    {"rows": 10, "of": 12, "markup": "[red]x[/]"},
    {},
]


def env_with_entries(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> None:
        async with await Store.open(url) as store:
            for n, details in enumerate(DETAILS):
                await store.add_audit(ACTOR, "test.entry", f"{TARGET}{n}", details=details)

    asyncio.run(fill())
    return {
        "INTEGRATOR_DATABASE_URL": url,
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_TIMEZONE": "Europe/Amsterdam",
        "USER": "piet",
    }


def rendered(rows: list[dict[str, Any]], width: int) -> str:
    out = Console(width=width, file=StringIO(), highlight=False, color_system=None)
    for part in _listing(rows, "Audit", zone=AMSTERDAM, width=width):
        out.print(part)
    text: str = out.file.getvalue()  # type: ignore[attr-defined]
    return text


def listed(tmp_path: Path) -> list[dict[str, Any]]:
    env = env_with_entries(tmp_path)
    done = run_cli("audit", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def test_the_text_listing_shows_each_entrys_details(tmp_path: Path) -> None:
    env = env_with_entries(tmp_path)
    done = run_cli("audit", "list", env=env)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "rows: 10; of: 12" in said, done.stdout
    assert "[red]x[/]" in said  # shown as recorded: a detail never becomes markup
    assert "totp: no" in said and "source: —" in said, done.stdout


def test_details_have_a_column_where_the_terminal_is_wide_enough(tmp_path: Path) -> None:
    text = rendered(listed(tmp_path), 200)
    header = text.splitlines()[1]
    assert header.split() == ["id", "at", "actor", "action", "target", "reason", "details"]
    row = next(line for line in text.splitlines() if f" {TARGET}0 " in line)
    assert row.rstrip().endswith("grants: viewer@CARD, lab@LAB; totp: no; source: —"), text
    assert "details (by id)" not in text


def test_on_80_columns_the_details_follow_the_table_by_id(tmp_path: Path) -> None:
    rows = listed(tmp_path)
    text = rendered(rows, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    table, _, below = text.partition("details (by id):\n")
    assert table.splitlines()[1].split()[0] == "id" and "details" not in table
    by_id = {row["target"]: str(row["id"]) for row in rows}
    lines = [line.split(None, 1) for line in below.splitlines()]
    assert [(n, said.rstrip()) for n, said in lines] == [
        (by_id[f"{TARGET}1"], "rows: 10; of: 12; markup: [red]x[/]"),
        (by_id[f"{TARGET}0"], "grants: viewer@CARD, lab@LAB; totp: no; source: —"),
    ]  # newest first, as the table; the third recorded none


def test_the_console_and_the_cli_say_details_alike() -> None:
    """One rendering: the console's words for yes and no, the CLI's English ones."""
    from integrator.console.audit_text import detail_pairs as console_pairs
    from integrator.console.i18n import Translator

    dutch = Translator("nl")
    details = {"totp": True, "grants": [], "source": "10.0.0.7", "who": {"a": None}}
    assert console_pairs(dutch, details) == detail_pairs(
        details, YesNo(yes=dutch("audit.yes"), no=dutch("audit.no")), leave_out={"source"}
    )
    assert detail_pairs(details) == [
        ("totp", "yes"),
        ("grants", "—"),
        ("source", "10.0.0.7"),
        ("who", "a: —"),
    ]


def test_a_time_in_the_details_is_shown_as_the_tables_times(tmp_path: Path) -> None:
    """Recorded in UTC (``expires_at``, ``dead_since``), it read an hour off the ``at`` column
    and every other listing's times; ``--json`` keeps it as recorded."""
    rows = listed(tmp_path)
    rows[0]["details"] = {"expires_at": "2026-12-06T09:00:18.048840+00:00", "note": "09:00"}
    text = " ".join(rendered(rows, 200).split())
    assert "expires_at: 2026-12-06T10:00:18+01:00" in text
    assert "note: 09:00" in text  # only a whole recorded time is one
