"""Tables the CLI shows in more than one command, so they read the same everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.table import Table


def attempts_table(history: Iterable[dict[str, Any]]) -> Table:
    """Delivery attempts as ``presenters.attempt_view`` gives them."""
    table = Table(title="Attempts")
    for column in ("#", "started", "ms", "outcome", "ACK", "error"):
        table.add_column(column)
    for a in history:
        table.add_row(
            str(a["number"]),
            a["started_at"][:23],
            f"{a['duration_ms']:.1f}",
            a["outcome"],
            a["ack_code"] or "-",
            a["error"] or "",
        )
    return table
