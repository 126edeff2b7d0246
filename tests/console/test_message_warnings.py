"""A message's warnings on its page, in Dutch: in a real browser against a running engine.

The engine stores them in English (the CLI and the API show them so); the page words each in
the person's language (``integrator.console.warning_text``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import new_context, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_a_message_s_warnings_are_shown_in_dutch(browser: Browser, live: LiveEngine) -> None:
    # A cancel of a referral never sent (the ZD check warns), whose referrer's given name is
    # longer than PRD-2.2 and the other XCN-3 fields allow (the lengths warn).
    cancel = load_sample("referral")
    cancel["event_id"] = "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a0000c1"
    cancel["zd_number"] = "ZD100000042"
    cancel["action"] = "cancel"
    cancel["referrer"]["name"]["given"] = "Abcdefghij" * 5
    message_id = live.submit(cancel)
    stored = live.call(live.engine.store.get_message(message_id))
    assert stored is not None
    assert any(w.startswith("cancel_without_new: no new referral") for w in stored.warnings)
    assert any(re.fullmatch(r"\S.* shortened to 30 characters", w) for w in stored.warnings)

    person = live.person("wim@example.org", Grant(Role.RESEND))
    context = new_context(browser, live, lang="nl")
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("E-mailadres").fill(person.email)
        page.get_by_label("Wachtwoord").fill(person.password)
        page.get_by_label("Code uit je authenticator-app").fill(person.code())
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
        page.goto(f"/messages/{message_id}")
        page.get_by_role("heading", name="Waarschuwingen").wait_for()
        shown = page.locator("#warnings li").all_inner_texts()
        assert len(shown) == len(stored.warnings)
        assert not set(shown) & set(stored.warnings)  # none in English
        assert (
            "cancel_without_new: met dit ZD-nummer is geen nieuwe verwijzing aangenomen vóór "
            "deze annulering; de annulering wordt toch verstuurd, voor een verwijzing die de "
            "bestemming misschien nooit heeft ontvangen"
        ) in shown
        assert any(re.fullmatch(r"[A-Z].* ingekort tot 30 tekens", w) for w in shown), shown
        screenshot(page, "message-warnings-nl")
    finally:
        context.close()
    # What is stored stays English.
    again = live.call(live.engine.store.get_message(message_id))
    assert again is not None and again.warnings == stored.warnings
