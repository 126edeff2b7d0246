"""Sentences of the console's pages about links between them, a message's timeline and a
destination's test message; merged into ``integrator.console.i18n``'s catalogue."""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    # A resend of the original's bytes (mode ``original``): nothing was mapped, the MSH-10 is
    # the original's.
    "message.timeline.copied": (
        "Made from the original's bytes, not mapped again: {version} ({message_type}), "
        "MSH-10 {control_id}"
    ),
    "dest.links.messages": "Messages to this destination",
    "dest.links.dead_letters": "Its dead letters",
    "dest.unrouted_link": "Route them on the Unrouted events page",
    # Said on the button while the test message waits for its ACK (console.js, data-sending).
    "dest.test.sending": "Sending… this waits up to {timeout} for the receiver's ACK",
    "dest.test.needs_preview": (
        "Sending a test message needs the preview role in this destination's cluster; "
        "an administrator can grant it."
    ),
}

NL: Final[dict[str, str]] = {
    "message.timeline.copied": (
        "Gemaakt uit de bytes van het origineel, niet opnieuw omgezet: {version} "
        "({message_type}), MSH-10 {control_id}"
    ),
    "dest.links.messages": "Berichten naar deze bestemming",
    "dest.links.dead_letters": "Onbestelbare berichten van deze bestemming",
    "dest.unrouted_link": "Routeer ze op de pagina Gebeurtenissen zonder bestemming",
    "dest.test.sending": (
        "Bezig met versturen… dit wacht hoogstens {timeout} op de ACK van de ontvanger"
    ),
    "dest.test.needs_preview": (
        "Een testbericht versturen vraagt de rol preview in het cluster van deze bestemming; "
        "een beheerder kan die toekennen."
    ),
}
