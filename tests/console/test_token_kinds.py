"""The console says who made each token and whether it outlives them, where a token is made
and where it is listed, in English and Dutch; and a review of a person in the audit trail
offers the searches of their tokens, whose actions are recorded under the tokens' names
(docs/access.md, "Which one it is, said", "Finding entries"; docs/console.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import person_id, screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _make(page: Page, name: str, role: str, cluster: str = "") -> str:
    """Make a token with the form; the created page's sentence on whose it is."""
    page.goto("/tokens")
    page.locator("#token-name").fill(name)
    page.locator("#token-role-0").select_option(role)
    if cluster:
        page.locator("#token-cluster-0").fill(cluster)
    page.locator("form[action='/tokens'] button[type=submit]").click()
    return page.locator("#token-kind").inner_text()


def test_whose_token_is_said_at_the_making_and_in_the_list(
    browser: Browser, live: LiveEngine
) -> None:
    ada = live.person("ada.kinds@example.org", Grant(Role.ADMIN))
    sam = live.person("sam.kinds@example.org", Grant(Role.VIEWER, "CARD"))
    with signed_in_page(browser, live, sam) as page:
        page.goto("/tokens")
        assert "Each token you make here is your own token" in page.inner_text("#token-kind-help")
        said = _make(page, "sam-kinds-cli", "viewer", "CARD")
        assert said.startswith("This is your own token"), said
        screenshot(page, "token-created-own")
    with signed_in_page(browser, live, ada) as page:
        page.goto("/tokens")
        help_text = page.inner_text("#token-kind-help")
        assert "machine token" in help_text and "your own token" in help_text, help_text
        said = _make(page, "ada-kinds-feed", "intake")
        assert said.startswith("This is a machine token: it goes on working"), said
        page.goto("/tokens")
        rows = page.locator("#tokens tbody tr")
        own = rows.filter(has_text="sam-kinds-cli")
        assert own.locator("[data-made-by]").inner_text() == f"person:{sam.email}"
        assert own.locator("[data-kind]").inner_text() == (
            f"own token of person:{sam.email}: stops with that account"
        )
        machine = rows.filter(has_text="ada-kinds-feed")
        assert machine.locator("[data-made-by]").inner_text() == f"person:{ada.email}"
        assert machine.locator("[data-kind]").inner_text().startswith("machine token")
        screenshot(page, "tokens-made-by")
    bo = live.person("bo.kinds@example.org", Grant(Role.ADMIN))
    with signed_in_page(browser, live, bo, lang="nl") as page:
        page.goto("/tokens")
        said = page.locator("#tokens tbody tr").filter(has_text="sam-kinds-cli").inner_text()
        assert f"eigen token van person:{sam.email}" in said, said
        assert "Gemaakt door" in page.inner_text("#tokens thead")
        assert "machinetoken" in page.inner_text("#token-kind-help")


def test_a_review_of_a_person_offers_a_search_for_each_of_their_tokens(
    browser: Browser, live: LiveEngine
) -> None:
    ada = live.person("ada.review@example.org", Grant(Role.ADMIN))
    sam = live.person("sam.review@example.org", Grant(Role.VIEWER, "CARD"))
    with signed_in_page(browser, live, sam) as page:
        _make(page, "sam-review-cli", "viewer", "CARD")
    with signed_in_page(browser, live, ada) as page:
        # The trail searched for the person says their tokens' actions are not in it, and
        # offers a search of each token; none is offered for a person without tokens.
        page.goto("/audit")
        page.locator("#a-actor").fill(f"person:{ada.email}")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**/audit?search=*")
        assert page.locator("#a-actor").input_value() == f"person:{ada.email}"
        assert page.locator("#audit-person-tokens").count() == 0
        page.locator("#a-actor").fill(f"person:{sam.email}")
        page.get_by_role("button", name="Search", exact=True).click()
        page.locator("#audit-person-tokens").wait_for()
        assert "recorded under the token's name" in page.inner_text("#audit-person-tokens")
        offered = page.locator("#audit-person-token-searches button")
        assert offered.all_inner_texts() == ["Search token:sam-review-cli"]
        page.goto(f"/people/{person_id(live, sam.email)}")
        review = page.locator("#person-review button")
        assert review.all_inner_texts() == [
            f"Search person:{sam.email}",
            "Search token:sam-review-cli",
        ]
        screenshot(page, "person-review-tokens")
        page.locator("#person-review button[data-actor='token:sam-review-cli']").click()
        page.wait_for_url("**/audit?search=*")
        assert page.locator("#a-actor").input_value() == "token:sam-review-cli"
