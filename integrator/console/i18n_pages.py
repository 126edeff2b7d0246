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
    # A discarded dead letter (status cancelled): who closed it, when and why, on its page,
    # its timeline and its resend preview (pages.message._discarded); nobody: the discard's
    # audit entry is past the audit trail's retention.
    "message.discarded": "Discarded",
    "message.discarded.by": "by {actor} at {when}",
    "message.discarded.nobody": "someone no longer recorded (the audit entry is past its period)",
    "message.timeline.discarded": "Discarded as a dead letter by {actor}",
    # An answer after the answer that settled it (an AR after the AA): the first stood.
    "message.timeline.late_answer": (
        "Answered again after its answer: {code}; the first answer stood (ask the receiver why)"
    ),
    # Discarding an open dead letter from its own page, through the dead letters' confirmation.
    "message.discard": "Discard",
    "message.discard.hint": (
        "Closes this dead letter as cancelled, with the resends of it that died too; nothing "
        "is sent. The next page shows what it closes and asks for a reason."
    ),
    "message.discard.button": "Discard…",
    # Said in a resend's preview, above Resend now, of what needs no resend.
    "message.resend.delivered": (
        "{destination} acknowledged this message with ACK {code} at {when}: it arrived. "
        "Resending sends it again; where they cannot find it, give them its MSH-10 "
        "{control_id} first."
    ),
    "message.resend.discarded": (
        "{actor} discarded this message at {when}: resending sends it after all."
    ),
    "message.resend.discarded_why": "Their reason: {reason}",
    # Under a search by BSN, where Resend these messages… is not offered (identifier terms only).
    "batch.not_by_bsn": (
        "Resending what a search by BSN finds is not offered: open a message to resend it, or "
        "search by its ZD number to resend what that referral became."
    ),
    # A dead letters' confirmation asked from a message's page (its Discard…) and its result:
    # the way back is that message, not the dead letters' list the person never saw.
    "dead.cancel_to_message": "Cancel, back to the message",
    "dead.back_to_message": "Back to the message",
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
    "message.discarded": "Afgesloten",
    "message.discarded.by": "door {actor} op {when}",
    "message.discarded.nobody": (
        "iemand die niet meer bekend is (de regel in de audittrail is na zijn bewaartermijn "
        "opgeruimd)"
    ),
    "message.timeline.discarded": "Als onbestelbaar bericht afgesloten door {actor}",
    "message.timeline.late_answer": (
        "Na het antwoord opnieuw beantwoord: {code}; het eerste antwoord gold (vraag de "
        "ontvanger waarom)"
    ),
    "message.discard": "Afsluiten",
    "message.discard.hint": (
        "Sluit dit onbestelbare bericht af als geannuleerd, met de herzendingen ervan die ook "
        "onbestelbaar zijn; er wordt niets verstuurd. De volgende pagina toont wat afgesloten "
        "wordt en vraagt om een reden."
    ),
    "message.discard.button": "Afsluiten…",
    "message.resend.delivered": (
        "{destination} heeft dit bericht met ACK {code} bevestigd op {when}: het is "
        "aangekomen. Herzenden verstuurt het nog een keer; kunnen ze het niet vinden, geef ze "
        "dan eerst het berichtnummer (MSH-10) {control_id}."
    ),
    "message.resend.discarded": (
        "{actor} heeft dit bericht afgesloten op {when}: herzenden verstuurt het alsnog."
    ),
    "message.resend.discarded_why": "De reden: {reason}",
    "batch.not_by_bsn": (
        "Herzenden wat een zoekopdracht op BSN vindt, kan hier niet: open een bericht om het "
        "te herzenden, of zoek op het ZD-nummer om te herzenden wat die verwijzing is geworden."
    ),
    "dead.cancel_to_message": "Annuleren, terug naar het bericht",
    "dead.back_to_message": "Terug naar het bericht",
}
