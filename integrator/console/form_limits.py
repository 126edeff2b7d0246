"""The ``maxlength`` of the console's admin fields (and the token form's ``max`` days), taken
from the services' own limits.

A field that lets a person type more than the service takes is refused only after sending
(the invitation's name field let 320 characters through where the service takes 200); one
that stops them sooner drops what they typed without a word. So the templates never write a
number: they read ``limits`` (a global of every template), and
``tests/console/test_form_limits.py`` fails for an admin field whose ``maxlength`` is not its
service's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from integrator.access.limits import (
    MAX_CLUSTER_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REASON,
    MAX_TOKEN_DAYS,
    MAX_TOKEN_NAME_LENGTH,
)


@dataclass(frozen=True, slots=True)
class FormLimits:
    """Per kind of field, the most characters its service takes."""

    email: int = MAX_EMAIL_LENGTH
    name: int = MAX_NAME_LENGTH
    token_name: int = MAX_TOKEN_NAME_LENGTH
    cluster: int = MAX_CLUSTER_LENGTH
    reason: int = MAX_REASON
    token_days: int = MAX_TOKEN_DAYS  # a number field's ``max``, not a length


LIMITS: Final = FormLimits()
