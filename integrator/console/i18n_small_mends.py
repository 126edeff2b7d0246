"""Sentences of small mends found in walkthroughs: a message search that finds nothing says so
in words that fit the search, and what to try next when nothing else on the page says where the
referral went (``pages.messages``). Merged into ``integrator.console.i18n``'s catalogue."""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    "messages.none_match": "No messages match these terms.",
    "messages.none_typed": "Check the ZD number or the MSH-10 as you typed it.",
    "messages.none_widen": (
        "Every term narrows the search: leave one out, or widen the period (From, Until), to "
        "find more."
    ),
    "messages.none_clusters": (
        "The search looks only at messages to the destinations of your clusters."
    ),
}

NL: Final[dict[str, str]] = {
    "messages.none_match": "Geen berichten gevonden met deze zoektermen.",
    "messages.none_typed": (
        "Controleer het ZD-nummer of het berichtnummer (MSH-10) zoals je het invulde."
    ),
    "messages.none_widen": (
        "Elke zoekterm beperkt de zoekopdracht: laat er een weg, of maak de periode ruimer "
        "(Vanaf, Tot), om meer te vinden."
    ),
    "messages.none_clusters": (
        "De zoekopdracht kijkt alleen naar berichten aan de bestemmingen van jouw clusters."
    ),
}
