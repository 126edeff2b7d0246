"""The envelope every intake event shares, and the rules that span its parts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final, Literal

from pydantic import model_validator

from schemas.attachments import MAX_ATTACHMENTS_TOTAL_BYTES, Attachment
from schemas.base import IntakeModel
from schemas.errors import rule_error
from schemas.fields import (
    MAX_ATTACHMENTS,
    MAX_QUESTIONS,
    AwareDateTime,
    EventId,
    SchemaVersion,
    ZdNumber,
)
from schemas.native import AtMostItems
from schemas.parties import CodedItem, Patient, Provider, Referrer
from schemas.questions import Question


class EventBase(IntakeModel):
    """Fields common to both event types. `event_id` is the idempotency key for intake."""

    event_id: EventId
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
    questions: Annotated[tuple[Question, ...], AtMostItems(MAX_QUESTIONS)] = ()
    attachments: Annotated[tuple[Attachment, ...], AtMostItems(MAX_ATTACHMENTS)] = ()

    @model_validator(mode="after")
    def _fits_and_consistent(self) -> EventBase:
        # One validator for both rules (one call into Python less per event), in their order.
        # Each attachment is checked alone; the sum bounds the size of the HL7 message.
        if sum(attachment.size for attachment in self.attachments) > MAX_ATTACHMENTS_TOTAL_BYTES:
            raise rule_error("attachments_total_too_large", field="attachments")
        # Compared with created_at, not today: schemas read no clock, and replays stay valid.
        # With its date where that instant is latest (UTC+14), not in the offset the sender
        # wrote: one instant gets one verdict, so a baby born just after midnight in Amsterdam
        # is not refused because the platform wrote the referral's time in UTC.
        if self.patient.birth_date > latest_date_of(self.created_at):
            raise rule_error("birth_date_after_created_at", field="patient.birth_date")
        return self


LATEST_OFFSET: Final = timedelta(hours=14)
"""The furthest ahead of UTC any place's clock is (Kiribati's Line Islands, UTC+14)."""


def latest_date_of(instant: datetime) -> date:
    """The latest calendar date anywhere at ``instant`` (an aware time)."""
    return (instant.astimezone(UTC) + LATEST_OFFSET).date()
