"""`oml-v3`: OML^O21 in HL7 2.5.1, UTF-8 (docs/product.md §4.5; field table in oml-v3.md).

The `orm-v3` message in the laboratory order structure: a TQ1 after every ORC and an SPM per
test with a specimen. Placer numbers are those of `orm-v3`, so a destination moving between the
two keeps its order numbers.
"""

from __future__ import annotations

from mappings.context import Event, MappedMessage, MappingContext
from mappings.errors import EventTypeMismatch
from mappings.order import render_order
from mappings.orm_v3 import placer_number
from mappings.profile import OML_V3
from schemas import DiagnosticRequest


def map_oml_v3(event: Event, ctx: MappingContext) -> MappedMessage:
    """Callers go through `mappings.map_event`, which has already checked the event type."""
    if not isinstance(event, DiagnosticRequest):
        raise EventTypeMismatch(OML_V3.name, OML_V3.event_type, event.type)
    return render_order(event, ctx, OML_V3, placer_number)
