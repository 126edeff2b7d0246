"""The diagnostic request event (aanvraag diagnostiek): lab tests with their specimens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from schemas.base import IntakeModel
from schemas.envelope import EventBase
from schemas.errors import rule_error
from schemas.fields import NonBlankStr, OptionalIsoDate, OptionalLongText, OptionalText


class Specimen(IntakeModel):
    type: NonBlankStr
    container: OptionalText = None


# Not called `Test`: pytest would try to collect it.
class LabTest(IntakeModel):
    """One test (bepaling); `coding_system` is the code table its code comes from."""

    code: NonBlankStr
    name: NonBlankStr
    coding_system: NonBlankStr = "L"
    specimen: Specimen | None = None


class Collection(IntakeModel):
    """Where and when the specimen is taken (afnamelocatie)."""

    location_id: OptionalText = None
    location_name: OptionalText = None
    requested_date: OptionalIsoDate = None
    instructions: OptionalLongText = None


class DiagnosticRequest(EventBase):
    """A request for diagnostics (lab tests), sent as ORM or OML."""

    type: Literal["diagnostic_request"]
    # Not Field(min_length=1): pydantic then also reports "too short" when an item is invalid.
    tests: tuple[LabTest, ...] = Field(json_schema_extra={"minItems": 1})
    collection: Collection | None = None
    clinical_info: OptionalLongText = None

    @field_validator("tests", mode="after")
    @classmethod
    def _at_least_one_test(cls, tests: tuple[LabTest, ...]) -> tuple[LabTest, ...]:
        if not tests:
            raise rule_error("at_least_one")
        return tests
