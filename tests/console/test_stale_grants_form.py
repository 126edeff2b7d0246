"""A roles form drawn before a colleague took a role away no longer gives it back.

The destination form refused a stale save; the roles form saved whatever it held: an admin
who had the page open, and saved another change, gave ``resend@CARD`` (the role that reads
patient data) back to someone it had just been taken from, without a word, and the audit
trail recorded this admin as having added it. The form now carries what it was drawn from,
and a save after a change is refused (409), showing the roles as they are now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import open_session, person_id
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _roles(live: LiveEngine, email: str) -> list[str]:
    held = live.call(live.engine.store.get_person(email=email))
    assert held is not None
    return sorted(f"{g.role}@{g.cluster}" for g in held.grants if g.active)


def test_a_save_drawn_before_a_role_was_taken_away_is_refused(page: Page, live: LiveEngine) -> None:
    admin = live.person("ada.stale@example.org", Grant(Role.ADMIN), Grant(Role.RESEND))
    carl = live.person("carl.stale@example.org", Grant(Role.RESEND, "CARD"), Grant(Role.VIEWER))
    carl_id = person_id(live, carl.email)
    open_session(page, live, admin)
    page.goto(f"/people/{carl_id}")
    assert page.locator("#grants-role-0").input_value() == "resend"
    # Meanwhile a colleague takes resend@CARD away.
    assert live.call(live.engine.store.deactivate_grant(carl_id, "resend", "CARD"))
    page.locator("#grants-reason").fill("a new viewer row")
    with page.expect_response(lambda r: "?answer=" in r.url) as answer:
        page.get_by_role("button", name="Save roles", exact=True).click()
    assert answer.value.status == 409
    refused = page.locator("#grants-refused").inner_text()
    assert "the roles changed since this page was shown; nothing was saved" in refused
    assert _roles(live, carl.email) == ["viewer@None"]  # not given back
    # The form now shows the roles as they are: saved again, it gives nothing back.
    assert page.locator("#grants-role-0").input_value() == "viewer"
    page.locator("#grants-reason").fill("a new viewer row")
    with page.expect_response(lambda r: r.request.method == "GET") as again:
        page.get_by_role("button", name="Save roles", exact=True).click()
    assert again.value.status == 200
    assert _roles(live, carl.email) == ["viewer@None"]
    # Saved, and the page says so (it said nothing, the same page again).
    assert page.locator("#person-done").inner_text() == "Roles saved."
