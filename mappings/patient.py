"""PID and IN1: the patient and their insurance, identical in every version."""

from __future__ import annotations

import functools
from typing import Final

from mappings.checked import Writers
from mappings.datatypes import (
    ADDRESS_HOME,
    HELPERS,
    XPN_PART,
    address_expressions,
    email_part,
    name_expressions,
    phone_part,
    repeated,
    xad_part,
)
from mappings.datetimes import hl7_date
from mappings.templates import Layout
from schemas import Insurance, Patient, Provider

BSN_AUTHORITY: Final = "NLMINBIZA"
BSN_TYPE: Final = "NNNLD"
UZOVI_AUTHORITY: Final = "VEKTIS"
UZOVI: Final = "UZOVI"


def local_id_authority(provider: Provider) -> str:
    """Who issued `patient.local_id`: the receiving provider, by AGB, else by its platform id.

    A local id in an event is the patient's number at the provider the event goes to (the
    only local number a receiver can look up), so the provider is its assigning authority.
    """
    return provider.agb or provider.id


@functools.cache
def _pid(
    bsn: bool, local_id: bool, with_address: bool, phone: bool, mobile: bool, email: bool
) -> Layout:
    """The PID template for a patient with these values present."""
    ids = repeated(
        ("CX", ("$bsn", "", "", BSN_AUTHORITY, BSN_TYPE)) if bsn else None,
        ("CX", ("$zd", "", "", ("sub_HD", ("$platform",)), "VN")),
        ("CX", ("$local_id", "", "", ("sub_HD", ("$authority",)), "PI")) if local_id else None,
    )
    return Layout(
        "PID", "1", "", ids, "", XPN_PART, "", "=birth", "$gender", "", "",
        xad_part(ADDRESS_HOME) if with_address else "",
        "",
        repeated(
            phone_part("phone", "PRN", "PH") if phone else None,
            phone_part("mobile", "ORN", "CP") if mobile else None,
            email_part("email") if email else None,
        ),
        params=("patient", "zd", "platform", "provider"),
        values={
            "_name": "patient.name",
            "_address": "patient.address",
            "bsn": "patient.bsn",
            "local_id": "patient.local_id",
            "authority": "local_id_authority(provider)",
            "birth": "hl7_date(patient.birth_date)",
            "gender": "patient.gender",
            "phone": "patient.phone",
            "mobile": "patient.mobile",
            "email": "patient.email",
            **name_expressions("_name"),
            **address_expressions("_address"),
        },
        helpers={**HELPERS, "hl7_date": hl7_date, "local_id_authority": local_id_authority},
    )  # fmt: skip


def pid(patient: Patient, zd_number: str, provider: Provider, platform: str, w: Writers) -> str:
    """PID: identifiers (BSN, ZD number, local id), name, birth date, sex, address, telecom."""
    return _pid(
        patient.bsn is not None,
        patient.local_id is not None,
        patient.address is not None,
        patient.phone is not None,
        patient.mobile is not None,
        patient.email is not None,
    )[w](patient, zd_number, platform, provider)


_IN1: Final = Layout(
    "IN1", "1", ("CE", ("$uzovi", "", UZOVI)), ("CX", ("$uzovi", "", "", UZOVI_AUTHORITY, UZOVI)),
    *("",) * 32, "$policy_number",
    params=("insurance",),
    values={"uzovi": "insurance.uzovi", "policy_number": "insurance.policy_number"},
)  # fmt: skip


def in1(insurance: Insurance | None, w: Writers) -> list[str]:
    """IN1-2 plan `<uzovi>^^UZOVI` (required by HL7, no other plan id is known), IN1-3
    `<uzovi>^^^VEKTIS^UZOVI`, IN1-36 the policy number. No IN1 without insurance."""
    if insurance is None:
        return []
    return [_IN1[w](insurance)]
