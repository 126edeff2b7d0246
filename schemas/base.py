"""The one model configuration every intake model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class IntakeModel(BaseModel):
    """Frozen, so a validated event cannot drift between mapping and storing; closed, so a typo
    in a key is refused instead of silently dropping data the sender meant to send.

    `hide_input_in_errors` keeps patient data out of pydantic's own error text, as a second line
    of defence behind the translation to `FieldError`.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        hide_input_in_errors=True,
    )
