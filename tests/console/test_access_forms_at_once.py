"""The invitation, token and grants forms say every mistake at once, each beside its field, in
the person's language. They said one per submit: an invitation with a malformed address, a
name too long and no role took three round trips, each naming only the next mistake."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session, person_id, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.console.live import Person

SAID = {
    "en": {
        "email": "not an e-mail address",
        "name": "at most 200 characters",
        "role": "give at least one role",
        "unknown": "no destination is in cluster CRAD",
        "intake": "intake is given for all clusters only",
        "taken": "an account or an open invitation already has this e-mail address",
        "token_name": "1 to 100 letters",
        "days": "a whole number of days",
        "reason": "a reason is required",
        "keep": "give at least one role (to take every role away",
        "no_role": "a row names cluster LAB but no role: choose its role, or empty its cluster",
    },
    "nl": {
        "email": "geen e-mailadres",
        "name": "hoogstens 200 tekens",
        "role": "geef minstens één rol",
        "unknown": "geen bestemming hoort bij cluster CRAD",
        "intake": "intake wordt alleen voor alle clusters gegeven",
        "taken": "dit e-mailadres heeft al een account of een openstaande uitnodiging",
        "token_name": "1 tot 100 letters",
        "days": "een heel aantal dagen",
        "reason": "een reden is verplicht",
        "keep": "geef minstens één rol",
        "no_role": "een rij noemt cluster LAB maar geen rol: kies de rol, of maak het cluster leeg",
    },
}
LABELS = {
    "en": {
        "email": "E-mail address",
        "name": "Name",
        "invite": "Invite",
        "token": "Create a token",
    },
    "nl": {
        "email": "E-mailadres",
        "name": "Naam",
        "invite": "Uitnodigen",
        "token": "Token aanmaken",
    },
}


@pytest.fixture
def admin(live: LiveEngine, request: pytest.FixtureRequest) -> Person:
    # One admin per test: a code is taken once, so a second sign-in in the same 30 s fails.
    test, lang = request.node.name[5:25], request.node.callspec.params["page"]
    return live.person(f"ada.{test}.{lang}@example.org", Grant(Role.ADMIN))


@pytest.fixture(params=["en", "nl"])
def page(
    browser: Browser, live: LiveEngine, admin: Person, request: pytest.FixtureRequest
) -> Iterator[Page]:
    context = new_context(browser, live, request.param)
    opened = context.new_page()
    open_session(opened, live, admin)
    context.add_cookies([{"name": "integrator-lang", "value": request.param, "url": live.url}])
    try:
        yield opened
    finally:
        context.close()


def _lang(page: Page) -> str:
    return page.locator("html").get_attribute("lang") or "en"


def _post(page: Page, button: str) -> int:
    """The status of the form's answer, as the console shows it: by a GET under
    ``?answer=`` (``console.answers``), never at the POST's address."""
    with page.expect_response(lambda r: "?answer=" in r.url) as answer:
        page.get_by_role("button", name=button, exact=True).click()
    return answer.value.status


