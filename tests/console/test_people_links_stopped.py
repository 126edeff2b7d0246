"""A role that reads patient data given in the console to someone who has not used their link
yet stops that link, and the person page says so (docs/access.md, "Who sees patient data"): in
a real browser against a running engine."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from integrator.access import Grant, InvitationInvalid, Role
from tests.console.conftest import open_session, person_id
from tests.console.live import LiveEngine
from tests.console.test_people import csrf_of
from tests.http.support import MAKER

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext


def test_giving_resend_to_someone_invited_stops_their_link_and_says_so(
    context: BrowserContext, live: LiveEngine
) -> None:
    admin = live.person("ada@example.org", Grant(Role.ADMIN), Grant(Role.RESEND))
    shown = live.call(live.engine.access.invite(MAKER, "mo@example.org", [Grant(Role.VIEWER)]))
    assert shown.link is not None
    page = context.new_page()
    open_session(page, live, admin)
    mo = person_id(live, "mo@example.org")
    page.goto(f"/people/{mo}")
    form = {"role": ["viewer", "resend"], "cluster": ["", ""], "reason": "support desk"}
    answer = page.request.post(
        f"/people/{mo}/grants",
        data=urlencode({**form, "csrf": csrf_of(page)}, doseq=True),
        headers={
            "Origin": live.url,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Language": "en",
        },
    )
    assert answer.ok, answer.text()
    assert answer.url.endswith("?done=roles_links_stopped")
    page.goto(answer.url)
    said = page.locator("#person-done").inner_text()
    assert "stopped working" in said and "send the invitation again" in said
    with pytest.raises(InvitationInvalid):
        live.call(live.engine.access.begin_accept(shown.link.split("#", 1)[1]))
