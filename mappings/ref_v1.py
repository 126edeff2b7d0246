"""`ref-v1`: REF^I12 / REF^I14 in HL7 2.4, ISO 8859-1 (product.md §4.2; field table in ref-v1.md).

The `ref-v2` message with HL7 2.4 datatypes (organisation AGBs in PRD-7, as 2.4 has no PL-10),
coding system `99zda` for platform codes, and Latin-1 bytes with transliteration.
"""

from __future__ import annotations

from mappings.context import Event, MappedMessage, MappingContext
from mappings.errors import EventTypeMismatch
from mappings.profile import REF_V1
from mappings.referral import render_referral
from schemas import Referral


def map_ref_v1(event: Event, ctx: MappingContext) -> MappedMessage:
    """Callers go through `mappings.map_event`, which has already checked the event type."""
    if not isinstance(event, Referral):
        raise EventTypeMismatch(REF_V1.name, REF_V1.event_type, event.type)
    return render_referral(event, ctx, REF_V1)
