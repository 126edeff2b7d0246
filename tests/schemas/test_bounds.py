"""A refused body's answer and work are bounded (`schemas.bounds`), and an event's text in all is
judged beside its fields: a body of a million wrong items or keys is refused as cheaply as any,
and a sender hears of every rule broken, the sum of the text with the others."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas import Event, EventValidationError, FieldError, parse_event
from schemas.bounds import READ_AT_MOST, listed, pruned
from schemas.fields import (
    MAX_ATTACHMENTS,
    MAX_EVENT_TEXT,
    MAX_ICPC,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAX_TESTS,
)
from schemas.keys import MAX_COMPARED, keys_by_place
from schemas.parse import _Decoded, _details, _Refused
from schemas.rules import EVENT_TEXT_IN, MAX_LISTED, MORE_ERRORS
from schemas.translate import field_errors
from tests.conftest import load_sample

from .support import edited, errors_of, parse_both, single_error

MILLION = 1_000_000
_EVENTS: TypeAdapter[Any] = TypeAdapter(Event)


def _pydantic(body: bytes) -> ValidationError:
    """pydantic's own refusal of ``body``, every error of it."""
    with pytest.raises(ValidationError) as refused:
        _EVENTS.validate_json(body)
    return refused.value


def _refusal(data: Any) -> tuple[FieldError, ...]:
    with pytest.raises(EventValidationError) as refused:
        parse_event(data)
    return refused.value.errors


def _question(title: str = "Vraag") -> dict[str, Any]:
    return {"title": title, "required": False, "answer_type": "yes_no"}


def _choices(count: int) -> dict[str, Any]:
    options = [f"optie {n}" for n in range(count)]
    return {**_question(), "answer_type": "multiple_choice", "options": options, "answer": []}


# --- Each list has its maximum ------------------------------------------------------------------

_LISTS = [
    ("referral", "questions", MAX_QUESTIONS, lambda sample: _question()),
    ("referral", "icpc", MAX_ICPC, lambda sample: sample["icpc"][0]),
    ("referral", "attachments", MAX_ATTACHMENTS, lambda sample: sample["attachments"][0]),
    ("diagnostic_request", "tests", MAX_TESTS, lambda sample: sample["tests"][0]),
]


@pytest.mark.parametrize(("kind", "path", "maximum", "item"), _LISTS)
def test_each_list_takes_its_maximum_and_no_more(
    kind: str, path: str, maximum: int, item: Any
) -> None:
    sample = load_sample(kind)
    parse_both(edited(sample, path, [item(sample)] * maximum))
    too_many = edited(sample, path, [item(sample)] * (maximum + 1))
    assert single_error(too_many) == (path, "too_many_items")
    [error] = _refusal(too_many)
    assert error.message == f"must contain at most {maximum} item(s)"


def test_a_question_takes_its_maximum_of_options_and_no_more() -> None:
    sample = load_sample("referral")
    parse_both(edited(sample, "questions", [_choices(MAX_OPTIONS)]))
    too_many = edited(sample, "questions", [_choices(MAX_OPTIONS + 1)])
    assert single_error(too_many) == ("questions[0].options", "too_many_items")


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("referral", "icpc"),
        ("referral", "questions"),
        ("referral", "attachments"),
        ("referral", "questions[0].options"),
        ("diagnostic_request", "tests"),
    ],
)
def test_a_million_wrong_items_make_one_error_not_a_million(kind: str, path: str) -> None:
    # The audit's body: `icpc` of a million 1s, 2.9 MiB, made a million errors and a minute of
    # work. The list's length is judged first, and its items are not looked at.
    event = load_sample(kind)
    if path.startswith("questions[0]"):
        event = edited(event, "questions", [_choices(2)])
    body = json.dumps(edited(event, path, [1] * MILLION)).encode()
    assert _pydantic(body).error_count() == 1
    assert [(e.path, e.rule) for e in _refusal(body)] == [(path, "too_many_items")]


