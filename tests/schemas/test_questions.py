"""Questions: a required one needs an answer, and the answer is typed by answer_type."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from schemas import Question

from .support import edited, errors_of, parse_both, single_error


def _with_question(data: dict[str, Any], **question: Any) -> dict[str, Any]:
    base = {"title": "Vraag", "required": True, "answer_type": "open"}
    return edited(data, "questions", [{**base, **question}])


@pytest.mark.parametrize(
    ("answer_type", "given", "expected"),
    [
        ("yes_no", True, True),
        ("yes_no", False, False),
        ("open", "Sinds maart", "Sinds maart"),
        ("open", "2026-01-01", "2026-01-01"),
        ("date", "2026-01-01", datetime.date(2026, 1, 1)),
    ],
)
def test_answer_converted_by_answer_type(
    referral_data: dict[str, Any], answer_type: str, given: object, expected: object
) -> None:
    event = parse_both(_with_question(referral_data, answer_type=answer_type, answer=given))
    answer = event.questions[0].answer
    assert answer == expected
    assert type(answer) is type(expected)


def test_multiple_choice_answer_is_a_tuple(referral_data: dict[str, Any]) -> None:
    data = _with_question(
        referral_data, answer_type="multiple_choice", options=["a", "b", "c"], answer=["c", "a"]
    )
    question = parse_both(data).questions[0]
    assert question.answer == ("c", "a")
    assert question.options == ("a", "b", "c")


@pytest.mark.parametrize(
    ("answer_type", "answer"),
    [
        ("yes_no", "true"),
        ("yes_no", 1),
        ("yes_no", "ja"),
        ("open", True),
        ("open", 12),
        ("open", ["a"]),
        ("date", "01-01-2026"),
        ("date", "2026-02-30"),
        ("date", "2026-01-01T10:00:00+01:00"),
        ("date", True),
        ("multiple_choice", "a"),
        ("multiple_choice", [1]),
        ("multiple_choice", True),
    ],
)
def test_answer_of_wrong_type_refused(
    referral_data: dict[str, Any], answer_type: str, answer: object
) -> None:
    data = _with_question(referral_data, answer_type=answer_type, answer=answer, options=["a"])
    assert single_error(data) == ("questions[0].answer", "answer_type")


@pytest.mark.parametrize(
    ("answer_type", "unanswered"),
    [("yes_no", None), ("open", ""), ("open", "  "), ("date", ""), ("multiple_choice", [])],
)
def test_required_question_without_answer_refused(
    referral_data: dict[str, Any], answer_type: str, unanswered: object
) -> None:
    data = _with_question(referral_data, answer_type=answer_type, answer=unanswered, options=["a"])
    assert single_error(data) == ("questions[0].answer", "answer_required")


def test_required_question_with_answer_key_missing_refused(referral_data: dict[str, Any]) -> None:
    assert single_error(_with_question(referral_data)) == ("questions[0].answer", "answer_required")


@pytest.mark.parametrize("answer_type", ["yes_no", "open", "date", "multiple_choice"])
def test_optional_question_may_be_unanswered(
    referral_data: dict[str, Any], answer_type: str
) -> None:
    data = _with_question(referral_data, answer_type=answer_type, required=False, options=["a"])
    assert parse_both(data).questions[0].answer is None


def test_blank_open_answer_of_optional_question_is_none(referral_data: dict[str, Any]) -> None:
    data = _with_question(referral_data, required=False, answer=" ")
    assert parse_both(data).questions[0].answer is None


def test_choice_outside_options_refused(referral_data: dict[str, Any]) -> None:
    data = _with_question(
        referral_data, answer_type="multiple_choice", options=["a", "b"], answer=["a", "z"]
    )
    assert single_error(data) == ("questions[0].answer", "answer_not_in_options")


def test_duplicate_choice_refused(referral_data: dict[str, Any]) -> None:
    data = _with_question(
        referral_data, answer_type="multiple_choice", options=["a"], answer=["a", "a"]
    )
    assert single_error(data) == ("questions[0].answer", "answer_duplicate")


@pytest.mark.parametrize("options", [None, []])
def test_multiple_choice_needs_options(referral_data: dict[str, Any], options: object) -> None:
    data = _with_question(referral_data, answer_type="multiple_choice", answer=["a"])
    if options is not None:
        data = edited(data, "questions[0].options", options)
    assert single_error(data) == ("questions[0].options", "options_required")


def test_unknown_answer_type_refused_without_answer_noise(referral_data: dict[str, Any]) -> None:
    data = _with_question(referral_data, answer_type="number", answer=3)
    assert errors_of(data) == [("questions[0].answer_type", "allowed_values")]


@pytest.mark.parametrize("required", ["yes", 1, None])
def test_required_flag_must_be_boolean(referral_data: dict[str, Any], required: object) -> None:
    data = _with_question(referral_data, required=required, answer="x")
    assert single_error(data) == ("questions[0].required", "type")


def test_title_required_and_not_blank(referral_data: dict[str, Any]) -> None:
    assert single_error(_with_question(referral_data, title=" ", answer="x")) == (
        "questions[0].title",
        "blank",
    )


def test_error_index_points_at_the_right_question(referral_data: dict[str, Any]) -> None:
    data = edited(referral_data, "questions[1].answer", ["nooit"])
    assert single_error(data) == ("questions[1].answer", "answer_not_in_options")


def test_question_model_usable_directly() -> None:
    question = Question.model_validate(
        {"title": "Datum klachten", "required": True, "answer_type": "date", "answer": "2026-03-01"}
    )
    assert question.answer == datetime.date(2026, 3, 1)
