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

    Only MSH-7 (the time) and MSH-10 (the control id) differ between the messages of one
    destination and version: the rest is joined once (`_msh_parts`). MSH-10 needs no escaping
    and fits (`MappingContext` allows 1-20 visible ASCII characters without delimiters, MSH-10's
    20), and MSH-7 has at most 19 of its 26 characters."""
    enhanced = ctx.ack_mode == "enhanced"
    head, rest = _msh_parts(
        ctx.sending_application,
        ctx.sending_facility,
        ctx.receiving_application,
        ctx.receiving_facility,
        ctx.processing_id,
        ctx.accept_ack_type if enhanced else "",
        ctx.application_ack_type if enhanced else "",
        message_type,
        wire,
        w,
    )
    middle, tail = rest
    return f"{head}{hl7_timestamp(ctx.now)}{middle}{ctx.control_id}{tail}"


# Stand-ins for MSH-7 and MSH-10: no escaped value holds a raw control character.
_TIME: Final = "\x01"
_CONTROL_ID: Final = "\x02"


@functools.lru_cache(maxsize=256)
def _msh_parts(
    sending: str,
    sending_facility: str,
    receiving: str,
    receiving_facility: str,
    processing_id: str,
    accept_ack_type: str,
    application_ack_type: str,
    message_type: str,
    wire: WireProfile,
    w: Writers,
) -> tuple[str, tuple[str, str]]:
    """MSH up to MSH-7, and what comes between MSH-7 and MSH-10 and after MSH-10: joined by
    `w` with stand-ins for the time and the control id, and cut around them. A setting too
    long raises `TooLong` here, every time (an exception is not cached)."""
    whole = w.MSH(
        ENCODING_CHARACTERS,
        *_applications(sending, sending_facility, receiving, receiving_facility, w),
        _TIME,
        "",
        message_type,
        _CONTROL_ID,
        processing_id,
        wire.hl7_version,
        "",
        "",
        accept_ack_type,
        application_ack_type,
        COUNTRY,
        wire.charset,
        "",
        "",
        wire.name,
    )
    head, rest = whole.split(_TIME)
    middle, tail = rest.split(_CONTROL_ID)
    return head, (middle, tail)


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
    bulk = tuple([item.data for item in attachments]) if attachments else ()
    return MappedMessage(  # by position (version, control id, type, skeleton, data, …)
        wire.name,
        ctx.control_id,
        message_type,
        skeleton,
        fill_data(data, bulk),
        warnings + length_warnings + charset_warnings,
        bulk,
    )
