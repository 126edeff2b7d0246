"""Sentences a support employee's walk through the Dutch console asked for: a dead letter that
was resent says as what and how that went (as ``integrator deadletter list`` says it), a rule's
"or" in the person's language, the HL7 section of a message's page said to be the message as
it is, not a resend's, and the way from a mistyped message id to the message search. Merged
into ``integrator.console.i18n``'s catalogue."""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    # Beside a dead letter's state on the dead letters page, before its newest resend's short
    # id (a link) and that resend's status: "open; last resent as 4343f9c8 (dead)".
    "dead.resent_as": "last resent as",
    "dead.resend_of": "a resend of",
    "error.forbidden.needs": (
        "This page needs the permission {permission}, which these roles give: {roles}. An "
        "administrator grants roles on the People page, per cluster."
    ),
    # Between the last two values a rule allows ("'routine' or 'urgent'"), as pydantic writes
    # the English; the console writes it again in the person's language (console.rule_text).
    "rule.values_or": "or",
    # The HL7 section of a message's page: the message itself, never what a resend would send.
    "message.hl7_sent": "Previously sent message (HL7)",
    "message.hl7_unsent": "HL7 message (not sent yet)",
    "message.hl7_this": (
        "This message as it was made, with its own MSH-10: not what a resend would send "
        "(Resend shows that)."
    ),
    # A message id that names none: on to the message search, for who may search messages.
    "message.lookup.search": "Look it up in Messages",
}

NL: Final[dict[str, str]] = {
    "dead.resent_as": "laatst herzonden als",
    "dead.resend_of": "herzending van",
    "error.forbidden.needs": (
        "Deze pagina vraagt het recht {permission}, dat deze rollen geven: {roles}. Een "
        "beheerder kent rollen toe op de pagina Personen, per cluster."
    ),
    "rule.values_or": "of",
    "message.hl7_sent": "Eerder verstuurd bericht (HL7)",
    "message.hl7_unsent": "HL7-bericht (nog niet verstuurd)",
    "message.hl7_this": (
        "Dit bericht zoals het gemaakt is, met zijn eigen MSH-10: niet wat een herzending zou "
        "versturen (dat toont Herzenden)."
    ),
    "message.lookup.search": "Zoek het op in Berichten",
}
