"""The engine's exception tree, sorted by what the caller must do.

    IntegratorError
    ├── PermanentError          do not retry: fix the input or the configuration
    │   ├── InvalidEvent        intake event broke a rule (carries the field errors)
    │   └── ConfigurationError  destination files or settings are wrong
    └── RetryableError          try again later: a service was not there

Errors from our packages (``schemas``, ``mappings``, ``destinations``, the store) are mapped to
these at the engine's boundary. Messages name fields, keys and rules, never patient data.
"""

from __future__ import annotations

from integrator.refusal import Coded
from schemas import EventValidationError, FieldError


class IntegratorError(Coded, Exception):
    """Every engine error may carry a refusal code for the console (``integrator.refusal``)."""

    exit_code = 1


class PermanentError(IntegratorError):
    pass


class RetryableError(IntegratorError):
    pass


class InvalidEvent(PermanentError):
    """Bad intake input; the raw input is kept in the store as a rejected event."""

    exit_code = 2

    def __init__(self, error: EventValidationError, *, rejected_id: str | None = None) -> None:
        super().__init__(str(error))
        self.errors: tuple[FieldError, ...] = error.errors
        self.rejected_id = rejected_id

    def to_json(self) -> list[dict[str, str]]:
        return [{"path": e.path, "rule": e.rule, "message": e.message} for e in self.errors]


class ConfigurationError(PermanentError):
    exit_code = 2
