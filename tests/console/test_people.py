"""An admin manages people in the console, and never their own access: in a real browser
against a running engine (docs/access.md, docs/console.md)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from integrator.access import Grant, Role
from tests.console.conftest import open_session, person_id, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


def csrf_of(page: Page) -> str:
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    return token


def grants_of(live: LiveEngine, email: str) -> set[str]:
    person = live.call(live.engine.store.get_person(email=email))
    assert person is not None
    return {f"{g.role}@{g.cluster or '*'}" for g in person.grants if g.active}


def test_an_admin_cannot_change_their_own_roles_or_deactivate_themselves(
    context: BrowserContext, live: LiveEngine
) -> None:
    admin = live.person("ali@example.org", Grant(Role.ADMIN))
    page = context.new_page()
    open_session(page, live, admin)
    own = person_id(live, admin.email)
    page.goto(f"/people/{own}")
    assert "another admin, or the server's CLI" in page.locator("#own-roles").inner_text()
    for button in ("Save roles", "Take this role away", "Deactivate the account"):
        assert page.get_by_role("button", name=button).count() == 0, button
    screenshot(page, "person-own")

    # The service refuses what a forged form asks, whatever the page shows.
    forged: dict[str, dict[str, str | list[str]]] = {
        "grants": {"role": ["admin", "resend"], "cluster": ["", ""], "reason": "need it"},
        "deactivate-role": {"role": "admin", "cluster": "", "reason": "leaving"},
        "deactivate": {"reason": "leaving"},
    }
    for action, form in forged.items():
        answer = page.request.post(
            f"/people/{own}/{action}",
            data=urlencode({**form, "csrf": csrf_of(page)}, doseq=True),
            headers={
                "Origin": live.url,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept-Language": "en",
            },
        )
        assert answer.status == 403, (action, answer.text())
        assert "another admin does it, or an administrator on the server" in answer.text(), action
    assert grants_of(live, admin.email) == {"admin@*"}
    page.goto("/people")  # still signed in, still an admin
    assert "/login" not in page.url
    actions = [a for a, _ in live.audit_actions(f"person:{admin.email}")]
    assert not [a for a in actions if a in ("person.grants", "person.role_deactivate")]
    assert "person.deactivate" not in actions


def test_changes_of_someones_access_need_a_reason_and_deactivating_asks_first(
    context: BrowserContext, live: LiveEngine
) -> None:
    admin = live.person("ada@example.org", Grant(Role.ADMIN))
    anna = live.person("anna@example.org", Grant(Role.RESEND, "CARD"))
    page = context.new_page()
    open_session(page, live, admin)
    page.goto(f"/people/{person_id(live, anna.email)}")
    required = "reason: a reason is required"

    # Save roles with a reason of blanks: refused on the form, what was typed is kept.
    page.locator("#grants-role-0").select_option("viewer")
    page.locator("#grants-cluster-0").fill("LAB")
    page.get_by_label("Reason").last.fill("   ")
    page.get_by_role("button", name="Save roles").click()
    assert required in page.locator("#grants-refused").inner_text()
    assert page.evaluate("document.activeElement.id") == "grants-reason"
    assert page.locator("#grants-role-0").input_value() == "viewer"
    assert page.locator("#grants-cluster-0").input_value() == "LAB"
    screenshot(page, "person-grants-refused")
    assert grants_of(live, anna.email) == {"resend@CARD"}
    # With a reason it is done, and the reason is in the audit trail.
    page.locator("#grants-reason").fill("moves to the lab desk")
    page.get_by_role("button", name="Save roles").click()
    page.locator("#own-roles, #grants-title").first.wait_for()
    assert grants_of(live, anna.email) == {"viewer@LAB"}

    # Take this role away without a reason: refused beside that grant, nothing taken.
    row = page.locator("li", has_text="viewer@LAB")
    row.get_by_label("Reason").fill("  ")
    row.get_by_role("button", name="Take this role away").click()
    refusal = page.locator('[data-form="role:viewer@LAB"]')
    assert required in refusal.inner_text()
    # The focus moves to the refused field once the answer is swapped in, a moment after its
    # text shows: waited for (read at once, it was sometimes still on the button, in CI).
    page.wait_for_function(
        "(document.activeElement?.getAttribute('aria-describedby') || '').endsWith('-refused')"
    )
    assert grants_of(live, anna.email) == {"viewer@LAB"}

    # Deactivating first says what it does, and that it is final; then it needs a reason.
    page.get_by_role("button", name="Deactivate the account…").click()
    page.wait_for_url(re.compile(r"/deactivate\??$"))
    assert "cannot be undone" in page.locator("#deactivate-effects").inner_text()
    page.get_by_label("Reason").fill("   ")
    page.get_by_role("button", name="Deactivate the account").click()
    assert required in page.locator("#deactivate-refused").inner_text()
    assert page.evaluate("document.activeElement.id") == "deactivate-reason"
    assert page.get_by_label("Reason").input_value() == "   "
    screenshot(page, "person-deactivate-refused")
    person = live.call(live.engine.store.get_person(email=anna.email))
    assert person is not None and person.status == "active"
    page.get_by_label("Reason").fill("left the team")
    page.get_by_role("button", name="Deactivate the account").click()
    page.locator("#deactivated-final").wait_for()
    entries = live.call(live.engine.store.list_audit(target=f"person:{anna.email}"))
    reasons = {(e.action, e.reason) for e in entries if e.actor == f"person:{admin.email}"}
    assert reasons == {
        ("person.grants", "moves to the lab desk"),
        ("person.deactivate", "left the team"),
    }


def test_a_cluster_admin_changes_only_the_grants_of_their_clusters(
    context: BrowserContext, live: LiveEngine
) -> None:
    """A CARD admin on the page of someone who is admin for all clusters: the form held
    admin@* and saving was refused for it ('you may not give admin@*'), and admin@* had a
    take-away button that could only be refused. Now the form holds the CARD grants only, the
    others stay, and only those have a button."""
    root = live.person("root.wide@example.org", Grant(Role.ADMIN), Grant(Role.VIEWER, "CARD"))
    card = live.person("cardadmin@example.org", Grant(Role.ADMIN, "CARD"))
    page = context.new_page()
    open_session(page, live, card)
    page.goto(f"/people/{person_id(live, root.email)}")
    buttons = page.get_by_role("button", name=re.compile("Take this role away"))
    assert buttons.count() == 1  # viewer@CARD's, not admin@*'s
    assert page.locator("#grants-role-0").input_value() == "viewer"
    assert page.locator("#grants-cluster-0").input_value() == "CARD"
    assert page.locator("#grants-role-1").input_value() == ""
    page.locator("#grants-role-1").select_option("reports")
    page.locator("#grants-cluster-1").fill("CARD")
    page.get_by_label("Reason for changing the roles").fill("reports for the card desk")
    page.get_by_role("button", name="Save roles").click()
    page.locator("li", has_text="reports@CARD").wait_for()  # the page after the change
    assert grants_of(live, root.email) == {"admin@*", "viewer@CARD", "reports@CARD"}
