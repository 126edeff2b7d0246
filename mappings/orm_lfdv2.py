"""`orm-lfdv2`: ORM^O01 in HL7 2.4, ISO 8859-1 (docs/product.md §4.4; field table in orm-lfdv2.md).

The `orm-v3` message with HL7 2.4 datatypes (XON-3 instead of XON-10), coding system `99zda`,
Latin-1 bytes with transliteration, and the laboratory's placer numbers `<zd>_<nn><specimen>`
(sent without EI namespace, like those of `orm-v3`).
"""

from __future__ import annotations

import re
from typing import Final

from mappings.context import Event, MappedMessage, MappingContext
from mappings.errors import EventTypeMismatch
from mappings.order import render_order
from mappings.profile import ORM_LFDV2
from schemas import DiagnosticRequest, LabTest

# HL7 gives ORC-2/OBR-2 (EI) 22 characters: ZD number (11) + "_" + 2 digits + 8 of specimen.
PLACER_LENGTH: Final = 22
_NOT_ALNUM: Final = re.compile(r"[^A-Za-z0-9]")


def placer_number(zd_number: str, number: int, test: LabTest) -> str:
    """`<zd>_<nn><specimen>`, e.g. `ZD100000002_01BLD`: the test's position (two digits, more
    from 100) keeps it unique; the specimen type follows with only its ASCII letters and
    digits, as many as fit 22 characters (8 with a two-digit position, 7 from 100), so the
    number stays a plain identifier within ORC-2's length. The ZD number and the position are
    never cut; the specimen type itself travels whole in OBR-15."""
    specimen = test.specimen.type if test.specimen else ""
    position = f"{zd_number}_{number:02d}"
    room = max(PLACER_LENGTH - len(position), 0)
    return position + _NOT_ALNUM.sub("", specimen)[:room]


def map_orm_lfdv2(event: Event, ctx: MappingContext) -> MappedMessage:
    """Callers go through `mappings.map_event`, which has already checked the event type."""
    if not isinstance(event, DiagnosticRequest):
        raise EventTypeMismatch(ORM_LFDV2.name, ORM_LFDV2.event_type, event.type)
    return render_order(event, ctx, ORM_LFDV2, placer_number)
