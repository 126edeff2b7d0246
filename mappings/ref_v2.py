"""`ref-v2`: REF^I12 / REF^I14 in HL7 2.5.1, UTF-8 (product.md §4.1; field table in ref-v2.md)."""

from __future__ import annotations

from mappings.context import Event, MappedMessage, MappingContext
from mappings.errors import EventTypeMismatch
from mappings.profile import REF_V2
from mappings.referral import render_referral
from schemas import Referral


def map_ref_v2(event: Event, ctx: MappingContext) -> MappedMessage:
    """Callers go through `mappings.map_event`, which has already checked the event type."""
    if not isinstance(event, Referral):
        raise EventTypeMismatch(REF_V2.name, REF_V2.event_type, event.type)
    return render_referral(event, ctx, REF_V2)
