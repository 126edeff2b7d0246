"""The messages list says where a dead message stands, by the dead letters' own rule: one whose
later resend was delivered reads *dead · resolved*, one whose resend is still under way *dead ·
being resent*, and an open one plain *dead*, so support does not act on a referral that has
reached the hospital after all (the dead letters page leaves resolved ones out; a search by
ZD number finds them all)."""

from __future__ import annotations

import re
from pathlib import Path

from deadletter import ResendRequest, resend
from integrator.access import Grant, Role
from integrator.store import MessageRecord, NewMessage, Store
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message


class SameDestination:
    def is_configured(self, destination_id: str) -> bool:
        return True

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        return make_message(destination_id=destination_id)


async def _dead(store: Store, zd_number: str, resent_as: str | None) -> str:
    """A dead message to ``noord``; with ``resent_as``, resent once, that resend in that status."""
    message = make_message(destination_id="noord")
    assert await store.accept_event(make_event(zd_number=zd_number), [message])
    await store.set_status(message.id, "dead")
    if resent_as is not None:
        original = await store.get_message(message.id)
        assert original is not None
        ask = ResendRequest("GP phoned", "local:test")
        [made] = await resend(store, [original], ask, SameDestination())
        assert made.message is not None
        await store.set_status(made.message.id, resent_as)
    return message.id


def _status_cells(text: str) -> dict[str, str]:
    """Each row's ZD number and its status cell as read (tags and spacing left out)."""
    rows = re.findall(r'<td>(ZD\d+)</td>.*?<td class="status-[a-z]+">(.*?)</td>', text, re.S)
    return {zd: " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for zd, cell in rows}


async def test_a_dead_message_says_whether_a_resend_resolved_it(tmp_path: Path) -> None:
    async with noord_engine(tmp_path) as engine:
        await _dead(engine.store, "ZD300000001", None)
        await _dead(engine.store, "ZD300000002", "delivered")
        await _dead(engine.store, "ZD300000003", "retrying")
        await _dead(engine.store, "ZD300000004", "dead")  # its resend died too: still open
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
