"""PID and IN1: the patient and their insurance, identical in every version."""

from __future__ import annotations

from typing import Final

from mappings.checked import Writers
from mappings.datatypes import address, email, person_name, phone, telecoms
from mappings.datetimes import hl7_date
from mappings.escape import escape
from mappings.writer import repetitions
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


def patient_identifiers(
    patient: Patient, zd_number: str, provider: Provider, platform: str, w: Writers
) -> str:
    """PID-3: `<bsn>^^^NLMINBIZA^NNNLD~<zd>^^^<platform>^VN~<local id>^^^<authority>^PI`."""
    ids = []
    if patient.bsn is not None:
        ids.append(w.CX(escape(patient.bsn), "", "", BSN_AUTHORITY, BSN_TYPE))
    ids.append(w.CX(escape(zd_number), "", "", w.sub_HD(escape(platform)), "VN"))
    if patient.local_id is not None:
        authority = w.sub_HD(escape(local_id_authority(provider)))
        ids.append(w.CX(escape(patient.local_id), "", "", authority, "PI"))
    return repetitions(ids)


def pid(patient: Patient, zd_number: str, provider: Provider, platform: str, w: Writers) -> str:
    return w.PID(
        "1",
        "",
        patient_identifiers(patient, zd_number, provider, platform, w),
        "",
        person_name(patient.name, w),
        "",
        hl7_date(patient.birth_date),
        escape(patient.gender),
        "",
        "",
        address(patient.address, w),
        "",
        telecoms(
            (
                phone(patient.phone, "PRN", "PH", w),
                phone(patient.mobile, "ORN", "CP", w),
                email(patient.email, w),
            )
        ),
    )


def in1(insurance: Insurance | None, w: Writers) -> list[str]:
    """IN1-2 plan `<uzovi>^^UZOVI` (required by HL7, no other plan id is known), IN1-3
    `<uzovi>^^^VEKTIS^UZOVI`, IN1-36 the policy number. No IN1 without insurance."""
    if insurance is None:
        return []
    uzovi = escape(insurance.uzovi)
    fields = [""] * 36
    fields[0] = "1"
    fields[1] = w.CE(uzovi, "", UZOVI)
    fields[2] = w.CX(uzovi, "", "", UZOVI_AUTHORITY, UZOVI)
    fields[35] = escape(insurance.policy_number)
    return [w.IN1(*fields)]
