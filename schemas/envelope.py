"""The envelope every intake event shares, and the rules that span its parts."""

from __future__ import annotations

import uuid
from typing import Any, Final, Literal

from pydantic import ValidationInfo, model_validator

from schemas.attachments import MAX_ATTACHMENTS_TOTAL_BYTES, Attachment
from schemas.base import IntakeModel
from schemas.errors import rule_error
from schemas.fields import MAX_EVENT_TEXT, AwareDateTime, SchemaVersion, ZdNumber, event_text_length
from schemas.parties import CodedItem, Patient, Provider, Referrer
from schemas.questions import Question

#: Validation context key: the event comes from a JSON body of at most ``MAX_EVENT_TEXT``
#: characters (``schemas.parse.parse_event`` sets it).
SHORT_BODY: Final = "short_body"


class EventBase(IntakeModel):
    """Fields common to both event types. `event_id` is the idempotency key for intake."""

    event_id: uuid.UUID
    schema_version: SchemaVersion
    action: Literal["new", "cancel"] = "new"
    zd_number: ZdNumber
    created_at: AwareDateTime
    priority: Literal["routine", "urgent"] = "routine"
    provider: Provider
    care_product: CodedItem
    cluster: CodedItem | None = None
    patient: Patient
    referrer: Referrer
    questions: tuple[Question, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _text_fits_one_message(cls, data: Any, info: ValidationInfo) -> Any:
        # Each field has its maximum; this bounds the sum, however many questions or tests.
        # A JSON body holds every character of its text at least once, so a body no longer
        # than the maximum cannot break it, and the walk through every string is skipped.
        if isinstance(info.context, dict) and info.context.get(SHORT_BODY):
            return data
        if event_text_length(data) > MAX_EVENT_TEXT:
            raise rule_error("event_text_too_long")
        return data

    @model_validator(mode="after")
    def _attachments_fit_one_message(self) -> EventBase:
        # Each attachment is checked alone; the sum bounds the size of the HL7 message.
        if sum(attachment.size for attachment in self.attachments) > MAX_ATTACHMENTS_TOTAL_BYTES:
            raise rule_error("attachments_total_too_large", field="attachments")
        return self

    @model_validator(mode="after")
    def _born_before_event(self) -> EventBase:
        # Compared with created_at, not today: schemas read no clock, and replays stay valid.
        if self.patient.birth_date > self.created_at.date():
            raise rule_error("birth_date_after_created_at", field="patient.birth_date")
        return self
