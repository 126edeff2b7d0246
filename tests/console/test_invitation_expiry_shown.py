"""An admin sees when an invited colleague's link stops working, and that it has: the person's
page and the people list said only "invited", so a colleague calling that the link does not
work could not be told whether it had expired (7 days) or been replaced."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update

from integrator.access import Grant, Role
from integrator.store.tables import invitations
from tests.console.conftest import person_id, screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser


async def _expire(live: LiveEngine, person: str) -> None:
    """Move the person's link's expiry into the past, as 7 days passing would."""
    past = live.engine.clock.now() - timedelta(minutes=1)
    async with live.engine.store._engine.begin() as conn:
        await conn.execute(
            update(invitations).where(invitations.c.person_id == person).values(expires_at=past)
        )


def test_an_invited_persons_link_expiry_is_shown_and_when_it_passed(
    browser: Browser, live: LiveEngine
) -> None:
    admin = live.person("ida.expiry@example.org", Grant(Role.ADMIN))
    live.invitation_link("kees.expiry@example.org", Grant(Role.VIEWER, "CARD"))
    kees = person_id(live, "kees.expiry@example.org")
    with signed_in_page(browser, live, admin, "nl") as page:
        page.goto(f"/people/{kees}")
        until = page.locator("#invitation-until").inner_text()
        assert until.startswith("De link werkt één keer, tot 20"), until
        page.goto("/people")
        row = page.get_by_role("row").filter(has_text="kees.expiry@example.org")
        assert "verlopen" not in row.inner_text()

        live.call(_expire(live, kees))
        page.goto(f"/people/{kees}")
        assert page.locator("#invitation-until").inner_text().startswith("De link is verlopen op")
        screenshot(page, "person-link-expired-nl")
        page.goto("/people")
        assert "uitgenodigd (link verlopen)" in row.inner_text()
        page.context.add_cookies([{"name": "integrator-lang", "value": "en", "url": live.url}])
        page.goto(f"/people/{kees}")
        said = page.locator("#invitation-until").inner_text()
        assert said.startswith("The link expired on") and "Send the invitation again" in said
        # Sent again: a new link, valid for 7 days, and the page says so.
        page.get_by_role("button", name="Send the invitation again").click()
        page.get_by_role("link", name="Back to people").click()
        page.goto(f"/people/{kees}")
        assert page.locator("#invitation-until").inner_text().startswith("The link works once")
