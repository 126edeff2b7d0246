"""A refused token or invitation comes back as its form, with what was typed and the refusal
beside its field, in the person's language. It was a bare "Dat kan niet" page naming the
service's inputs (``token_name:``, ``grants:``, ``email:``), with everything typed gone and a
way back to the dashboard, which an admin may not open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine
from tests.http.support import MAKER

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.console.live import Person

INTERNAL = ("token_name", "grants:", "email:", "NAME:", "--role", "--cluster", "Dat kan niet")


@pytest.fixture
def admin(live: LiveEngine, request: pytest.FixtureRequest) -> Person:
    # One admin per test: a code is taken once, so a second sign-in in the same 30 s fails.
    return live.person(f"ada.{request.node.name[5:20]}@example.org", Grant(Role.ADMIN))


@pytest.fixture
def page(browser: Browser, live: LiveEngine, admin: Person) -> Iterator[Page]:
    context = new_context(browser, live)
    opened = context.new_page()
    open_session(opened, live, admin)
    context.add_cookies([{"name": "integrator-lang", "value": "nl", "url": live.url}])
    try:
        yield opened
    finally:
        context.close()


def _create_token(page: Page, name: str, role: str, cluster: str) -> int:
    page.goto("/tokens")
    page.get_by_label("Naam", exact=True).fill(name)
    page.get_by_label("Rol 1").select_option(role)
    page.get_by_label("Cluster 1").fill(cluster)
    with page.expect_response(lambda r: "?answer=" in r.url) as answer:
        page.get_by_role("button", name="Token aanmaken").click()
    return answer.value.status


def _kept_and_said(page: Page, field_id: str, expected: str) -> None:
    main = page.locator("main").inner_text()
    assert page.locator("#token-refused, #invite-refused").count() == 1
    assert expected in page.locator(f"#{field_id}-error").inner_text()
    assert not [word for word in INTERNAL if word in main], main


def test_a_refused_token_keeps_what_was_typed_and_says_why_beside_the_field(
    page: Page, live: LiveEngine
) -> None:
    # A name the rule refuses: beside the name, in Dutch; the name and the grant row are kept.
    assert _create_token(page, "lab feed!", "viewer", "CARD") == 422
    _kept_and_said(page, "name", "1 tot 100 letters")
    assert page.get_by_label("Naam", exact=True).input_value() == "lab feed!"
    assert page.get_by_label("Rol 1").input_value() == "viewer"
    assert page.get_by_label("Cluster 1").input_value() == "CARD"
    assert page.get_by_label("Naam", exact=True).get_attribute("aria-invalid") == "true"
    screenshot(page, "token-refused-name-nl")

    # A cluster no destination is in: beside the roles, naming the clusters there are.
    assert _create_token(page, "lab-feed", "viewer", "CRAD") == 422
    _kept_and_said(page, "grants", "geen bestemming hoort bij cluster CRAD")
    assert page.get_by_label("Naam", exact=True).input_value() == "lab-feed"
    assert page.get_by_label("Cluster 1").input_value() == "CRAD"
    # The keyboard's focus is on the cluster refused, which says why (aria-describedby).
    assert page.evaluate("document.activeElement.id") == "token-cluster-0"

    # A name that is taken: beside the name.
    live.call(live.engine.access.create_token(MAKER, "lab-taken", [Grant(Role.VIEWER)]))
    assert _create_token(page, "lab-taken", "viewer", "LAB") == 422
    _kept_and_said(page, "name", "er bestaat al een token met deze naam")
    assert page.get_by_label("Rol 1").input_value() == "viewer"
    assert page.get_by_label("Cluster 1").input_value() == "LAB"
    names = [t.name for t in live.call(live.engine.store.list_tokens())]
    assert "lab-feed" not in names and "lab feed!" not in names


def test_a_refused_invitation_keeps_what_was_typed_and_says_why_beside_the_field(
    page: Page, live: LiveEngine
) -> None:
    # No role: beside the roles; the address and the name are kept.
    page.goto("/people")
    page.get_by_label("E-mailadres").fill("nina.forms@example.org")
    page.get_by_label("Naam").fill("Nina")
    with page.expect_response(lambda r: "?answer=" in r.url) as answer:
        page.get_by_role("button", name="Uitnodigen", exact=True).click()
    assert answer.value.status == 422
    _kept_and_said(page, "grants", "geef minstens één rol")
    assert page.evaluate("document.activeElement.id") == "invite-role-0"
    assert page.get_by_label("E-mailadres").input_value() == "nina.forms@example.org"
    assert page.get_by_label("Naam").input_value() == "Nina"
    screenshot(page, "invite-refused-nl")

    # Someone invited already: beside the address; the roles typed are kept.
    live.person("olaf.forms@example.org", Grant(Role.VIEWER, "CARD"))
    page.get_by_label("E-mailadres").fill("olaf.forms@example.org")
    page.get_by_label("Rol 1").select_option("preview")
    page.get_by_label("Cluster 1").fill("CARD")
    page.get_by_label("Rol 2").select_option("viewer")
    page.get_by_role("button", name="Uitnodigen", exact=True).click()
    page.locator("#email-error").wait_for()
    _kept_and_said(page, "email", "dit e-mailadres heeft al een account of een openstaande")
    assert page.get_by_label("Rol 1").input_value() == "preview"
    assert page.get_by_label("Cluster 1").input_value() == "CARD"
    assert page.get_by_label("Rol 2").input_value() == "viewer"
    assert page.get_by_label("Cluster 2").input_value() == ""

    # A role that reads patient data, from an admin who does not hold it: not offered, and
    # why is said beside the roles before anything is sent (a forged form is still refused:
    # tests/console/test_grant_offers.py).
    options = page.get_by_label("Rol 1").locator("option").all_inner_texts()
    assert "resend" not in options and "viewer" in options, options
    why = page.locator("#invite-offers [data-role=resend]").inner_text()
    assert why.startswith("resend wordt niet aangeboden: resend leest patiëntgegevens"), why
    described = page.get_by_label("Rol 1").get_attribute("aria-describedby") or ""
    assert "invite-offers" in described.split(), described


def test_the_refusal_pages_way_back_is_a_page_the_person_may_open(page: Page) -> None:
    # An admin has no dashboard (no destinations.read): the way back is their start page.
    page.goto("/destinations")
    back = page.get_by_role("link", name="Naar je startpagina", exact=False)
    first = page.get_by_role("navigation").get_by_role("link").first
    href = back.get_attribute("href")
    assert href is not None and href != "/"
    assert href == first.get_attribute("href")
    back.click()
    page.wait_for_url(f"**{href}")
    assert page.locator("main h1").inner_text() != "Niet toegestaan"
