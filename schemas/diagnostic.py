"""The diagnostic request event (aanvraag diagnostiek): lab tests with their specimens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.base import IntakeModel
from schemas.envelope import EventBase
from schemas.fields import (
    MAX_TESTS,
    NonBlankStr,
    OptionalIsoDate,
    OptionalLongText,
    OptionalText,
)
from schemas.native import AtLeastOne, AtMostItems


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
    tests: Annotated[tuple[LabTest, ...], AtMostItems(MAX_TESTS), AtLeastOne()] = Field(
        json_schema_extra={"minItems": 1}
    )
    collection: Collection | None = None
    clinical_info: OptionalLongText = None
