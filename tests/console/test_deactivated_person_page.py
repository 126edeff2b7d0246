"""A deactivated person's page offers nothing to do, request by request against a real
engine: the account holds no role any more and the access service refuses every change to it
(new roles, deactivating again, an invitation, a second factor reset), so *Take this role
away*, which would only add an audit entry, is not offered either. Its roles are shown as it
held them, saying so, and the page says it is final without advising to take roles away."""

from __future__ import annotations

import html
import re

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_refusals import engine
from tests.console.test_saved_searches import person_id, signed_in
from tests.http.support import MAKER

__all__ = ["engine"]  # the fixture: a started engine with lab-west in CARD


def _actions(page: str) -> list[str]:
    """Where the page's own forms go (the header's language switch and sign-out left out), but
    the searches of the audit trail (*In the audit trail*): they change nothing, and a person
    who left is whom a review is most often about (docs/access.md, "Finding entries")."""
    main = page.split('<main id="main"', 1)[1]
    return [a for a in re.findall(r'<form[^>]* action="([^"]+)"', main) if a != "/audit"]


async def test_a_deactivated_persons_page_offers_no_action(engine: Engine) -> None:
    await engine.access.invite(MAKER, "dora@example.org", [Grant(Role.VIEWER, "CARD")])
    dora = await person_id(engine, "dora@example.org")
    for lang in ("en", "nl"):
        async with signed_in(
            engine, f"ada.{lang}@example.org", Grant(Role.ADMIN), lang=lang
        ) as ada:
            invited = await ada.get(f"/people/{dora}")
            if lang == "en":
                assert f"/people/{dora}/deactivate-role" in _actions(invited.text)
                await engine.access.deactivate_person(MAKER, "dora@example.org", reason="left")
            shown = await ada.get(f"/people/{dora}")
        assert shown.status_code == 200, shown.text
        assert _actions(shown.text) == []
        assert "viewer@CARD" in shown.text  # the roles it held, for the record
        said = html.unescape(shown.text)
        if lang == "en":
            assert "Take this role away" not in said
            assert "it acts with none of them, so there is nothing to take away" in said
            assert "take their roles away instead" not in said
        else:
            assert "Deze rol intrekken" not in said
            assert "dus er is niets in te trekken" in said