def test_a_list_too_long_has_no_cross_field_rule_judged_inside_it() -> None:
    # Its items were not read: a content that is not its type is not said of any of them.
    sample = load_sample("referral")
    wrong = {**sample["attachments"][0], "content_type": "image/png"}
    event = edited(sample, "attachments", [wrong] * (MAX_ATTACHMENTS + 1))
    assert errors_of(event) == [("attachments", "too_many_items")]


# --- An answer names at most MAX_LISTED errors ----------------------------------------------------


def test_an_answer_names_100_errors_then_how_many_more() -> None:
    # Each question: a title that is no string, no `required`, no `answer_type`.
    event = edited(load_sample("referral"), "questions", [{"title": 1}] * 101)
    errors = _refusal(json.dumps(event).encode())
    assert len(errors) == MAX_LISTED + 1
    assert errors[:3] == (
        FieldError("questions[0].title", "type", "must be a string"),
        FieldError("questions[0].required", "required", "is required"),
        FieldError("questions[0].answer_type", "required", "is required"),
    )
    assert errors[-1] == FieldError(
        "$", "more_errors", "… and 203 more, not listed (an answer names at most 100)"
    )
    assert errors == _refusal(event)


def test_an_answer_of_100_errors_has_no_closing_entry() -> None:
    errors = (FieldError("a", "required", "is required"),) * MAX_LISTED
    assert listed(errors, found=5_000) == errors
    more = listed((*errors, errors[0]), found=5_000)
    assert more[-1] == FieldError("$", "more_errors", MORE_ERRORS(count=4_900))


def _unknown_keys(keys_per_question: int, patient_keys: int) -> dict[str, Any]:
    """A referral whose questions and patient hold unknown keys, the schema's keys at the wrong
    place, well-known ones and lookalikes among them."""
    event = load_sample("referral")
    question = {**_question(), "bsn": "1", "zorgvraag": "x", "titel": "x"}
    question.update({f"vraag_{n}": n for n in range(keys_per_question)})
    event["questions"] = [dict(question) for _ in range(40)]
    event["patient"].update({f"veld_{n}": n for n in range(patient_keys)})
    event["zd_numer"] = "x"
    return event


def _as_if_read_whole(body: bytes) -> tuple[FieldError, ...]:
    """The answer for ``body`` when every one of pydantic's errors is read (no text sum: the
    bodies here hold less than its maximum)."""
    exc = _pydantic(body)
    errors, _ = field_errors(exc, ("referral", "diagnostic_request"))
    assert len(errors) > MAX_LISTED
    return listed(errors, exc.error_count())


def test_a_body_of_very_many_errors_gets_the_answer_reading_each_would_give() -> None:
    body = json.dumps(_unknown_keys(keys_per_question=60, patient_keys=3_000)).encode()
    assert _pydantic(body).error_count() > READ_AT_MOST
    errors = _refusal(body)
    assert errors == _as_if_read_whole(body)
    assert errors[-1].rule == "more_errors"
    assert len(errors) == MAX_LISTED + 1


def test_the_work_of_a_body_of_very_many_unknown_keys_is_that_of_a_few() -> None:
    # pydantic gives an error per key; only a pruned copy's are turned into the answer.
    event = _unknown_keys(keys_per_question=1_000, patient_keys=100_000)
    body = json.dumps(event).encode()
    refused = _Refused(_pydantic(body))
    assert refused.total > 100_000 and refused.details is None
    details, complete = _details(refused, _Decoded(body))
    assert len(details) < 2 * (MAX_LISTED + 1 + MAX_COMPARED) and not complete
    errors = _refusal(body)
    assert len(errors) == MAX_LISTED + 1
    assert errors[0].rule == "event_text_too_long"  # found too: one more
    assert errors[-1] == FieldError("$", "more_errors", MORE_ERRORS(count=refused.total + 1 - 100))


