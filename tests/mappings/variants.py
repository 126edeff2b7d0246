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
