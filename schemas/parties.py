"""The people and organisations an event names: provider, patient, referrer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from schemas.base import IntakeModel
from schemas.errors import rule_error
from schemas.fields import (
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
    Uzovi,
)
from schemas.identifiers import is_valid_postcode, normalise_postcode


class Provider(IntakeModel):
    """The care provider receiving the event; `id` is what routing selects destinations by."""

    id: NonBlankStr
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


class Address(IntakeModel):
    """A postal address; Dutch postcodes are normalised to `1234 AB` so receivers can match."""

    street: NonBlankStr
    house_number: HouseNumber
    house_number_addition: OptionalText = None
    postcode: NonBlankStr
    city: NonBlankStr
    country: CountryCode = "NL"

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
        if self.country == "NL" and not is_valid_postcode(self.postcode):
            raise rule_error("postcode_format", field="postcode")
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
