"""What a mapper gets besides the event, and what it returns.

The context carries everything that is not in the event: the control id (unique per message
instance), the clock reading (mappers never read a clock) and the destination's and engine's
MSH settings. It is checked when built, so a bad setting fails at configuration time rather
than as an unparseable message at a hospital.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

from mappings.errors import InvalidContext, InvalidControlId
from mappings.slots import fill_text

if TYPE_CHECKING:
    # Named for the type checker only: the settings read this module's limits, and every
    # command that reads the store loaded the event models through them (about 60 ms).
    from schemas import DiagnosticRequest, Referral

MAX_CONTROL_ID: Final = 20
# `<zd number>^<platform authority>` is an EI of at most 22 characters (ORC-2, ORC-4, OBR-2);
# the ZD number has 11.
MAX_PLATFORM_AUTHORITY: Final = 10
# Visible ASCII without the HL7 delimiters: MSH-10 is echoed in MSA-2 and compared byte for byte.
_CONTROL_ID_CHARS: Final = frozenset(map(chr, range(0x21, 0x7F))) - frozenset("|^~\\&")
# HL7 table 0155, the values MSH-15/16 may take.
ACK_TYPES: Final = frozenset({"AL", "NE", "ER", "SU"})

Event: TypeAlias = "Referral | DiagnosticRequest"


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Per-message inputs of a mapper besides the event.

    `now` becomes MSH-7 in its own UTC offset, so pass local time (e.g. Europe/Amsterdam).
    `platform_authority` is the assigning authority of the ZD number (PID-3 `VN`, placer
    numbers), at most 10 characters so that `<zd>^<authority>` fits EI's 22.
    `accept_ack_type`/`application_ack_type` go to MSH-15/16 in enhanced mode only.
    """

    control_id: str
    now: datetime.datetime
    sending_application: str = "INTEGRATOR"
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    processing_id: Literal["P", "T"] = "P"
    ack_mode: Literal["original", "enhanced"] = "original"
    accept_ack_type: str = "AL"
    application_ack_type: str = "NE"
    platform_authority: str = "ZORGDOMEIN"

    def __post_init__(self) -> None:
        if (
            not isinstance(self.control_id, str)
            or not 1 <= len(self.control_id) <= MAX_CONTROL_ID
            or not _CONTROL_ID_CHARS.issuperset(self.control_id)
        ):
            length = len(self.control_id) if isinstance(self.control_id, str) else 0
            raise InvalidControlId(
                f"control_id must be 1-{MAX_CONTROL_ID} visible ASCII characters without "
                f"HL7 delimiters |^~\\&; got {length} characters"
            )
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise InvalidContext("now must be timezone-aware (MSH-7 carries the UTC offset)")
        if self.processing_id not in ("P", "T"):
            raise InvalidContext("processing_id must be 'P' or 'T'")
        if self.ack_mode not in ("original", "enhanced"):
            raise InvalidContext("ack_mode must be 'original' or 'enhanced'")
        if self.accept_ack_type not in ACK_TYPES or self.application_ack_type not in ACK_TYPES:
            raise InvalidContext(
                "accept_ack_type and application_ack_type must be AL, NE, ER or SU"
            )
        if not 1 <= len(self.platform_authority) <= MAX_PLATFORM_AUTHORITY:
            raise InvalidContext(
                f"platform_authority must be 1-{MAX_PLATFORM_AUTHORITY} characters "
                "(the placer numbers <zd>^<authority> have at most 22)"
            )


@dataclass(frozen=True, slots=True)
class MappedMessage:
    """One rendered message instance.

    `text` uses CR between (and after) segments; `data` is `text` in the version's MSH-18
    charset and is what goes on the wire. `warnings` state facts such as transliteration, never
    patient data.

    Only `data` is kept whole: attachments are megabytes of base64 that nothing but tests and
    tools ever read as text, so `text` is put together when asked for, from `skeleton` (the
    message with a slot per attachment, see `mappings.slots`) and `bulk` (their base64).
    """

    version: str
    control_id: str
    message_type: str
    skeleton: str
    data: bytes
    warnings: tuple[str, ...]
    bulk: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return fill_text(self.skeleton, self.bulk)


Mapper: TypeAlias = Callable[[Event, MappingContext], MappedMessage]
