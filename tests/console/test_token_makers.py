"""An admin in the console: no token that reads patient data unless they hold that role
themselves (not offered, and said why in Dutch), other roles as before; and the machine
tokens an admin made are shown before their account is deactivated (docs/access.md, "Who may
make one")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _make_token(page: Page, name: str, role: str, *, create: str) -> None:
    page.goto("/tokens")
    page.locator("#token-name").fill(name)
    page.locator("#token-role-0").select_option(role)
    page.get_by_role("button", name=create).click()


def test_an_admin_is_refused_a_resend_token_and_sees_their_tokens_before_deactivating(
    browser: Browser, live: LiveEngine
) -> None:
    ada = live.person("ada.makers@example.org", Grant(Role.ADMIN))
    dutch = new_context(browser, live, lang="nl")
    try:
        page = dutch.new_page()
        open_session(page, live, ada)
        page.goto("/tokens")
        # Not offered, and said why beside the roles (the service's own refusal); a form made
        # by hand with it is refused as before (tests/console/test_access_forms.py).
        offered = page.locator("#token-role-0 option").all_inner_texts()
        assert "resend" not in offered and "intake" in offered, offered
        said = page.inner_text("main")
        assert "resend wordt niet aangeboden" in said, said
        assert "resend leest patiëntgegevens" in said, said
        assert "alleen hebben waar je zelf resend hebt, dus niet resend@*" in said
        screenshot(page, "token-patient-data-not-offered-nl")
        _make_token(page, "upstream-intake", "intake", create="Token aanmaken")
        page.get_by_role("heading", name="Token aangemaakt").wait_for()
    finally:
        dutch.close()
    names = {t.name for t in live.call(live.engine.store.list_tokens())}
    assert "upstream-intake" in names and "upstream-resend" not in names

    bo = live.person("bo.makers@example.org", Grant(Role.ADMIN))
    english = new_context(browser, live)
    try:
        page = english.new_page()
        open_session(page, live, bo)
        ada_record = live.call(live.engine.store.get_person(email=ada.email))
        assert ada_record is not None
        page.goto(f"/people/{ada_record.id}/deactivate")
        kept = page.get_by_role("table", name="Machine tokens made by this person")
        assert "upstream-intake" in kept.inner_text() and "intake@*" in kept.inner_text()
        assert "made 1 machine token. It goes on working" in page.locator("main").inner_text()
        screenshot(page, "person-deactivate-kept-tokens")
    finally:
        english.close()
