"""Three defects an audit of the people pages found, each in a real browser against a running
engine: a reload of *Send the invitation again* made a new link and killed the one on screen;
a reset went through with a reason of blanks; an admin limited to one cluster was shown the
whole-account buttons for someone who also holds a role elsewhere (docs/console.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session, person_id
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext


def test_a_reload_of_the_reinvite_answer_makes_no_new_link(
    browser: Browser, context: BrowserContext, live: LiveEngine
) -> None:
    admin = live.person("ada@example.org", Grant(Role.ADMIN))
    live.invitation_link("nina@example.org", Grant(Role.VIEWER))
    page = context.new_page()
    open_session(page, live, admin)
    page.goto(f"/people/{person_id(live, 'nina@example.org')}")
    page.get_by_role("button", name="Send the invitation again").click()
    first = page.get_by_label("Invitation link").input_value()
    assert "/invitation#" in first

    page.reload()  # a GET (``console.answers``): the link was shown once, the person's page
    page.get_by_role("button", name="Send the invitation again").wait_for()
    assert page.get_by_label("Invitation link").count() == 0
    assert first.split("#", 1)[1] not in page.content() and "#" not in page.url
    page.reload()  # shown again, nothing made
    made = [a for a, _ in live.audit_actions(f"person:{admin.email}") if a == "person.reinvite"]
    assert made == ["person.reinvite"]

    # The link on screen still opens the invitation.
    nina = new_context(browser, live)
    try:
        nina_page = nina.new_page()
        nina_page.goto(first[first.index("/invitation") :])
        nina_page.locator("#totp-secret").wait_for()
    finally:
        nina.close()


def test_a_reset_with_a_reason_of_blanks_is_refused_beside_the_field(
    context: BrowserContext, live: LiveEngine
) -> None:
    admin = live.person("abe@example.org", Grant(Role.ADMIN), Grant(Role.RESEND, "CARD"))
    anna = live.person("ann@example.org", Grant(Role.RESEND, "CARD"))
    page = context.new_page()
    open_session(page, live, admin)
    page.goto(f"/people/{person_id(live, anna.email)}/second-factor/reset")
    page.get_by_label("Reason").fill("   ")
    with page.expect_response(lambda r: "?answer=" in r.url) as answer:
        page.get_by_role("button", name="Reset the second factor", exact=True).click()
    assert answer.value.status == 422
    assert "a reason is required" in page.locator("#reset-refused").inner_text()
    assert page.get_by_label("Reason").get_attribute("aria-invalid") == "true"
    assert live.call(live.engine.store.get_person(email=anna.email)).status == "active"  # type: ignore[union-attr]
    assert not [a for a, _ in live.audit_actions(f"person:{admin.email}") if "reset" in a]
    # The form is kept: with a reason it goes through.
    page.get_by_label("Reason").fill("phone lost")
    page.get_by_role("button", name="Reset the second factor", exact=True).click()
    page.get_by_role("heading", name="Second factor reset").wait_for()


def test_no_whole_account_buttons_for_someone_with_a_role_outside_ones_clusters(
    context: BrowserContext, live: LiveEngine
) -> None:
    admin = live.person("aad@example.org", Grant(Role.ADMIN, "CARD"))
    wide = live.person("wim@example.org", Grant(Role.VIEWER, "CARD"), Grant(Role.VIEWER, "LAB"))
    narrow = live.person("nel@example.org", Grant(Role.VIEWER, "CARD"))
    page = context.new_page()
    open_session(page, live, admin)
    buttons = ("Reset the second factor…", "Deactivate the account…")

    page.goto(f"/people/{person_id(live, wide.email)}")
    assert "outside your clusters" in page.locator("#account-elsewhere").inner_text()
    for button in buttons:
        assert page.get_by_role("button", name=button).count() == 0, button

    page.goto(f"/people/{person_id(live, narrow.email)}")
    assert page.locator("#account-elsewhere").count() == 0
    for button in buttons:
        assert page.get_by_role("button", name=button).count() == 1, button
