"""A table's cells are parsed for markup only when they may hold some, and read the same.

Rich's markup parser cost a tenth of a millisecond a cell, twice (measuring, then drawing):
``messages list --limit 10000`` spent most of its time there. A cell without ``[`` is taken as
plain text; one with ``[`` (an escaped reason, a cell with a colour) is parsed as before.

Free text wraps at spaces, not inside a word: a free-text column is kept as wide as its longest
word (up to ``views.WORD_MAX``), optional columns giving way first, so that a time or a host and
port inside a state or a reason stays on one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

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


DISCARDED = "discarded by local:root at 2026-12-07T11:13:10+01:00"
REFUSED = "ConnectFailed: 127.0.0.1:22576 refused the connection"


def _printed(table: Table, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    lines = console.export_text().splitlines()
    assert all(len(line) <= width for line in lines), lines
    return lines


def _read_down(lines: list[str], header: str, names: Sequence[str]) -> dict[str, str]:
    """Each column's cell of a one-row table, read down its own lines and joined as folded
    (no space between its lines): a cell whole, never cut, reads back as it was."""
    at = next(n for n, line in enumerate(lines) if line.startswith(header))
    starts = [lines[at].index(name) for name in names]
    return {
        name: "".join(line[start:end].strip() for line in lines[at + 1 :])
        for name, start, end in zip(names, starts, [*starts[1:], None], strict=True)
    }


def test_a_time_or_a_host_and_port_in_free_text_stays_on_one_line() -> None:
    """``deadletter list --all`` at 120 columns showed a state as ``... at 2026-12-07T11`` and
    ``:13:10+01:00`` below it: free text was narrowed to 12 and rich folded inside words. Now a
    free-text column is kept as wide as its longest word, and wraps at spaces."""
    columns = {
        "id": Column("id", lambda r: r["id"]),
        "state": Column("state", lambda r: escape(r["state"]), free_text=True),
        "reason": Column("reason", lambda r: escape(r["reason"]), free_text=True),
    }
    rows = [{"id": "4715f593", "state": DISCARDED, "reason": REFUSED}]
    table = fitted_table(
        rows, columns, always=("id", "state", "reason"), optional=(), width=50, title="t"
    )
    lines = _printed(table, 50)
    drawn = "\n".join(lines)
    assert "2026-12-07T11:13:10+01:00" in drawn, drawn
    assert "127.0.0.1:22576" in drawn and "ConnectFailed:" in drawn, drawn
    assert "4715f593" in drawn


def test_a_word_longer_than_the_cap_folds_whole_and_widens_nothing() -> None:
    """A 100-character base64 blob keeps the free text ``views.WORD_MAX`` (32) wide at least,
    not 100: the optional time column still fits beside it; the blob folds, every character
    kept."""
    blob = "".join(chr(ord("A") + n % 26) for n in range(100))
    columns = {
        "id": Column("id", lambda r: r["id"]),
        "note": Column("note", lambda r: r["note"], free_text=True),
        "died": Column("died", lambda r: r["died"]),
    }
    rows = [{"id": "4715f593", "note": blob, "died": "2026-12-07T11:13:10+01:00"}]
    table = fitted_table(
        rows, columns, always=("id", "note"), optional=("died",), width=80, title="t"
    )
    lines = _printed(table, 80)
    assert [column.header for column in table.columns] == ["id", "note", "died"]
    assert _read_down(lines, "id ", ["id", "note", "died"]) == rows[0]
    assert not any(blob in line for line in lines)  # folded, onto several lines
    assert "…" not in "\n".join(lines)


def test_an_optional_column_gives_way_before_a_word_folds() -> None:
    """At 64 columns the destination fitted beside a state and a reason narrowed to 14 and 13,
    folding the time and ``127.0.0.1:22576``; now the destination is left out (``--json`` has
    it) and both stay whole. Where both fit whole beside it, it is shown."""
    columns = {
        "id": Column("id", lambda r: r["id"]),
        "destination": Column("destination", lambda r: r["destination"]),
        "state": Column("state", lambda r: escape(r["state"]), free_text=True),
        "reason": Column("reason", lambda r: escape(r["reason"]), free_text=True),
    }
    rows = [
        {
            "id": "4715f593",
            "destination": "ziekenhuis-noord-amsterdam",
            "state": DISCARDED,
            "reason": REFUSED,
        }
    ]
    # 8 + 26 + 25 (the time) + 15 (the host and port), a space between each: 77.
    for width, headers in ((64, ["id", "state", "reason"]), (76, ["id", "state", "reason"])):
        table = fitted_table(
            rows,
            columns,
            always=("id", "state", "reason"),
            optional=("destination",),
            width=width,
            title="t",
        )
        drawn = "\n".join(_printed(table, width))
        assert [column.header for column in table.columns] == headers, drawn
        assert "2026-12-07T11:13:10+01:00" in drawn and "127.0.0.1:22576" in drawn, drawn
    wide = fitted_table(
        rows,
        columns,
        always=("id", "state", "reason"),
        optional=("destination",),
        width=77,
        title="t",
    )
    drawn = "\n".join(_printed(wide, 77))
    assert [column.header for column in wide.columns] == ["id", "destination", "state", "reason"]
    assert "2026-12-07T11:13:10+01:00" in drawn and "127.0.0.1:22576" in drawn, drawn


def test_when_the_columns_always_shown_leave_less_a_word_folds_and_no_id_does() -> None:
    """Not squeezed: the identifiers still fit whole beside free text at its ``least``; the
    free text narrows below its longest word and folds it rather than fold an id."""
    columns = {
        "id": Column("id", lambda r: r["id"]),
        "destination": Column("destination", lambda r: r["destination"]),
        "state": Column("state", lambda r: escape(r["state"]), free_text=True),
    }
    rows = [{"id": "4715f593", "destination": "ziekenhuis-noord-amsterdam", "state": DISCARDED}]
    table = fitted_table(
        rows, columns, always=("id", "destination", "state"), optional=(), width=50, title="t"
    )
    lines = _printed(table, 50)
    drawn = "\n".join(lines)
    assert "4715f593 ziekenhuis-noord-amsterdam" in drawn, drawn
    assert "2026-12-07T11:13:10+01:00" not in drawn  # folded, as before: no room
    folded = _read_down(lines, "id ", ["id", "destination", "state"])["state"]
    assert folded.replace(" ", "") == DISCARDED.replace(" ", "")  # every character kept
