"""The referral event (verwijzing): a care question with the GP's letter."""

from __future__ import annotations

from typing import Annotated, Literal

from schemas.base import IntakeModel
from schemas.envelope import EventBase
from schemas.fields import MAX_ICPC, LongText, NonBlankStr, OptionalLongText, OptionalText
from schemas.fields import IcpcCode as IcpcCodeStr
from schemas.native import AtMostItems


class CareQuestion(IntakeModel):
    """The zorgvraag: what the referrer asks the provider to do."""

    code: OptionalText = None
    text: NonBlankStr


class IcpcCode(IntakeModel):
    code: IcpcCodeStr
    text: NonBlankStr


class Letter(IntakeModel):
    """The verwijsbrief; only the reason is required, the other sections are as written."""

    reason: LongText
    question: OptionalLongText = None
    history: OptionalLongText = None
    examination: OptionalLongText = None
    medication: OptionalLongText = None
    allergies: OptionalLongText = None
    remarks: OptionalLongText = None


class Referral(EventBase):
    """A referral (verwijzing) from a GP to a care provider, sent as REF^I12."""

    type: Literal["referral"]
    care_question: CareQuestion
    icpc: Annotated[tuple[IcpcCode, ...], AtMostItems(MAX_ICPC)] = ()
    letter: Letter
