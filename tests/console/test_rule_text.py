"""A rejected input's rules, said in the person's language (``integrator.console.rule_text``).

Intake keeps each broken rule with an English sentence (``schemas``), as the API's 422 answer
and the CLI show it; the console reads the sentence back by the ``Shape`` it was written with.
Here the real intake validation refuses real input; each sentence must be worded in Dutch and
in English exactly as written; a sentence no shape reads is shown as stored.
"""

from __future__ import annotations

import string
from typing import Any

import pytest

from integrator.console.i18n import Translator
from integrator.console.rule_text import RULES, word
from schemas import EventValidationError, parse_event
from schemas.rules import RULE_MESSAGES, message_for
from tests.conftest import load_sample
from tests.console.shaped_support import assert_every_shape_has_its_sentences

SAMPLE_VALUES = {"expected": "'referral', 'diagnostic_request'", "count": "2", "rule": "x_y"}
SAMPLE_VALUES["detail"] = "EOF while parsing a value at line 1 column 6"
SAMPLE_VALUES.update(size="74099373", limit="74099372", media_type="text/plain", charset="latin1")
SAMPLE_VALUES.update(places="patient.address.postcode, referrer.name.family", key="zd_number")
SAMPLE_VALUES.update(parts="questions (1080000), letter (70012), … (9)")


def _refused(raw: bytes | dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(EventValidationError) as refused:
        parse_event(raw)
    return refused.value.to_json()


def _broken(**changes: Any) -> dict[str, Any]:
    event = load_sample("referral")
    event.update(changes)
    return event


@pytest.mark.parametrize(
    ("raw", "dutch"),
    [
        (_broken(event_id="not-a-uuid"), ["moet een UUID zijn"]),
        (_broken(type="nope"), ["moet een van deze zijn: 'referral', 'diagnostic_request'"]),
        (
            b'{"a": ',
            ['is geen geldige JSON: "EOF while parsing a value at line 1 column 6"'],
        ),
        (
            _broken(schema_version="x"),
            ["moet het getal 1 zijn (de enige ondersteunde schemaversie)"],
        ),
        (_broken(zd_number="123"), ["moet een ZD-nummer zijn: 'ZD' gevolgd door 9 cijfers"]),
        (_broken(bsn="x"), ["is hier geen veld; het schema heeft het bij patient.bsn"]),
        (_broken(zd_numer="x"), ["is geen bekend veld; bedoel je zd_number?"]),
        (
            b"\xef\xbb\xbf{}",
            ["is geen geldige JSON: het begint met een UTF-8-byte-order-mark; stuur het zonder"],
        ),
        (_broken(icpc=[{}] * 101), ["moet hoogstens 100 onderdelen bevatten"]),
        (
            _broken(questions=[{"title": 1}] * 101),
            [
                *["moet een tekst zijn", "is verplicht", "is verplicht"] * 33,
                "moet een tekst zijn",
                "… en nog 203, niet genoemd (een antwoord noemt er hoogstens 100)",
            ],
        ),
    ],
)
def test_intake_s_refusals_are_worded_in_dutch(raw: Any, dutch: list[str]) -> None:
    rules = _refused(raw)
    assert [Translator("nl").rule(r["message"]) for r in rules] == dutch  # what the page calls
    assert [Translator("en").rule(r["message"]) for r in rules] == [r["message"] for r in rules]


def test_every_rule_s_own_sentence_is_worded_in_dutch() -> None:
    for rule in [*RULE_MESSAGES, "a_rule_added_later"]:
        written = message_for(rule)
        assert word("nl", written) != written, rule
        assert word("en", written) == written


def test_every_rule_shape_is_worded_in_dutch() -> None:
    for shape in RULES.shapes:
        names = {name for _, name, _, _ in string.Formatter().parse(shape.template) if name}
        written = shape(**{name: SAMPLE_VALUES[name] for name in names})
        assert RULES.read(written) is not None, written
        assert word("nl", written) != written, written
        assert word("en", written) == written


@pytest.mark.parametrize(
    "stored",
    ["RuntimeError", "is required, unless it is Tuesday", "must be one of", ""],
)
def test_a_sentence_no_shape_reads_is_shown_as_stored(stored: str) -> None:
    assert word("nl", stored) == stored


def test_every_rule_shape_has_a_sentence_in_both_languages() -> None:
    assert_every_shape_has_its_sentences(RULES)
