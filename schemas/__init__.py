"""Intake event models (docs/product.md §2): validation of upstream JSON into typed, frozen events.

Pure: imports nothing else of the project and does no I/O (except `schemas.generate`, which
writes the JSON Schema files).

The models and `parse_event` (pydantic builds every event model's validator as it imports
it: some 60-100 ms of a command's start-up) are loaded on first use, not with the package:
importing any submodule runs this file first, and the store names only the errors
(`integrator.errors`), so every command that reads the store paid for validation it never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemas.errors import EventValidationError, FieldError

if TYPE_CHECKING:
    from schemas.attachments import Attachment
    from schemas.diagnostic import Collection, DiagnosticRequest, LabTest, Specimen
    from schemas.envelope import EventBase
    from schemas.parse import Event, parse_event
    from schemas.parties import (
        Address,
        CodedItem,
        Insurance,
        Organisation,
        Patient,
        PersonName,
        Provider,
        Referrer,
    )
    from schemas.questions import Question
    from schemas.referral import CareQuestion, IcpcCode, Letter, Referral

_LOADED_FROM: dict[str, str] = {
    "Attachment": "schemas.attachments",
    **dict.fromkeys(
        ("Collection", "DiagnosticRequest", "LabTest", "Specimen"), "schemas.diagnostic"
    ),
    "EventBase": "schemas.envelope",
    **dict.fromkeys(("Event", "parse_event"), "schemas.parse"),
    **dict.fromkeys(
        (
            "Address",
            "CodedItem",
            "Insurance",
            "Organisation",
            "Patient",
            "PersonName",
            "Provider",
            "Referrer",
        ),
        "schemas.parties",
    ),
    "Question": "schemas.questions",
    **dict.fromkeys(("CareQuestion", "IcpcCode", "Letter", "Referral"), "schemas.referral"),
}


def __getattr__(name: str) -> Any:
    """The models and ``parse_event``, loaded when first asked for (PEP 562)."""
    where = _LOADED_FROM.get(name)
    if where is None:
        raise AttributeError(f"module 'schemas' has no attribute {name!r}")
    value = getattr(__import__(where, fromlist=[name]), name)
    globals()[name] = value  # asked once: the next look-up is a plain global
    return value


__all__ = [
    "Address",
    "Attachment",
    "CareQuestion",
    "CodedItem",
    "Collection",
    "DiagnosticRequest",
    "Event",
    "EventBase",
    "EventValidationError",
    "FieldError",
    "IcpcCode",
    "Insurance",
    "LabTest",
    "Letter",
    "Organisation",
    "Patient",
    "PersonName",
    "Provider",
    "Question",
    "Referral",
    "Referrer",
    "Specimen",
    "parse_event",
]
