"""PID and IN1: the patient and their insurance, identical in every version."""

from __future__ import annotations

from typing import Final

from mappings.datatypes import address, email, person_name, phone, telecoms
from mappings.datetimes import hl7_date
from mappings.escape import escape
from mappings.writer import components, repetitions, segment
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


def patient_identifiers(patient: Patient, zd_number: str, provider: Provider, platform: str) -> str:
    """PID-3: `<bsn>^^^NLMINBIZA^NNNLD~<zd>^^^<platform>^VN~<local id>^^^<authority>^PI`."""
    ids = []
    if patient.bsn is not None:
        ids.append(components(escape(patient.bsn), "", "", BSN_AUTHORITY, BSN_TYPE))
    ids.append(components(escape(zd_number), "", "", escape(platform), "VN"))
    if patient.local_id is not None:
        authority = escape(local_id_authority(provider))
        ids.append(components(escape(patient.local_id), "", "", authority, "PI"))
    return repetitions(ids)


def pid(patient: Patient, zd_number: str, provider: Provider, platform: str) -> str:
    return segment(
        "PID",
        "1",
        "",
        patient_identifiers(patient, zd_number, provider, platform),
        "",
        person_name(patient.name),
        "",
        hl7_date(patient.birth_date),
        escape(patient.gender),
        "",
        "",
        address(patient.address),
        "",
        telecoms(
            (
                phone(patient.phone, "PRN", "PH"),
                phone(patient.mobile, "ORN", "CP"),
                email(patient.email),
            )
        ),
    )


def in1(insurance: Insurance | None) -> list[str]:
    """IN1-2 plan `<uzovi>^^UZOVI` (required by HL7, no other plan id is known), IN1-3
    `<uzovi>^^^VEKTIS^UZOVI`, IN1-36 the policy number. No IN1 without insurance."""
    if insurance is None:
        return []
    uzovi = escape(insurance.uzovi)
    fields = [""] * 36
    fields[0] = "1"
    fields[1] = components(uzovi, "", UZOVI)
    fields[2] = components(uzovi, "", "", UZOVI_AUTHORITY, UZOVI)
    fields[35] = escape(insurance.policy_number)
    return [segment("IN1", *fields)]
