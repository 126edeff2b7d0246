"""The synthetic event behind ``destinations test``: a fictional patient, never a real one.

A hospital's interface engine sees MSH-11 ``T`` and this obviously fictional content, so a test
message can never be mistaken for a real referral or request.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from schemas import DiagnosticRequest, Referral, parse_event

TEST_BSN = "999990020"  # from the range set aside for testing; passes the eleven-test


def _common(now: datetime, zd_number: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "schema_version": 1,
        "action": "new",
        "zd_number": zd_number,
        "created_at": now.isoformat(),
        "provider": {"id": "integrator-test", "name": "Integrator testbericht"},
        "care_product": {"code": "TEST", "name": "Testbericht"},
        "patient": {
            "bsn": TEST_BSN,
            "name": {"initials": "T.", "given": "Test", "family": "Testpatiënt"},
            "birth_date": "1970-01-01",
            "gender": "U",
        },
        "referrer": {
            "agb": "01000000",
            "name": {"initials": "T.", "family": "Testverwijzer"},
        },
    }


def synthetic_event(event_type: str, now: datetime) -> Referral | DiagnosticRequest:
    """A valid event of ``event_type`` for a test message; ``now`` must be timezone-aware."""
    data = _common(now, "ZD000000000")
    if event_type == "referral":
        data.update(
            type="referral",
            care_question={"text": "Testbericht: geen actie nodig"},
            letter={"reason": "Testbericht van Integrator; geen echte verwijzing."},
        )
    else:
        data.update(
            type="diagnostic_request",
            tests=[{"code": "TEST", "name": "Testbepaling"}],
            clinical_info="Testbericht van Integrator; geen echte aanvraag.",
        )
    return parse_event(data)
