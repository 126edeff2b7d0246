"""``destinations list`` counts open dead letters, as ``deadletter list`` lists them.

Its ``dead`` column (``dead_letters`` in ``--json``) once counted every message in status
``dead``: a dead letter resent and delivered stayed in it, and support, seeing the figure
unchanged, resent again. A discarded one is ``cancelled`` and never counted; a resend still on
its way leaves its dead letter counted (the list shows it, *being resent*) until it is
delivered.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.resend.support import NOORD, Desk


def _dead_column(desk: Desk) -> str:
    """The ``dead`` cell of noord's row in the table (columns: id … held, dead, delivered).

    Counted from the right: the figures hold no spaces, where a name may."""
    result = desk.cli("destinations", "list")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if re.search(r"\bdead\b", line))
    [row] = [line for line in result.stdout.splitlines() if line.startswith(NOORD)]
    names = header.split()
    return row.split()[names.index("dead") - len(names)]


def _listed(desk: Desk) -> dict[str, Any]:
    rows: list[dict[str, Any]] = desk.json("destinations", "list")
    [noord] = [r for r in rows if r["id"] == NOORD]
    return noord


def test_destinations_list_counts_only_the_open_dead_letters(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    resent, discarded, still_open = (desk.submit(referral_data, f"ZD61000000{n}") for n in range(3))
    for message_id in (resent, discarded, still_open):
        desk.set_status(message_id, "dead")
    assert (_listed(desk)["dead_letters"], _dead_column(desk)) == (3, "3")

    result = desk.cli("deadletter", "resend", resent, "--reason", "HIS back", "--json")
    assert result.exit_code == 0, result.output
    [resend] = json.loads(result.stdout)["resent"]
    discarding = desk.cli("deadletter", "discard", discarded, "--reason", "sent by fax")
    assert discarding.exit_code == 0, discarding.output
    # The resend is on its way: its dead letter is still listed (being resent), and counted.
    assert len(desk.json("deadletter", "list")) == 2
    assert (_listed(desk)["dead_letters"], _dead_column(desk)) == (2, "2")

    desk.set_status(resend["message_id"], "delivered")  # the engine delivered it
    assert [r["id"] for r in desk.json("deadletter", "list")] == [still_open]
    row = _listed(desk)
    assert row["dead_letters"] == 1
    assert row["counts"]["dead"] == 2  # by status: the resolved one stays dead (its history)
    assert row["counts"]["cancelled"] == 1
    assert _dead_column(desk) == "1"


def test_the_help_says_what_the_dead_column_counts(desk: Desk) -> None:
    shown = " ".join(desk.cli("destinations", "list", "--help").stdout.split())
    assert "dead: the open dead letters, what `deadletter list` shows" in shown
