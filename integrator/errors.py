"""The engine's exception tree, sorted by what the caller must do.

    IntegratorError
    ├── PermanentError          do not retry: fix the input or the configuration
    │   ├── InvalidEvent        intake event broke a rule (carries the field errors)
    │   ├── ConfigurationError  destination files or settings are wrong
    │   └── StateConflict       the request is right; the state of what it acts on refuses it
    └── RetryableError          try again later: a service was not there

Errors from our packages (``schemas``, ``mappings``, ``destinations``, the store) are mapped to
these at the engine's boundary. Messages name fields, keys and rules, never patient data.

Exit codes (product.md §6, "Exit codes"): 2 for what was typed (``InvalidEvent``,
``ConfigurationError``; the API's 422), 1 for a ``StateConflict`` (the API's 409) and anything
else.
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


class StateConflict(PermanentError):
    """A request that is right in itself, refused by the state of what it acts on now: a
    destination that messages still wait for, or that is paused, or that changed since it was
    read. Nothing is done. Asking again the same way succeeds once that state changes (the
    messages delivered, the destination resumed), or with the override the refusal names.

    Not bad input, so exit code 1, as for every refusal the API answers 409 (a dead letter
    resolved already, a message that waits for no retry); 2 is for what was typed wrong (the
    API's 422). The rule is product.md §6's; the CLI takes ``exit_code`` from the error.
    """

    exit_code = 1
