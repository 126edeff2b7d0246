"""The console's two catalogues hold the same keys, and the language choice falls back well."""

from __future__ import annotations

import string

from integrator.console.i18n import EN, NL, choose, translate


def test_both_languages_have_every_key_with_the_same_placeholders() -> None:
    assert set(EN) == set(NL)
    fields = string.Formatter()
    for key in EN:
        english = {name for _, name, _, _ in fields.parse(EN[key]) if name}
        dutch = {name for _, name, _, _ in fields.parse(NL[key]) if name}
        assert english == dutch, key


def test_dutch_pages_use_the_words_of_dutch_support_staff() -> None:
    assert translate("nl", "event.referral") == "verwijzing"
    assert translate("nl", "event.diagnostic_request") == "aanvraag"
    assert "Herzenden" in translate("nl", "message.resend")
    assert translate("nl", "messages.destination") == "Bestemming"


def test_the_cookie_wins_then_the_browser_then_dutch() -> None:
    assert choose("en", "nl-NL,nl;q=0.9") == "en"
    assert choose(None, "en-GB,en;q=0.9") == "en"
    assert choose("fr", "de-DE, fr") == "nl"
    assert choose(None, None) == "nl"
