"""`orm-v3`: ORM^O01 in HL7 2.5.1, UTF-8 (docs/product.md §4.3; field table in orm-v3.md)."""

from __future__ import annotations

from mappings.context import Event, MappedMessage, MappingContext
from mappings.errors import EventTypeMismatch
from mappings.order import render_order
from mappings.profile import ORM_V3
from schemas import DiagnosticRequest, LabTest


def placer_number(zd_number: str, number: int, test: LabTest) -> str:
    """`<zd>-<nn>`: the test's position, two digits (more when there are 100+ tests); unique
    within the request, 14 characters for a 99-test request. Sent without EI namespace:
    `ZD100000002-01^ZORGDOMEIN` would be 25 of ORC-2's 22 characters."""
    return f"{zd_number}-{number:02d}"


def map_orm_v3(event: Event, ctx: MappingContext) -> MappedMessage:
    """Callers go through `mappings.map_event`, which has already checked the event type."""
    if not isinstance(event, DiagnosticRequest):
        raise EventTypeMismatch(ORM_V3.name, ORM_V3.event_type, event.type)
    return render_order(event, ctx, ORM_V3, placer_number)
