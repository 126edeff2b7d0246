"""Who sent an event, on the events pages: the event's "sent by" and the search by it, with
which an administrator finds everything one intake token brought in (``integrator.callers``).
Merged into ``integrator.console.i18n``'s catalogue."""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    # The events search's field and an event's fact: token:NAME, local:USER, amqp or demo.
    "events.caller": "Sent by",
    "refusal.search.caller": (
        "not a sender: the engine names them token:NAME (an API token), local:USER (its "
        "command line), amqp or demo"
    ),
    "refusal.search.caller_bare": (
        "not a sender: for an API token, put token: before its name (token:NAME); the others "
        "are local:USER, amqp and demo"
    ),
}

NL: Final[dict[str, str]] = {
    "events.caller": "Verstuurd door",
    "refusal.search.caller": (
        "geen afzender: de engine noemt ze token:NAAM (een API-token), local:GEBRUIKER (de "
        "opdrachtregel), amqp of demo"
    ),
    "refusal.search.caller_bare": (
        "geen afzender: zet voor een API-token token: vóór de naam (token:NAAM); de andere "
        "zijn local:GEBRUIKER, amqp en demo"
    ),
}
