"""An admin manages people in the console, and never their own access: in a real browser
against a running engine (docs/access.md, docs/console.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import new_context, screenshot, sign_in
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


@pytest.fixture
def context(browser: Browser, live: LiveEngine) -> Iterator[BrowserContext]:
    opened = new_context(browser, live)
    try:
        yield opened
    finally:
        opened.close()


def person_id(live: LiveEngine, email: str) -> str:
    person = live.call(live.engine.store.get_person(email=email))
    assert person is not None
    return person.id


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
    sign_in(page, admin)
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
            headers={"Origin": live.url, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status == 403, (action, answer.text())
        assert "another admin, or the server" in answer.text(), action
    assert grants_of(live, admin.email) == {"admin@*"}
    page.goto("/people")  # still signed in, still an admin
    assert "/login" not in page.url
    actions = [a for a, _ in live.audit_actions(f"person:{admin.email}")]
    assert not [a for a in actions if a in ("person.grants", "person.role_deactivate")]
    assert "person.deactivate" not in actions
