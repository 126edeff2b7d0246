"""The console's two catalogues hold the same keys, and the language choice falls back well."""

from __future__ import annotations

import re
from pathlib import Path

from integrator.console.i18n import EN, NL, choose, translate
from tests.console.shaped_support import placeholders


def test_both_languages_have_every_key_with_the_sameplaceholders() -> None:
    assert set(EN) == set(NL)
    for key in EN:
        assert placeholders(EN[key]) == placeholders(NL[key]), key


def test_a_count_chooses_the_word_s_form_never_both_at_once() -> None:
    assert translate("nl", "dead.count", count=1) == "1 bericht"
    assert translate("nl", "dead.count", count=3) == "3 berichten"
    assert translate("nl", "dead.count", count=0) == "0 berichten"
    assert translate("en", "dead.count", count=1) == "1 message"
    # An accessible name too: a screen reader says it as written.
    assert translate("nl", "dashboard.dead_named", count=1, name="Zuid") == (
        "1 onbestelbaar bericht van Zuid"
    )
    said = translate("nl", "batch.count", total=3, going=1)
    assert said == "3 berichten gevonden; 1 zou herzonden worden."
    # Values read back from a stored English text are text: "1" is one all the same.
    assert translate("nl", "unrouted.done_count", routed="1", total="1") == (
        "1 van 1 gebeurtenis gerouteerd."
    )
    for catalogue in (EN, NL):
        for key, text in catalogue.items():
            # The engine's own English texts (``text.``) stay as it stores them: its shapes
            # read them back, from records older than this page too.
            if catalogue is NL or not key.startswith("text."):
                assert not re.search(r"[a-z]\((s|en|sen|den|e)\)|\w/\w+en\b", text), key
            for name in re.findall(r"\{(\w+)\|", text):  # chosen by a count the text shows
                assert "{" + name + "}" in text, (key, name)


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


DOCS = Path(__file__).resolve().parents[2] / "docs" / "console.md"


def _glossary() -> list[tuple[str, str, list[str]]]:
    """The rows of docs/console.md's glossary: English, Dutch, and the words not to use."""
    text = DOCS.read_text(encoding="utf-8").split("### Glossary", 1)[1]
    rows: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] in ("English", "---"):
            if rows and not line.startswith("|"):
                break
            continue
        english, dutch, avoided = cells
        rows.append((english, dutch, [w.strip() for w in avoided.split(",") if w.strip()]))
    return rows


def test_the_dutch_catalogue_uses_the_glossarys_terms() -> None:
    rows = _glossary()
    assert len(rows) >= 10
    dutch = "\n".join(NL.values()).lower()
    for english, term, avoided in rows:
        assert term.lower() in dutch, (english, term)
        for word in avoided:
            used = [k for k, v in NL.items() if re.search(rf"\b{re.escape(word)}\b", v, re.I)]
            assert not used, (english, word, used)


def test_the_dutch_pages_say_je_not_u() -> None:
    formal = [k for k, v in NL.items() if re.search(r"\b(u|uw)\b", v, re.IGNORECASE)]
    assert not formal, formal


def test_values_people_read_are_translated() -> None:
    assert translate("nl", "resend_mode.original") == "dezelfde bytes"
    assert translate("nl", "status.dead") == "onbestelbaar"
    assert translate("nl", "dashboard.dead") == translate("nl", "nav.deadletters")
    assert "herzenden" in translate("nl", "batch.start")
    assert translate("en", "message.resend") == "Resend"
    assert "patiëntgegevens" in translate("nl", "reason.hint")
    assert "patient data" in translate("en", "reason.hint")


def test_one_machine_token_kept_is_said_in_the_singular() -> None:
    """The deactivation page said "these 1 machine tokens" / "deze 1 machinetokens"."""
    from integrator.console.i18n import translate

    one = {
        lang: translate(lang, "people.deactivate.kept", email="a@b.nl", count=1)
        for lang in ("en", "nl")
    }
    assert one["en"].startswith("a@b.nl made 1 machine token. It goes on working")
    assert one["nl"].startswith("a@b.nl heeft 1 machinetoken gemaakt. Het blijft werken")
    two = translate("nl", "people.deactivate.kept", email="a@b.nl", count=2)
    assert two.startswith("a@b.nl heeft 2 machinetokens gemaakt. Ze blijven werken")
