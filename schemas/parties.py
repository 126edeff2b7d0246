"""The people and organisations an event names: provider, patient, referrer."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import GetCoreSchemaHandler, model_validator
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

from schemas import native
from schemas.base import IntakeModel
from schemas.errors import rule_error
from schemas.fields import (
    COUNTRY,
    MAX_TEXT,
    Agb,
    CountryCode,
    HouseNumber,
    IsoDate,
    NonBlankStr,
    OptionalAgb,
    OptionalBig,
    OptionalBsn,
    OptionalEmail,
    OptionalText,
    ProviderId,
    Uzovi,
)
from schemas.identifiers import normalise_postcode
from schemas.native import PYTHON_MODE, NativeJson


class Provider(IntakeModel):
    """The care provider receiving the event; `id` is what routing selects destinations by."""

    id: ProviderId
    name: NonBlankStr
    agb: OptionalAgb = None


class CodedItem(IntakeModel):
    code: NonBlankStr
    name: NonBlankStr


NameUsage = Literal["own", "partner", "partner_own", "own_partner"]


class PersonName(IntakeModel):
    """A Dutch name: own and partner surnames kept apart, as HL7 NL PID-5 needs them."""

    initials: OptionalText = None
    given: OptionalText = None
    prefix: OptionalText = None
    family: NonBlankStr
    partner_prefix: OptionalText = None
    partner_family: OptionalText = None
    name_usage: NameUsage = "own"

    @model_validator(mode="after")
    def _partner_name_when_used(self) -> PersonName:
        # A name usage that shows the partner's surname is unrenderable without one.
        if self.name_usage != "own" and self.partner_family is None:
            raise rule_error("partner_family_required", field="partner_family")
        return self


class _SentNL(str):
    """The country "NL" exactly as a JSON body sent it (see `Address`)."""

    __slots__ = ()


_SENT_NL: Final = _SentNL("NL")

# For JSON input. The country: "NL" exactly as sent becomes the marker, anything else the
# country rule. The postcode: the text rule, except that a postcode longer than the text
# maximum has the whole body validated again as a mapping (see `Address`).
_JSON_COUNTRY: Final = cs.chain_schema(
    [
        cs.str_schema(strip_whitespace=False),
        native.rule(
            cs.union_schema([cs.literal_schema([_SENT_NL]), COUNTRY], mode="left_to_right"),
            "country_format",
        ),
    ]
)
_JSON_POSTCODE: Final = native.required(
    native.rule(cs.str_schema(strip_whitespace=False, max_length=MAX_TEXT), PYTHON_MODE),
    native.not_blank(),
)


# The postcode is normalised when the country is "NL" as given, or absent. For Python input the
# before-validator does it; it would make pydantic convert a JSON address to Python objects and
# validate it in Python mode, so for JSON input it is left out and the after-validator
# normalises, knowing "NL" as sent by its marker value. Field checks on the postcode as sent,
# not normalised, decide the same, except for a postcode longer than the text maximum (padded
# with whitespace only Python strips): `parse_event` then validates the body again as a
# mapping, which decides as JSON bodies did before. (The docstring is the JSON Schema's text.)
class Address(IntakeModel):
    """A postal address; Dutch postcodes are normalised to `1234 AB` so receivers can match."""

    street: NonBlankStr
    house_number: HouseNumber
    house_number_addition: OptionalText = None
    postcode: Annotated[NonBlankStr, NativeJson(_JSON_POSTCODE)]
    city: NonBlankStr
    country: Annotated[CountryCode, NativeJson(_JSON_COUNTRY)] = "NL"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # The model validators wrap the model as after(model(before(fields))); the
        # before-validator is kept for Python input only.
        schema = handler(source)
        model: Any = schema["schema"] if schema["type"] == "function-after" else None
        if model is None or model["type"] != "model":
            raise TypeError(f"unexpected core schema for Address: {schema['type']}")
        before = model["schema"]
        if before["type"] == "function-before":
            model["schema"] = cs.json_or_python_schema(
                json_schema=before["schema"], python_schema=before
            )
        return schema

    @model_validator(mode="before")
    @classmethod
    def _normalise_dutch_postcode(cls, data: Any) -> Any:
        # Runs before field validation because the postcode rule depends on the country, which
        # is declared after it; errors are left to the after-validator so they carry a rule.
        if not isinstance(data, dict):
            return data
        postcode, country = data.get("postcode"), data.get("country", "NL")
        if country == "NL" and isinstance(postcode, str):
            try:
                return {**data, "postcode": normalise_postcode(postcode)}
            except ValueError:
                pass  # not a postcode: reported by the check below
        return data

    @model_validator(mode="after")
    def _dutch_postcode_format(self) -> Address:
        if self.country == "NL":
            # "NL" as sent (a ``_SentNL``), with spaces around it (stripped to a plain "NL"),
            # or no country: normalised here for JSON input. Python input was normalised
            # before, when it could be; normalising again changes nothing. A padded " NL " was
            # once only checked, so "1234ab" went to the hospital as it came.
            self.__dict__["country"] = "NL"
            try:
                self.__dict__["postcode"] = normalise_postcode(self.postcode)
            except ValueError:
                raise rule_error("postcode_format", field="postcode") from None
        return self


class Insurance(IntakeModel):
    uzovi: Uzovi
    policy_number: NonBlankStr


class Patient(IntakeModel):
    bsn: OptionalBsn = None
    local_id: OptionalText = None
    name: PersonName
    birth_date: IsoDate
    gender: Literal["M", "F", "O", "U"]
    address: Address | None = None
    phone: OptionalText = None
    mobile: OptionalText = None
    email: OptionalEmail = None
    insurance: Insurance | None = None

    @model_validator(mode="after")
    def _identifiable(self) -> Patient:
        # Without a BSN the receiving hospital can only match the patient on the address.
        if self.bsn is None and self.address is None:
            raise rule_error("bsn_or_address")
        return self


class Organisation(IntakeModel):
    agb: OptionalAgb = None
    name: NonBlankStr
    phone: OptionalText = None
    address: Address | None = None


class Referrer(IntakeModel):
    agb: Agb
    big: OptionalBig = None
    name: PersonName
    organisation: Organisation | None = None
    phone: OptionalText = None
    email: OptionalEmail = None