def _post_in_place(page: Page, button: str) -> int:
    """The status of an invitation page's answer, which stays at its POST (it holds the
    authenticator secret, kept nowhere)."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=button, exact=True).click()
    return answer.value.status


def _error(page: Page, field: str) -> str:
    return page.locator(f"#{field}-error").inner_text()


def test_an_invitation_with_three_mistakes_says_all_three(
    page: Page, live: LiveEngine, admin: Person
) -> None:
    page.goto("/people")
    lang = _lang(page)
    said, label = SAID[lang], LABELS[lang]
    # An address the browser takes but the rule does not, a name too long, no role. The name
    # field stops at the service's limit, so a longer one is a forged form (test_form_limits).
    page.get_by_label(label["email"]).fill("nina@localhost")
    name = page.get_by_label(label["name"], exact=True)
    assert name.get_attribute("maxlength") == "200"
    name.evaluate("input => input.removeAttribute('maxlength')")
    name.fill("N" * 250)
    assert _post(page, label["invite"]) == 422
    assert said["email"] in _error(page, "email")
    assert said["name"] in _error(page, "name")
    assert said["role"] in _error(page, "grants")
    for field in ("email", "name"):
        assert page.locator(f"#invite-{field}").get_attribute("aria-invalid") == "true"
    assert page.locator("#invite-role-0").get_attribute("aria-invalid") == "true"
    screenshot(page, f"invite-three-mistakes-{lang}")

    # Grant rows wrong in two ways, and an address that has an account: all three, each
    # beside its field; the rows each refusal is about are marked.
    live.person(f"olaf.{lang}@example.org", Grant(Role.VIEWER, "CARD"))
    page.get_by_label(label["email"]).fill(f"olaf.{lang}@example.org")
    page.get_by_label(label["name"], exact=True).fill("")
    page.locator("#invite-role-0").select_option("viewer")
    page.locator("#invite-cluster-0").fill("CRAD")
    page.locator("#invite-role-1").select_option("intake")
    page.locator("#invite-cluster-1").fill("CARD")
    assert _post(page, label["invite"]) == 422
    assert said["taken"] in _error(page, "email")
    assert "olaf" not in _error(page, "email")  # the rule, not the address typed
    grants = _error(page, "grants")
    assert said["unknown"] in grants and said["intake"] in grants, grants
    assert page.locator("#name-error").count() == 0
    assert page.locator("#invite-cluster-0").get_attribute("aria-invalid") == "true"
    assert page.locator("#invite-cluster-1").get_attribute("aria-invalid") == "true"
    assert page.locator("[id=grants-error]").count() == 1  # one element the rows point at
    # Nobody was invited and nothing audited.
    assert live.call(live.engine.store.get_person(email="nina@localhost")) is None
    assert not [a for a, _ in live.audit_actions(f"person:{admin.email}") if a == "person.invite"]


def test_a_token_with_three_mistakes_says_all_three(page: Page, live: LiveEngine) -> None:
    page.goto("/tokens")
    lang = _lang(page)
    said, label = SAID[lang], LABELS[lang]
    page.get_by_label(label["name"], exact=True).fill("lab feed!")
    page.locator("#token-role-0").select_option("viewer")
    page.locator("#token-cluster-0").fill("CRAD")
    page.locator("#token-role-1").select_option("intake")
    page.locator("#token-cluster-1").fill("CARD")
    assert _post(page, label["token"]) == 422
    assert said["token_name"] in _error(page, "name")
    grants = _error(page, "grants")
    assert said["unknown"] in grants and said["intake"] in grants, grants
    # A number of days that is none (the browser's own check taken off, as an old browser
    # or a script sends it) is said with the rest; nothing is made.
    page.locator("#token-days").evaluate("input => input.type = 'text'")
    page.locator("#token-days").fill("1.5")
    assert _post(page, label["token"]) == 422
    assert said["days"] in _error(page, "days")
    assert said["token_name"] in _error(page, "name")
    assert said["unknown"] in _error(page, "grants")
    screenshot(page, f"token-mistakes-{lang}")
    assert live.call(live.engine.store.list_tokens()) == []


def test_the_grants_form_says_a_blank_reason_with_the_rows(page: Page, live: LiveEngine) -> None:
    page.goto("/people")
    lang = _lang(page)
    colleague = live.person(f"piet.{lang}@example.org", Grant(Role.VIEWER, "CARD"))
    page.goto(f"/people/{person_id(live, colleague.email)}")
    page.locator("#grants-role-0").select_option("")
    page.locator("#grants-cluster-0").fill("")
    page.locator("#grants-reason").fill("   ")
    assert _post(page, {"en": "Save roles", "nl": "Rollen opslaan"}[lang]) == 422
    refused = page.locator("#grants-refused").inner_text()
    assert SAID[lang]["keep"] in refused and SAID[lang]["reason"] in refused, refused
    assert page.locator("#grants-reason").get_attribute("aria-invalid") == "true"
    assert page.locator("#grants-role-0").get_attribute("aria-invalid") == "true"
    held = live.call(live.engine.store.get_person(email=colleague.email))
    assert held is not None and [g.role for g in held.grants if g.active] == ["viewer"]


def test_accepting_says_passwords_that_differ_with_a_wrong_code(
    browser: Browser, live: LiveEngine
) -> None:
    """Each try costs the invited person a fresh code from the app: two passwords that differ
    and a wrong code are said together, in their language; the account stays invited."""
    link = live.invitation_link("rosa.accept@example.org", Grant(Role.VIEWER))
    context = new_context(browser, live, "nl")
    try:
        page = context.new_page()
        page.goto(link[link.index("/invitation") :])
        page.locator("#password").fill("een lang genoeg wachtwoord")
        page.locator("#password_again").fill("een ander lang wachtwoord")
        page.locator("#code").fill("000000")
        assert _post_in_place(page, "Account activeren") == 422
        said = page.locator("#invite-problem").inner_text()
        assert "De twee wachtwoorden verschillen." in said, said
        assert "niet de code die de authenticator-app nu toont" in said, said
        # The address as the password and a wrong code: both too.
        page.locator("#password").fill("rosa.accept@example.org")
        page.locator("#password_again").fill("rosa.accept@example.org")
        page.locator("#code").fill("000000")
        assert _post_in_place(page, "Account activeren") == 422
        said = page.locator("#invite-problem").inner_text()
        assert "niet het e-mailadres van het account" in said, said
        assert "niet de code die de authenticator-app nu toont" in said, said
        screenshot(page, "accept-two-mistakes-nl")
    finally:
        context.close()
    person = live.call(live.engine.store.get_person(email="rosa.accept@example.org"))
    assert person is not None and person.status == "invited"


def test_a_row_with_a_cluster_and_no_role_is_refused_not_dropped(
    page: Page, live: LiveEngine
) -> None:
    """It was dropped without a word: the person was invited with fewer roles than meant."""
    page.goto("/people")
    lang = _lang(page)
    email = f"rita.{lang}@example.org"
    page.get_by_label(LABELS[lang]["email"]).fill(email)
    page.locator("#invite-role-0").select_option("viewer")
    page.locator("#invite-cluster-0").fill("CARD")
    page.locator("#invite-cluster-1").fill("LAB")
    assert _post(page, LABELS[lang]["invite"]) == 422
    assert SAID[lang]["no_role"] in page.locator("main").inner_text()
    assert live.call(live.engine.store.get_person(email=email)) is None


def test_a_cluster_with_a_space_marks_its_own_row(page: Page, live: LiveEngine) -> None:
    """The refusal named the cluster quoted (``' CARD'``), matched no row, and marked the
    first row's role, a control with nothing wrong with it."""
    page.goto("/people")
    lang = _lang(page)
    page.get_by_label(LABELS[lang]["email"]).fill(f"sven.{lang}@example.org")
    page.locator("#invite-role-0").select_option("viewer")
    page.locator("#invite-cluster-0").fill("CARD")
    page.locator("#invite-role-1").select_option("viewer")
    page.locator("#invite-cluster-1").fill(" LAB")
    assert _post(page, LABELS[lang]["invite"]) == 422
    assert page.locator("#invite-cluster-1").get_attribute("aria-invalid") == "true"
    assert page.locator("#invite-role-0").get_attribute("aria-invalid") is None
