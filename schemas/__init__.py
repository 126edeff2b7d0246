"""Intake event models (docs/product.md §2): validation of upstream JSON into typed, frozen events.

Pure: imports nothing else of the project and does no I/O (except `schemas.generate`, which
writes the JSON Schema files).
"""

from schemas.attachments import Attachment
from schemas.diagnostic import Collection, DiagnosticRequest, LabTest, Specimen
from schemas.envelope import EventBase
from schemas.errors import EventValidationError, FieldError
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
