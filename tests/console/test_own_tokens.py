"""Support staff make tokens of their own in the console, for the CLI's commands that go
through the running engine (``INTEGRATOR_TOKEN``); the page only asked admins before, so the
way the docs describe did not exist."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from integrator.access import Grant, Role
from tests.console.conftest import open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_support_makes_a_token_of_their_own_within_their_grants_and_revokes_it(
    page: Page, live: LiveEngine
) -> None:
    support = live.person("sam.tokens@example.org", Grant(Role.RESEND, "CARD"))
    open_session(page, live, support)
    page.goto("/messages")
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/tokens")
    assert "Your own tokens" in page.locator("main").inner_text()
    # Only the roles the person holds are offered.
    offered = page.get_by_label("Role 1").locator("option").all_inner_texts()
    assert "admin" not in offered and "resend" in offered
    # The validity's label says what empty means: the engine's default, 90 days.
    assert page.get_by_label("Valid for (days; empty: 90)").count() == 1

    page.get_by_label("Name", exact=True).fill("sam-laptop")
    page.get_by_label("Role 1").select_option("resend")
    page.get_by_label("Cluster 1").fill("CARD")
    page.get_by_role("button", name="Create a token").click()
    secret = page.get_by_label("Token", exact=True).input_value()
    screenshot(page, "own-token-created")

    # The token works as its owner, within the owner's clusters.
    with httpx.Client(base_url=live.url, verify=False) as api:
        bearer = {"Authorization": f"Bearer {secret}"}
        assert api.get("/api/v1/messages", headers=bearer).status_code == 200
        assert api.get("/api/v1/audit", headers=bearer).status_code == 403

    # More than the person holds is refused, and nothing is made.
    page.goto("/tokens")
    page.get_by_label("Name", exact=True).fill("sam-everything")
    page.get_by_label("Role 1").select_option("resend")
    page.get_by_label("Cluster 1").fill("LAB")
    page.get_by_role("button", name="Create a token").click()
    assert "sam-everything" not in [t.name for t in live.call(live.engine.store.list_tokens())]

    page.goto("/tokens")
    page.get_by_label("Reason").first.fill("laptop replaced")
    page.get_by_role("button", name="Revoke").first.click()
    page.get_by_role("cell", name="revoked").first.wait_for(state="visible")
    with httpx.Client(base_url=live.url, verify=False) as api:
        refused = api.get("/api/v1/messages", headers={"Authorization": f"Bearer {secret}"})
        assert refused.status_code == 401
    actions = [action for action, _ in live.audit_actions(f"person:{support.email}")]
    assert "token.create" in actions and "token.revoke" in actions
