"""The messages list says where a dead message stands, by the dead letters' own rule: one whose
later resend was delivered reads *dead · resolved*, one whose resend is still under way *dead ·
being resent*, and an open one plain *dead*, so support does not act on a referral that has
reached the hospital after all (the dead letters page leaves resolved ones out; a search by
ZD number finds them all)."""

from __future__ import annotations

import re
from pathlib import Path

from integrator.access import Grant, Role
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.dead_families import four_dead_letters


def _status_cells(text: str) -> dict[str, str]:
    """Each row's ZD number and its status cell as read (tags and spacing left out)."""
    rows = re.findall(
        r'<td(?: [^>]*)?>(ZD\d+)</td>.*?<td(?: [^>]*)? class="status-[a-z]+">(.*?)</td>', text, re.S
    )
    return {zd: " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for zd, cell in rows}


async def test_a_dead_message_says_whether_a_resend_resolved_it(tmp_path: Path) -> None:
    async with noord_engine(tmp_path) as engine:
        await four_dead_letters(engine.store)
        async with signed_in(engine, "sam@example.org", Grant(Role.VIEWER)) as sam:
            english = await sam.get("/messages?status=dead")
        async with signed_in(engine, "anna@example.org", Grant(Role.VIEWER), lang="nl") as anna:
            dutch = await anna.get("/messages?status=dead")
    assert english.status_code == 200, english.text
    cells = _status_cells(english.text)
    assert cells["ZD300000001"] == "dead"
    assert cells["ZD300000002"] == "dead · resolved"
    assert cells["ZD300000003"] == "dead · being resent"
    assert cells["ZD300000004"] == "dead"  # both the original and its resend: open
    assert _status_cells(dutch.text)["ZD300000002"] == "onbestelbaar · opgelost"
