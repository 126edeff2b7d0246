"""An attachment's `content_type` in any case goes on the wire as in lower case.

MIME types are case-insensitive (RFC 2045); intake takes `application/PDF` and keeps it lower
case, so each version's OBX ED type and subtype (and everything else) are the bytes of the
golden file made of the lower-case spelling.
"""

from __future__ import annotations

from typing import Any

import pytest

from mappings import map_event
from schemas import parse_event
from tests.mappings import variants
from tests.mappings.helpers import GOLDEN, REFERRAL_VERSIONS, VERSIONS, context


def shouted(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each attachment's type in another case, alternately upper and title."""
    for number, attachment in enumerate(data["attachments"]):
        kind = attachment["content_type"]
        attachment["content_type"] = kind.upper() if number % 2 == 0 else kind.title()
    return data


@pytest.mark.parametrize("version", list(VERSIONS))
def test_the_wire_is_the_lower_case_spelling(
    version: str, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    if version in REFERRAL_VERSIONS:
        data, name = variants.full_referral(referral_data), "referral-full_new"
    else:
        data, name = (
            variants.full_diagnostic_request(diagnostic_request_data),
            ("diagnostic_request-full_new"),
        )
    sent = shouted(data)
    assert {a["content_type"] for a in sent["attachments"]}.isdisjoint(
        {"application/pdf", "image/png", "image/jpeg", "text/plain"}
    )
    mapped = map_event(version, parse_event(sent), context())
    assert b"^Base64^" in mapped.data
    assert mapped.data == (GOLDEN / f"{version}_{name}.hl7").read_bytes()