def test_repeats_left_out_still_judge_every_rule() -> None:
    # A thousand unknown keys of one object are one error; the cross-field rules are judged.
    event = load_sample("referral")
    del event["patient"]["bsn"], event["patient"]["address"]
    event["patient"].update({f"veld_{n}": n for n in range(5_000)})
    assert _pydantic(json.dumps(event).encode()).error_count() > READ_AT_MOST
    assert errors_of(event) == [("patient.…", "unknown_field"), ("patient", "bsn_or_address")]


def test_the_pruned_copy_keeps_few_unknown_keys_and_the_schema_s_all() -> None:
    event = load_sample("referral")
    event["patient"].update({f"veld_{n}": n for n in range(100_000)})
    event["icpc"] = [{"code": "K77", "text": "x", "n": n} for n in range(100_000)]
    given = copy.deepcopy(event)
    smaller, complete = pruned(event, "referral")
    assert event == given  # a copy: the body is left as it came
    schema_keys = keys_by_place("referral")["patient"].keys()
    assert {k: v for k, v in smaller["patient"].items() if k in schema_keys} == {
        k: v for k, v in event["patient"].items() if k in schema_keys
    }
    # The first keys compared with the schema's each make an error of their own; then one more.
    assert len(smaller["patient"].keys() - schema_keys) == MAX_COMPARED + 1
    # A list longer than any list's maximum stays longer than its own, with fewer items.
    assert MAX_ICPC < len(smaller["icpc"]) <= max(MAX_QUESTIONS, MAX_TESTS, MAX_OPTIONS) + 1
    # Each item's unknown key is an error of its own (at its index), kept while there is room
    # for MAX_LISTED + 1 errors and MAX_COMPARED that may merge: the patient's took 21.
    kept = sum("n" in item for item in smaller["icpc"])
    assert kept == MAX_LISTED + 1 + MAX_COMPARED - (MAX_COMPARED + 1)
    assert complete is False


# --- The text of an event in all, judged beside its fields ----------------------------------------


def _too_much_text() -> dict[str, Any]:
    """The audit's referral: three field errors, and more text than one event may hold."""
    event = load_sample("referral")
    event["zd_number"] = "ZD1"
    event["patient"]["bsn"] = "123"
    event["letter"]["history"] = "x" * 70_000
    question = {**_question("t" * 900), "answer_type": "open", "answer": "a" * 900}
    event["questions"] = [question] * 600
    return event


def test_too_much_text_is_named_with_every_other_broken_rule() -> None:
    assert errors_of(_too_much_text()) == [
        ("$", "event_text_too_long"),
        ("zd_number", "zd_number_format"),
        ("patient.bsn", "bsn_format"),
        ("letter.history", "long_text_too_long"),
    ]


def test_too_much_text_names_the_fields_that_hold_the_most() -> None:
    error = _refusal(json.dumps(_too_much_text()))[0]
    values = EVENT_TEXT_IN.read(error.message)
    assert values is not None, error.message
    parts = re.findall(r"(\S+) \((\d+)\)", values["parts"])
    assert [name for name, _ in parts] == ["questions", "letter", "patient"]
    assert int(parts[0][1]) > MAX_EVENT_TEXT > int(parts[1][1]) > 70_000


def test_too_much_text_alone_is_the_one_error() -> None:
    event = _too_much_text()
    event.update(zd_number="ZD123456789")
    event["patient"]["bsn"] = "999990019"
    event["letter"]["history"] = "x" * 60_000
    assert single_error(event) == ("$", "event_text_too_long")


def test_text_under_an_unknown_key_counts_and_is_named_without_the_key() -> None:
    event = edited(load_sample("referral"), "jansen", ["x" * 60_000] * 17)
    errors = _refusal(event)
    assert [(e.path, e.rule) for e in errors] == [
        ("$", "event_text_too_long"),
        ("…", "unknown_field"),
    ]
    assert "jansen" not in errors[0].message and "the most in … (" in errors[0].message
