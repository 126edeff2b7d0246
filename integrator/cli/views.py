"""Tables the CLI shows in more than one command, so they read the same everywhere.

Ids are shortened as git shortens commit ids (``short_ids``): every command taking an id takes
such a prefix back (``common.resolve_message_ids``). Times are shown as ``presenters.shown_time``
gives them, which is what ``--since`` and ``--until`` accept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.table import Table

from integrator.presenters import shown_time

SHORT_ID = 8
"""The least a shortened id shows: a UUID's first group, unique in all but very large stores."""


def short_ids(ids: Iterable[str], minimum: int = SHORT_ID) -> dict[str, str]:
    """Each id shortened to the fewest characters (at least ``minimum``) that tell them apart.

    Among the ids given, as git does for the commits it lists: a table stays narrow, and an id
    copied from it is still unique at least among what was on the screen. A shortened id never
    ends in a dash, which would look like a cut.
    """
    distinct = sorted(set(ids))
    length = minimum
    while len({i[:length] for i in distinct}) < len(distinct):
        length += 1
    while any(i[length - 1 : length] == "-" for i in distinct):
        length += 1
    return {i: i[:length] for i in distinct}


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    cell: Callable[[dict[str, Any]], str]
    justify: JustifyMethod = "left"


def messages_table(
    rows: Sequence[dict[str, Any]], *, width: int, zone: tzinfo, title: str
) -> Table:
    """``presenters.message_summary`` rows as a table no wider than ``width``, no cell cut.

    An 80-column terminal gets the short id, ZD number, destination, status and creation time,
    the terms support searches by; the attempts, ``resend of``, version and MSH-10 follow, in
    that order, as far as the width allows (``--json`` has everything). The time shown is the
    creation time because ``--since`` and ``--until`` select on it.
    """
    short = short_ids(
        [r["id"] for r in rows] + [r["resend_of"] for r in rows if r.get("resend_of")]
    )
    columns = {
        "id": _Column("id", lambda r: short[r["id"]]),
        "zd": _Column("ZD number", lambda r: r["zd_number"]),
        "destination": _Column("destination", lambda r: r["destination"]),
        "version": _Column("version", lambda r: r["version"]),
        "control_id": _Column("MSH-10", lambda r: r["control_id"]),
        "status": _Column("status", lambda r: r["status"]),
        "tries": _Column("tries", lambda r: str(r["attempts"]), "right"),
        "created": _Column("created", lambda r: shown_time(r["created_at"], zone)),
        "resend_of": _Column("resend of", lambda r: short.get(r["resend_of"] or "", "")),
    }
    order = list(columns)
    chosen = {"id", "zd", "destination", "status", "created"}
    for optional in ("tries", "resend_of", "version", "control_id"):
        wider = chosen | {optional}
        if _natural_width([columns[k] for k in order if k in wider], rows) <= width:
            chosen = wider
    table = Table(title=title, box=None, pad_edge=False, padding=(0, 1, 0, 0))
    shown = [columns[k] for k in order if k in chosen]
    for column in shown:
        table.add_column(column.header, justify=column.justify, no_wrap=True)
    for r in rows:
        table.add_row(*(column.cell(r) for column in shown))
    return table


def _natural_width(columns: Sequence[_Column], rows: Sequence[dict[str, Any]]) -> int:
    """The table's width uncut: the widest cell of each column, one space between columns."""
    widths = [max([cell_len(c.header)] + [cell_len(c.cell(r)) for r in rows]) for c in columns]
    return sum(widths) + len(widths) - 1


def attempts_table(history: Iterable[dict[str, Any]], zone: tzinfo | None = None) -> Table:
    """Delivery attempts as ``presenters.attempt_view`` gives them; times in ``zone`` if given."""
    table = Table(title="Attempts")
    for column in ("#", "started", "ms", "outcome", "ACK", "error"):
        table.add_column(column)
    for a in history:
        table.add_row(
            str(a["number"]),
            shown_time(a["started_at"], zone),
            f"{a['duration_ms']:.1f}",
            a["outcome"],
            a["ack_code"] or "-",
            a["error"] or "",
        )
    return table
