"""The parts every message shares: the MSH segment and turning segments into a MappedMessage."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Final

from mappings.charset import encode
from mappings.checked import Writers, fit_while_writing
from mappings.context import MappedMessage, MappingContext
from mappings.countries import ALPHA3
from mappings.datetimes import hl7_timestamp
from mappings.escape import escape
from mappings.profile import WireProfile
from mappings.slots import fill_data
from mappings.writer import ENCODING_CHARACTERS, message
from schemas import Attachment

COUNTRY: Final = ALPHA3["NL"]  # MSH-17, HL7 table 0399: ISO 3166-1 alpha-3


def msh(ctx: MappingContext, wire: WireProfile, message_type: str, w: Writers) -> str:
    """MSH per docs/product.md §4.

    MSH-15/16 stay empty in original acknowledgement mode: filling them would switch a receiver
    to enhanced mode. MSH-21 names the message version (`ref-v2`, …) so a receiver and support
    can tell which contract a message follows without looking at its structure.
    """
    enhanced = ctx.ack_mode == "enhanced"
    return w.MSH(
        ENCODING_CHARACTERS,
        *_applications(
            ctx.sending_application,
            ctx.sending_facility,
            ctx.receiving_application,
            ctx.receiving_facility,
            w,
        ),
        hl7_timestamp(ctx.now),
        "",
        message_type,
        ctx.control_id,
        ctx.processing_id,
        wire.hl7_version,
        "",
        "",
        ctx.accept_ack_type if enhanced else "",
        ctx.application_ack_type if enhanced else "",
        COUNTRY,
        wire.charset,
        "",
        "",
        wire.name,
    )


@functools.lru_cache(maxsize=256)
def _applications(
    sending: str, sending_facility: str, receiving: str, receiving_facility: str, w: Writers
) -> tuple[str, str, str, str]:
    """MSH-3 to MSH-6 (HD), from a destination's settings: the same in all its messages."""
    return (
        w.HD(escape(sending)),
        w.HD(escape(sending_facility)),
        w.HD(escape(receiving)),
        w.HD(escape(receiving_facility)),
    )


def finish(
    ctx: MappingContext,
    wire: WireProfile,
    message_type: str,
    body: Callable[[Writers], list[str]],
    warnings: tuple[str, ...] = (),
    attachments: Sequence[Attachment] = (),
) -> MappedMessage:
    """MSH + the segments `body` joins, fitted to the standard's lengths (`mappings.lengths`),
    as text and as bytes in the version's charset. Warnings: the mapper's own first, then the
    lengths', then the charset's. `attachments` fill the body's slots (`mappings.slots`), in
    order."""

    def segments(w: Writers) -> list[str]:
        return [msh(ctx, wire, message_type, w), *body(w)]

    fitted, length_warnings = fit_while_writing(segments, wire.hl7_version, wire.charset)
    skeleton = message(fitted)
    data, charset_warnings = encode(skeleton, wire.charset)
    bulk = tuple(item.data for item in attachments)
    return MappedMessage(
        version=wire.name,
        control_id=ctx.control_id,
        message_type=message_type,
        skeleton=skeleton,
        data=fill_data(data, bulk),
        warnings=warnings + length_warnings + charset_warnings,
        bulk=bulk,
    )
