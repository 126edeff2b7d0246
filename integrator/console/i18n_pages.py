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
    # Said on the button while the test message waits (console.js, data-sending): the most it
    # can wait in all (integrator.delivery.exchange_bound), the connect timeout (TCP and the
    # TLS handshake share it) and the ACK timeout, which each ACK awaited gets ({answers}: the
    # one or the two, dest.test.one_ack or dest.test.two_acks).
    "dest.test.sending": (
        "Sending… this waits up to {timeout} in all: {connect} to connect, then {ack} for {answers}"
    ),
    "dest.test.sending_tls": (
        "Sending… this waits up to {timeout} in all: {connect} to connect and make the TLS "
        "handshake, then {ack} for {answers}"
    ),
    "dest.test.one_ack": "the receiver's ACK",
    "dest.test.two_acks": "each of the receiver's two ACKs (commit ACK, application ACK)",
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
        "Bezig met versturen… dit wacht in totaal hoogstens {timeout}: {connect} op de "
        "verbinding, dan {ack} op {answers}"
    ),
    "dest.test.sending_tls": (
        "Bezig met versturen… dit wacht in totaal hoogstens {timeout}: {connect} op de "
        "verbinding en de TLS-handshake, dan {ack} op {answers}"
    ),
    "dest.test.one_ack": "de ACK van de ontvanger",
    "dest.test.two_acks": "elk van de twee ACK's van de ontvanger (commit-ACK, applicatie-ACK)",
    "dest.test.needs_preview": (
        "Een testbericht versturen vraagt de rol preview in het cluster van deze bestemming; "
        "een beheerder kan die toekennen."
    ),
}
