"""``destinations list`` and ``tokens list`` on an 80-column terminal cut no id and no time.

Both were boxed tables that rich squeezed to the terminal: ``ziekenhuis-noord-amsterdam`` and
``ziekenhuis-noord-utrecht`` both became ``ziek…``, an expiry ``2027-0…``. They are fitted
as the other listings are (``views.fitted_table``): what cannot be cut is shown whole, and the
columns that do not fit are left out (``--json`` has everything).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from integrator.access import Grant, Role, TokenView
from integrator.cli.destinations import destinations_table
from integrator.cli.tokens import _table as tokens_table

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _drawn(table: Table, width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    text = console.export_text()
    assert all(len(line) <= width for line in text.splitlines()), text
    return text


def _destination(destination_id: str, name: str) -> dict[str, Any]:
    counts = {"queued": 12, "retrying": 3, "held": 0, "delivered": 104_233}
    return {
        "id": destination_id,
        "name": name,
        "address": "his-gateway.ziekenhuis.example.org:2575",
        "messages": {"referral": "ref-v2", "diagnostic_request": "orm-v3"},
        "state": "active",
        "counts": counts,
        "dead_letters": 7,
        "last_attempt": {"at": "2026-12-05T09:14:03+01:00", "outcome": "delivered", "reason": None},
    }


def test_destination_ids_are_never_cut() -> None:
    ids = ("ziekenhuis-noord-amsterdam", "ziekenhuis-noord-utrecht")
    rows = [_destination(i, "Ziekenhuis Noord, locatie " + i.split("-")[-1]) for i in ids]
    drawn = _drawn(destinations_table(rows, width=80))
    for destination_id in ids:
        assert f"\n{destination_id} " in drawn, drawn
    header = next(line for line in drawn.splitlines() if line.startswith("id "))
    assert header.split()[-6:] == ["queued", "retrying", "held", "dead", "delivered", "last"]
    wide = _drawn(destinations_table(rows, width=200), width=200)
    assert "his-gateway.ziekenhuis.example.org:2575" in wide and "referral=ref-v2" in wide


def test_token_ids_and_expiry_are_never_cut() -> None:
    made = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    views = [
        TokenView(
            id=f"{n}f2b9c1e-6d1a-4c5e-9b7a-0a1b2c3d4e5f",
            name=f"huisartsenplatform-intake-{n}",
            prefix=f"itg_Ab{n}Cd",
            status="active",
            owner_id=None,
            created_by="person:verantwoordelijk.beheerder@ziekenhuis.example.org",
            created_at=made,
            expires_at=datetime(2027, 6, 1, 9, 0, tzinfo=UTC),
            last_used_at=None,
            revoked_at=None,
            grants=(Grant(Role.INTAKE), Grant(Role.VIEWER, "CARD")),
        )
        for n in (1, 2)
    ]
    drawn = _drawn(tokens_table(views, AMSTERDAM, title="API tokens (2)", width=80))
    for n in (1, 2):
        assert f"huisartsenplatform-intake-{n}" in drawn
    assert drawn.count("2027-06-01T11:00:00+02:00") == 2, drawn
