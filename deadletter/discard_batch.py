"""What a batch discard answers, entry by entry: the same for every front door that shows it.

``discard_each`` discards the dead letters a selection holds; the selection (resend's, see
``select_dead_letters``) leaves out the older dead letters of a resend chain, because the latest
stands for them, and discarding that latest one closes them with it. What was left out and no
discard closed is said as left out, with why; the rest is said as closed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from deadletter.letters import EachDiscarded
from deadletter.resend import LeftOut, Selection


def left_open(selection: Selection, done: Sequence[EachDiscarded]) -> list[LeftOut]:
    """What ``selection`` left out and no discard of ``done`` closed."""
    closed = {m for d in done if d.plan is not None for m in d.plan.discarded}
    return [x for x in selection.left_out if x.message.id not in closed]


def discard_entries(
    selection: Selection,
    done: Sequence[EachDiscarded],
    *,
    dry_run: bool,
    seen: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """One entry per selected dead letter, in the selection's order, then one per dead letter
    left out and still open (``outcome`` ``left out``, with its ``note``): all of one shape.
    ``seen``: the destinations the reader may see (None: all)."""
    entries = [d.to_json(dry_run=dry_run, seen=seen) for d in done]
    for left in left_open(selection, done):
        entries.append(
            {
                "id": left.message.id,
                "discarded": [],
                "resend_chain": [],
                "stays_open": [],
                "with_chain_of": None,
                **left.to_json(seen),
                "outcome": "left out",
            }
        )
    return entries
