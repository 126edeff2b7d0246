"""The referral event (verwijzing): a care question with the GP's letter."""

from __future__ import annotations

from typing import Literal

from schemas.base import IntakeModel
from schemas.envelope import EventBase
from schemas.fields import IcpcCode as IcpcCodeStr
from schemas.fields import NonBlankStr, OptionalText


class CareQuestion(IntakeModel):
    """The zorgvraag: what the referrer asks the provider to do."""

    code: OptionalText = None
    text: NonBlankStr


class IcpcCode(IntakeModel):
    code: IcpcCodeStr
    text: NonBlankStr


class Letter(IntakeModel):
    """The verwijsbrief; only the reason is required, the other sections are as written."""

    reason: NonBlankStr
    question: OptionalText = None
    history: OptionalText = None
    examination: OptionalText = None
    medication: OptionalText = None
    allergies: OptionalText = None
    remarks: OptionalText = None


class Referral(EventBase):
    """A referral (verwijzing) from a GP to a care provider, sent as REF^I12."""

    type: Literal["referral"]
    care_question: CareQuestion
    icpc: tuple[IcpcCode, ...] = ()
    letter: Letter
