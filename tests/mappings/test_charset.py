"""Charset encoding: UTF-8 and Latin-1 with transliteration; never fails, never leaks text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappings import UnknownCharsetError, encode, map_event
from mappings.charset import LATIN1, UTF8, transliterate_char
from schemas import DiagnosticRequest, Referral
from tests.mappings.helpers import context, read_back, replace_at, value


def test_utf8_passes_everything_through() -> None:
    assert encode("Łódź € 中文 ü", UTF8) == ("Łódź € 中文 ü".encode(), ())


def test_latin1_keeps_latin1_without_warning() -> None:
    assert encode("Café Ürün ß ½", LATIN1) == ("Café Ürün ß ½".encode("latin-1"), ())


def test_latin1_transliterates_and_counts() -> None:
    data, warnings = encode("Małgorzata Wiśniewska betaalt 5 € – oké", LATIN1)
    assert data == "Malgorzata Wisniewska betaalt 5 EUR - oké".encode("latin-1")
    assert warnings == ("4 characters outside ISO 8859-1 were transliterated",)


def test_latin1_replaces_what_has_no_equivalent() -> None:
    data, warnings = encode("Ω中ł", LATIN1)
    assert data == b"??l"
    assert warnings == (
        "3 characters outside ISO 8859-1 were transliterated",
        "2 characters without a Latin-1 equivalent were replaced by '?'",
    )


def test_warnings_never_contain_the_text() -> None:
    _, warnings = encode("Jiří Dvořák", LATIN1)
    assert warnings == ("2 characters outside ISO 8859-1 were transliterated",)
    assert not any(name in warning for warning in warnings for name in ("Ji", "Dvo", "ř"))


@pytest.mark.parametrize(
    ("char", "expected"),
    [
        ("ł", "l"),
        ("Ł", "L"),
        ("€", "EUR"),
        ("ĳ", "ij"),
        ("œ", "oe"),
        ("ș", "s"),
        ("…", "..."),
        ("ﬁ", "fi"),
        ("中", "?"),
        # Fullwidth forms decompose to HL7 delimiters: never let one through.
        ("＾", "?"),
        ("｜", "?"),
        ("＆", "?"),
        ("～", "?"),
        ("＼", "?"),
    ],
)
def test_transliterate_char(char: str, expected: str) -> None:
    assert transliterate_char(char) == expected


def test_lone_surrogates_are_replaced_in_utf8() -> None:
    data, warnings = encode("a\ud800b", UTF8)
    assert data == b"a?b"
    assert warnings == (
        "1 character that cannot be encoded in UTF-8 (lone surrogates) was replaced by '?'",
    )


@given(st.text(st.characters(exclude_categories=())))  # surrogates included
def test_latin1_never_fails_and_never_adds_delimiters(text: str) -> None:
    data, warnings = encode(text, LATIN1)
    decoded = data.decode("latin-1")
    for delimiter in "|^~&\r\n":
        assert decoded.count(delimiter) == text.count(delimiter)
    # Only as the two of a `\X2222\` for a value of typographic quotes (the HL7 null).
    added = decoded.count("\\") - text.count("\\")
    assert added >= 0 and added % 2 == 0
    composed = unicodedata.normalize("NFC", text)
    assert bool(warnings) == any(char > "\xff" for char in composed)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        # Decomposed (NFD), as phones and Macs type: composed, the letters are Latin-1.
        ("Mu\u0308ller Zoe\u0308", "Müller Zoë"),
        ("Wis\u0301niewska", "Wisniewska"),  # ś is not Latin-1: transliterated, not `s?`
        ("q\u0307", "q"),  # a mark nothing composes with: dropped, its letter kept
    ],
)
def test_latin1_composes_decomposed_letters_first(text: str, sent: str) -> None:
    assert encode(text, LATIN1)[0] == sent.encode("latin-1")


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("PID|1||“”|x", "PID|1||\\X2222\\|x"),
        ("RF1|„“^”“~‟″\r", "RF1|\\X2222\\^\\X2222\\~\\X2222\\\r"),
        ("OBX|say “hi”|“”x", 'OBX|say "hi"|""x'),  # not a whole value: plain quotes
    ],
)
def test_latin1_never_makes_the_hl7_null_of_typographic_quotes(text: str, sent: str) -> None:
    """`“”` transliterated was `""`: "delete this value" to a receiver."""
    assert encode(text, LATIN1)[0] == sent.encode("latin-1")


@given(st.text(st.characters(exclude_categories=())))  # surrogates included
def test_utf8_never_fails(text: str) -> None:
    data, _ = encode(text, UTF8)
    assert data.decode("utf-8").count("|") == text.count("|")


def test_unknown_charset_is_refused() -> None:
    with pytest.raises(UnknownCharsetError, match="UNICODE UTF-8, 8859/1"):
        encode("x", "ASCII")


# --- per version: Latin-1 versions transliterate and warn, UTF-8 versions send as is ---------

NAMES = {"given": "Łukasz", "family": "Dvořák", "prefix": "van 😀", "initials": "中文"}


@pytest.mark.parametrize("version", ["ref-v1", "orm-lfdv2"])
def test_latin1_versions_transliterate_with_a_warning(
    version: str, referral: Referral, diagnostic_request: DiagnosticRequest
) -> None:
    event: Referral | DiagnosticRequest = referral if version == "ref-v1" else diagnostic_request
    for attribute, text in NAMES.items():
        event = replace_at(event, ("patient", "name", attribute), text)
    mapped = map_event(version, event, context())
    assert mapped.warnings == (
        "7 characters outside ISO 8859-1 were transliterated",
        "4 characters without a Latin-1 equivalent were replaced by '?'",
    )
    message = read_back(mapped)
    assert value(message, "MSH.F18") == "8859/1"
    assert value(message, "PID.F5.R1.C2") == "Lukasz"
    assert value(message, "PID.F5.R1.C1.S3") == "Dvorák"
    assert value(message, "PID.F5.R1.C1.S2") == "van ?"
    assert value(message, "PID.F5.R1.C3") == "??"
    assert value(message, "PID.F5.R1.C1.S1").endswith("van ? Dvorák")
    assert mapped.data.decode("latin-1").count("|") == mapped.text.count("|")
    assert not any(part in " ".join(mapped.warnings) for part in ("ukasz", "Dvo", "中"))


@pytest.mark.parametrize("version", ["ref-v2", "orm-v3", "oml-v3"])
def test_utf8_versions_send_every_character(
    version: str, referral: Referral, diagnostic_request: DiagnosticRequest
) -> None:
    event: Referral | DiagnosticRequest = referral if version == "ref-v2" else diagnostic_request
    for attribute, text in NAMES.items():
        event = replace_at(event, ("patient", "name", attribute), text)
    mapped = map_event(version, event, context())
    assert mapped.warnings == ()
    message = read_back(mapped)
    for key, text in (("PID.F5.R1.C2", "Łukasz"), ("PID.F5.R1.C1.S2", "van 😀")):
        assert value(message, key) == text
