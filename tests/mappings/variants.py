"""Richer variants of the sample events, so golden files and read-back tests cover every rule
(no BSN, local id, partner names, all letter sections, each answer type, every attachment
type, cluster, insurance, specimen container, urgency)."""

from __future__ import annotations

import base64
import copy
from typing import Any

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 12).decode()
TEXT = base64.b64encode(b"Uitslag: Hb 8,1 mmol/l\n").decode()


def cancelled(data: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(data), "action": "cancel"}


def full_referral(data: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(data)
    event["priority"] = "urgent"
    event["care_question"] = {"text": "Beoordeling & advies | spoed"}
    event["icpc"].append({"code": "K86", "text": "Hypertensie zonder orgaanbeschadiging"})
    event["letter"].update(
        examination="RR 150/95.\r\nPols regulair, 72/min.",
        remarks="Patiënt spreekt beperkt Nederlands ~ tolk gewenst",
    )
    patient = event["patient"]
    del patient["bsn"]
    patient["local_id"] = "ZN-0042"
    patient["name"].update(
        partner_prefix="de", partner_family="Wit-Smits", name_usage="own_partner"
    )
    del patient["mobile"]
    event["referrer"]["organisation"]["address"] = {
        "street": "Lindelaan",
        "house_number": 1,
        "postcode": "3511ab",
        "city": "Utrecht",
    }
    event["questions"] += [
        {
            "title": "Toelichting",
            "required": False,
            "answer_type": "open",
            "answer": "Klachten \\ erger bij kou.\nGeen ^ nachtelijke klachten & rust.",
        },
        {
            "code": "DATUM",
            "title": "Datum eerste klachten",
            "required": True,
            "answer_type": "date",
            "answer": "2026-10-30",
        },
        {"title": "Eerdere ECG?", "required": False, "answer_type": "yes_no"},
    ]
    event["attachments"] += [
        {"filename": "foto.png", "content_type": "image/png", "data": PNG},
        {"filename": "scan.jpg", "content_type": "image/jpeg", "data": JPEG},
        {
            "filename": "lab.txt",
            "content_type": "text/plain",
            "data": TEXT,
            "description": "Laatste labwaarden",
        },
    ]
    return event


def full_diagnostic_request(data: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(data)
    event["priority"] = "urgent"
    event["cluster"] = {"code": "LAB", "name": "Laboratorium"}
    event["patient"].update(
        bsn="999990019",
        local_id="LW-77",
        phone="0701234567",
        email="f.elamrani@example.org",
        insurance={"uzovi": "3311", "policy_number": "P-998877"},
    )
    event["referrer"].update(big="19012345601", phone="0703334444")
    event["referrer"]["organisation"].update(agb="01054322", phone="0703330000")
    event["tests"][0]["specimen"]["container"] = "EDTA-buis"
    event["tests"].append({"code": "14682-9", "name": "Creatinine", "coding_system": "LN"})
    event["collection"]["instructions"] = "Nuchter komen.\nNeem ID mee."
    event["questions"].append(
        {
            "code": "MED",
            "title": "Medicatiegebruik",
            "required": False,
            "answer_type": "multiple_choice",
            "options": ["geen", "bloedverdunners", "schildkliermedicatie"],
            "answer": ["bloedverdunners", "schildkliermedicatie"],
        }
    )
    event["attachments"] = [
        {
            "filename": "verwijzing.pdf",
            "content_type": "application/pdf",
            "data": "JVBERi0xLjQKJSVFT0YK",
            "description": "Eerdere uitslagen",
        }
    ]
    return event


# Descriptive text longer than any component allows, with every delimiter (so escaping adds
# characters) and characters outside Latin-1 (so transliteration does, in 8859/1 versions).
LONG_PATTERN = "Zuid|Oost^Hoek&Co~Plein\\Ł€ő "


def long_text(length: int = 300) -> str:
    return (LONG_PATTERN * (length // len(LONG_PATTERN) + 1))[:length].strip()


def _long_name() -> dict[str, Any]:
    return {
        "initials": long_text(),
        "given": long_text(),
        "prefix": long_text(),
        "family": long_text(),
        "partner_prefix": long_text(),
        "partner_family": long_text(),
        "name_usage": "own_partner",
    }


def _long_address(country: str = "NL") -> dict[str, Any]:
    return {
        "street": long_text(),
        "house_number": "1" * 12,  # SAD-3 (dwelling number) is 12 in HL7 2.5.1
        "house_number_addition": long_text(),
        "postcode": "1234 AB" if country == "NL" else "X" * 12,  # XAD-5: 12
        "city": long_text(),
        "country": country,
    }


def maximal(data: dict[str, Any]) -> dict[str, Any]:
    """The event with every descriptive text as long as `long_text`, every identifier and code
    intake does not limit as long as HL7 2.5.1 allows it (the tighter of the two versions),
    content (letter, answers, notes) at intake's maximum of 65,536 characters, and, for a
    diagnostic request,
    100 tests (three-digit placer positions). Mapped, nothing may exceed the standard."""
    event = copy.deepcopy(data)
    # 65,535 characters of FT/TX, just under intake's maximum: OBX-5 is advisory
    content = "Regel met tekst.\n" * 3_855
    event["provider"] = {"id": "P" * 20, "name": long_text(), "agb": "06010101"}
    event["care_product"] = {"code": "C" * 20, "name": long_text()}  # CE-1: 20
    event["cluster"] = {"code": long_text(), "name": long_text()}
    patient = event["patient"]
    patient.update(
        bsn="999990019",
        local_id="L" * 15,  # CX-1: 15
        name=_long_name(),
        address=_long_address("BE"),
        phone="0" * 199,  # XTN-1: 199
        mobile="0" * 199,
        email=("a" * 190) + "@ex.org",
        insurance={"uzovi": "3311", "policy_number": "P" * 15},  # IN1-36: 15
    )
    event["referrer"] = {
        "agb": "01012345",
        "big": "19012345601",
        "name": _long_name(),
        "organisation": {
            "agb": "01054321",
            "name": long_text(),
            "phone": "0" * 199,
            "address": _long_address(),
        },
        "phone": "0" * 199,
        "email": ("b" * 190) + "@ex.org",
    }
    event["questions"] = [
        {
            "code": "Q" * 20,
            "title": long_text(),
            "required": True,
            "answer_type": "open",
            "answer": content,
        },
        {"title": long_text(), "required": False, "answer_type": "yes_no", "answer": True},
        {
            "code": "M" * 20,
            "title": long_text(),
            "required": False,
            "answer_type": "multiple_choice",
            "options": [long_text(), "kort"],
            "answer": [long_text(), "kort"],
        },
    ]
    event["attachments"] = [
        {
            "filename": long_text().replace("\\", "_") + ".pdf",
            "content_type": "application/pdf",
            "data": "JVBERi0xLjQKJSVFT0YK",
            "description": long_text(),
        }
    ]
    if event["type"] == "referral":
        event["care_question"] = {"code": "Q" * 20, "text": long_text()}
        event["icpc"] = [{"code": "K74.01", "text": long_text()}] * 3
        event["letter"] = {"reason": content, "history": long_text()}
    else:
        test = {
            "code": "T" * 20,  # CE-1: 20
            "name": long_text(),
            "coding_system": "S" * 20,  # CE-3: 20
            "specimen": {"type": "B" * 20, "container": long_text()},  # SPS-1.1/SPM-4.1: 20
        }
        event["tests"] = [test] * 100
        event["collection"] = {
            "location_id": "A" * 20,  # PL-1: 20
            "location_name": long_text(),
            "requested_date": "2026-11-24",
            "instructions": content,
        }
        event["clinical_info"] = content
    return event
