"""Field errors: what a caller is told when an event is refused.

The types here carry only a path, a rule code and a sentence. They deliberately have no slot for
the input value, so patient data cannot leak into API answers, CLI output or logs through an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from pydantic_core import PydanticCustomError

from schemas.rules import message_for


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule. `path` is `$` for the whole document, else like `questions[0].answer`."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class EventValidationError(ValueError):
    """An intake event was refused; `.errors` lists every broken rule found."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    def __reduce__(self) -> tuple[type[EventValidationError], tuple[tuple[FieldError, ...]]]:
        return (type(self), (self.errors,))

    def to_json(self) -> list[dict[str, str]]:
        return [asdict(error) for error in self.errors]


def rule_error(rule: str, field: str | None = None) -> PydanticCustomError:
    """A pydantic error whose type is our rule code, so the translation can recover it.

    `field` names a sub-field when the check runs in a model validator (which only knows the
    model's own location), so the reported path still points at the field that is wrong.
    """
    context = {"field": field} if field is not None else None
    return PydanticCustomError(rule, message_for(rule), context)
