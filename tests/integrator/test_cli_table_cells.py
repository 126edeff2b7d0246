"""A table's cells are parsed for markup only when they may hold some, and read the same.

Rich's markup parser cost a tenth of a millisecond a cell, twice (measuring, then drawing):
``messages list --limit 10000`` spent most of its time there. A cell without ``[`` is taken as
plain text; one with ``[`` (an escaped reason, a cell with a colour) is parsed as before.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from integrator.cli.views import Column, fitted_table


def _drawn(rows: list[dict[str, str]]) -> list[str]:
    columns = {
        "id": Column("id", lambda r: r["id"]),
        "state": Column("state", lambda r: r["state"]),
        "reason": Column("reason", lambda r: escape(r["reason"]), free_text=True),
    }
    table = fitted_table(
        rows, columns, always=("id", "state", "reason"), optional=(), width=80, title="t"
    )
    console = Console(width=80, record=True, color_system=None)
    console.print(table)
    return console.export_text().splitlines()[1:]


def test_plain_marked_up_and_escaped_cells_are_drawn_as_before() -> None:
    lines = _drawn(
        [
            {"id": "a1", "state": "[bold]open[/bold]", "reason": "[x] the HIS said [/] no"},
            {"id": "b2", "state": "resolved", "reason": "plain"},
        ]
    )
    assert lines[0].split() == ["id", "state", "reason"]
    # Markup is drawn, not shown; escaped brackets are shown; widths fit what is drawn.
    assert lines[1].rstrip() == "a1 open     [x] the HIS said [/] no"
    assert lines[2].rstrip() == "b2 resolved plain"


def test_when_even_the_columns_always_shown_do_not_fit_cells_fold_and_are_never_cut() -> None:
    """``audit list`` on 80 columns: the time, a long actor, the action and a long target
    need more. rich cut the target (``person:anna@exa``) with no mark; now it folds."""
    target = "person:anna.de.vries-van-der-berg@ziekenhuis-noord.example.nl"
    columns = {
        "at": Column("at", lambda r: r["at"]),
        "actor": Column("actor", lambda r: r["actor"], free_text=True, least=24),
        "target": Column("target", lambda r: r["target"]),
    }
    rows = [
        {
            "at": "2026-12-03T09:15:02+01:00",
            "actor": "person:verantwoordelijk.beheerder@ziekenhuis.example.org",
            "target": target,
        }
    ]
    table = fitted_table(
        rows, columns, always=("at", "actor", "target"), optional=(), width=80, title="t"
    )
    console = Console(width=80, record=True, color_system=None)
    console.print(table)
    drawn = console.export_text()
    assert all(len(line) <= 80 for line in drawn.splitlines())
    assert "…" not in drawn
    lines = drawn.splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("at "))
    starts = [lines[header].index(name) for name in ("at", "actor", "target")]
    # Each column read down its own lines gives its cell whole, in order.
    for name, start, end in zip(columns, starts, [*starts[1:], None], strict=True):
        folded = "".join(line[start:end].strip() for line in lines[header + 1 :])
        assert folded == rows[0][name], (name, drawn)
