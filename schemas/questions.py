"""Free-standing questions ("losse vragen") and the rule that an answer fits its type.

The answer is converted here, by `answer_type`, rather than by pydantic's union: a smart union
would keep a date string as `str`, and mappers need the Python type to match `answer_type`.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from schemas.base import IntakeModel
from schemas.errors import rule_error
from schemas.fields import (
    MAX_OPTIONS,
    NonBlankStr,
    OptionalText,
    check_long_text,
    parse_iso_date,
)
from schemas.native import AtMostItems, Unchecked

AnswerType = Literal["yes_no", "open", "multiple_choice", "date"]
Answer = bool | str | tuple[str, ...] | datetime.date


class Question(IntakeModel):
    code: OptionalText = None
    title: NonBlankStr
    required: bool = Field(strict=True)
    answer_type: AnswerType
    options: Annotated[tuple[NonBlankStr, ...], AtMostItems(MAX_OPTIONS)] | None = Field(
        default=None, validate_default=True
    )
    # The before-validator below returns the answer as exactly the type of its answer_type.
    answer: Annotated[Answer | None, Unchecked()] = Field(default=None, validate_default=True)

    @field_validator("options", mode="after")
    @classmethod
    def _options_for_multiple_choice(
        cls, options: tuple[str, ...] | None, info: ValidationInfo
    ) -> tuple[str, ...] | None:
        if not options and info.data.get("answer_type") == "multiple_choice":
            raise rule_error("options_required")
        return options

    @field_validator("answer", mode="before")
    @classmethod
    def _answer_fits_type(cls, answer: Any, info: ValidationInfo) -> Any:
        data = info.data  # each read of `info.data` is a call into pydantic-core
        answer_type = data.get("answer_type")
        if answer_type is None:
            # answer_type itself is wrong and already reported; the answer cannot be judged, and
            # letting the union try it would only add noise. The question is refused anyway.
            return None
        answer = _convert(answer_type, answer, data.get("options"))
        if answer is None and data.get("required") is True:
            raise rule_error("answer_required")
        return answer


def _convert(answer_type: str, answer: Any, options: tuple[str, ...] | None) -> Any:
    """The answer as the Python type of its answer_type; blank or empty means unanswered."""
    if answer is None:
        return None
    if answer_type == "yes_no":
        if not isinstance(answer, bool):
            raise rule_error("answer_type")
        return answer
    if answer_type == "open":
        if not isinstance(answer, str):
            raise rule_error("answer_type")
        return check_long_text(answer.strip()) or None
    if answer_type == "date":
        if isinstance(answer, str) and not answer.strip():
            return None
        try:
            return parse_iso_date(answer)
        except PydanticCustomError:
            raise rule_error("answer_type") from None
    return _choices(answer, options)


def _choices(answer: Any, options: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if not isinstance(answer, list | tuple):
        raise rule_error("answer_type")
    stripped = []
    for item in answer:
        if not isinstance(item, str):
            raise rule_error("answer_type")
        stripped.append(item.strip())
    if not stripped:
        return None
    chosen = set(stripped)
    if options is not None and not chosen.issubset(options):
        raise rule_error("answer_not_in_options")
    if len(chosen) != len(stripped):
        raise rule_error("answer_duplicate")
    return tuple(stripped)
