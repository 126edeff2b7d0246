"""What a resend of one message would send, before anybody presses the button.

The dry run of ``deadletter.resend`` (through ``resending.resend_in_engine``) decides exactly
as the real resend will (the same mode, target and skip rules, nothing written) and yields the
message it would store; this module only puts that beside what was sent, field by field
(``hl7names.field_changes``), so a person sees what a remap changes before resending.

Which messages and targets the person may use is the caller's to check first, with
``message_service.check_resend``, as ``POST /api/v1/messages/{id}/resend`` does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

from deadletter import ResendRequest, ResendResult, select_for_resend
from integrator.access.permissions import Identity
from integrator.engine import Engine
from integrator.hl7names import FieldChange, field_changes
from integrator.hl7view import decode_message
from integrator.message_reads import record_message_view
from integrator.resending import resend_in_engine

MADE_WHEN_SENT: Final = frozenset({"MSH-7", "MSH-10"})
"""What a remap writes anew each time it maps (the time of the message and its control id,
``mappings.MappingContext``): the dry run's values are not those the resend will send, so the
preview says they are new instead of showing a value that will never go out."""


@dataclass(frozen=True, slots=True)
class ResendPreview:
    result: ResendResult  # outcome, mode, destination, and the note of a skip
    changes: list[FieldChange]  # empty when the same bytes would go out again; the after
    # of a field in ``MADE_WHEN_SENT`` is None: only the resend itself makes it

    def made_when_sent(self, change: FieldChange) -> bool:
        return change.position in MADE_WHEN_SENT


async def preview_resend(
    engine: Engine,
    message_id: str,
    request: ResendRequest,
    *,
    identity: Identity,
    source: str | None = None,
) -> ResendPreview:
    """The dry run of resending ``message_id`` as ``request`` says; raises as the resend would
    (``UnknownMessageId``, ``ResendRefused``).

    A change outside the MSH segment shows the message's own fields (the patient's name, BSN,
    address in PID): recorded as ``identity``'s view of the message (``patient_data.view``,
    view ``resend.preview``, with ``source``) before it is returned, as every view of patient
    data is."""
    selection = await select_for_resend(engine.store, message_ids=[message_id])
    [result] = await resend_in_engine(engine, selection, request, dry_run=True)
    if result.message is None:
        return ResendPreview(result, [])
    # Selected without its bytes (``select_for_resend``): read here, for the one message.
    stored = await engine.store.get_message(result.original.id)
    before = decode_message(stored.payload) if stored is not None and stored.payload else ""
    after = decode_message(result.message.payload)
    changes = [
        dataclasses.replace(c, after=None) if c.position in MADE_WHEN_SENT else c
        for c in field_changes(before, after)
    ]
    if any(not c.position.startswith("MSH-") for c in changes):
        original = result.original
        event = await engine.store.get_event(original.event_id)
        await record_message_view(
            engine.store, identity, original, event, view="resend.preview", source=source
        )
    return ResendPreview(result, changes)
