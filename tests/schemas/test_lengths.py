"""Every text field has a maximum, and so has an event's text in all: accepted means sendable."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from schemas.fields import MAX_EVENT_TEXT, MAX_LONG_TEXT, MAX_TEXT
from tests.schemas.support import edited, parse_both, single_error

LONG_FIELDS = [
    "letter.reason",
    "letter.history",
    "letter.remarks",
]
SHORT_FIELDS = [
    "patient.name.family",
    "patient.name.given",
    "referrer.name.family",
    "provider.name",
    "care_question.text",
    "questions[0].title",
    "attachments[0].description",
]


@pytest.mark.parametrize("path", LONG_FIELDS)
def test_a_letter_section_takes_65536_characters_and_no_more(
    referral_data: dict[str, Any], path: str
) -> None:
    parse_both(edited(referral_data, path, "a" * MAX_LONG_TEXT))
    too_long = edited(referral_data, path, "a" * (MAX_LONG_TEXT + 1))
    assert single_error(too_long) == (path, "long_text_too_long")


@pytest.mark.parametrize("path", SHORT_FIELDS)
def test_names_titles_and_descriptions_take_1000_characters_and_no_more(
    referral_data: dict[str, Any], path: str
) -> None:
    parse_both(edited(referral_data, path, "a" * MAX_TEXT))
    assert single_error(edited(referral_data, path, "a" * (MAX_TEXT + 1))) == (
        path,
        "text_too_long",
    )


@pytest.mark.parametrize("path", ["clinical_info", "collection.instructions"])
def test_clinical_info_and_instructions_are_free_text(
    diagnostic_request_data: dict[str, Any], path: str
) -> None:
    parse_both(edited(diagnostic_request_data, path, "a" * MAX_LONG_TEXT))
    too_long = edited(diagnostic_request_data, path, "a" * (MAX_LONG_TEXT + 1))
    assert single_error(too_long) == (path, "long_text_too_long")


def test_an_open_answer_is_free_text(referral_data: dict[str, Any]) -> None:
    question = {"title": "Toelichting", "required": False, "answer_type": "open"}
    ok = edited(referral_data, "questions", [{**question, "answer": "a" * MAX_LONG_TEXT}])
    parse_both(ok)
    too_long = edited(referral_data, "questions", [{**question, "answer": "a" * 70_000}])
    assert single_error(too_long) == ("questions[0].answer", "long_text_too_long")


def test_the_text_of_an_event_in_all_is_bounded_however_many_questions(
    referral_data: dict[str, Any],
) -> None:
    question = {"title": "Toelichting", "required": False, "answer_type": "open"}
    many = [{**question, "answer": "a" * 60_000} for _ in range(MAX_EVENT_TEXT // 60_000 + 1)]
    assert single_error(edited(referral_data, "questions", many)) == ("$", "event_text_too_long")
    parse_both(edited(referral_data, "questions", many[:10]))


def test_attachment_data_does_not_count_as_text(referral_data: dict[str, Any]) -> None:
    pdf = b"%PDF-1.4\n" + b"\0" * (2 * MAX_EVENT_TEXT)
    event = edited(referral_data, "attachments[0].data", base64.b64encode(pdf).decode("ascii"))
    parse_both(event)


def test_the_messages_name_the_maximum_never_the_value(referral_data: dict[str, Any]) -> None:
    from schemas import EventValidationError, parse_event

    with pytest.raises(EventValidationError) as refused:
        parse_event(edited(referral_data, "letter.history", "geheim " * 10_000))
    [error] = refused.value.errors
    assert error.message == "is longer than 65536 characters, the most a free-text field takes"
    assert "geheim" not in str(refused.value)
