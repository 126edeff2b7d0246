"""Sentences about why a person looks at patient data in their console session (``pages.why``,
the line under the page header); merged into ``integrator.console.i18n``'s catalogue.

A preset is recorded in the words the person saw, with what they typed after it: the audit
trail keeps what was stated, in the language it was stated in."""

from __future__ import annotations

from typing import Final

PRESETS: Final = ("referrer", "failure", "hospital", "report")
"""The reasons offered to choose from, by key (``why.preset.<key>``), in the order shown: the
questions Dutch support staff answer most."""

EN: Final[dict[str, str]] = {
    "why.title": "Why you look at patient data",
    # The line under the header of every page of a signed-in person.
    "why.header": "Reason for this session:",
    "why.header_none": "No reason given for this session.",
    "why.give": "Give a reason",
    "why.change": "Change the reason",
    "why.intro": (
        "The audit trail records who looked at patient data, when, from where, what and why: "
        "each message or event opened, each search by BSN, each export. Say here why you do so "
        "in this session; it is recorded with each of them until you change or clear it, or "
        "sign out."
    ),
    # INTEGRATOR_REASON_REQUIRED: the page the person opened was not shown without one.
    "why.needed": (
        "This engine asks why before it shows patient data or makes an export: give a reason "
        "for this session, and you go back to the page you were on (a search: make it again)."
    ),
    # A page that refreshes itself found no reason where one is required: it stops.
    "why.stopped": (
        "This page stopped refreshing: this engine asks why before it shows patient data, and "
        "your session gives no reason now."
    ),
    "refusal.why.too_long_with_choice": (
        "with the choice above in front, the reason is longer than a reason may be: at most "
        "{room} characters of your own words"
    ),
    "why.now": "Now:",
    "why.now_none": "No reason given yet: your views and exports are recorded without one.",
    "why.choose": "What is it about?",
    "why.preset.referrer": "A question from the referrer (GP) about a referral",
    "why.preset.failure": "Investigating a failure or error",
    "why.preset.hospital": "A question from the hospital",
    "why.preset.report": "Making a report or an overview (an export)",
    "why.preset.own": "Something else: say it below",
    "why.details": "In your own words (with a choice above: added after it)",
    "why.save": "Save the reason",
    "why.clear": "Clear the reason",
    "why.back": "Back without changing it",
}

NL: Final[dict[str, str]] = {
    "why.title": "Waarom je patiëntgegevens bekijkt",
    "why.header": "Reden voor deze sessie:",
    "why.header_none": "Geen reden opgegeven voor deze sessie.",
    "why.give": "Reden opgeven",
    "why.change": "Reden wijzigen",
    "why.intro": (
        "De audittrail legt vast wie patiëntgegevens bekeek, wanneer, vanaf waar, wat en "
        "waarom: elk geopend bericht of elke geopende gebeurtenis, elke zoekopdracht op BSN, "
        "elke export. Zeg hier waarom je dat in deze sessie doet; het wordt bij elk daarvan "
        "vastgelegd tot je het wijzigt of wist, of uitlogt."
    ),
    "why.needed": (
        "Deze engine vraagt waarom voordat hij patiëntgegevens toont of een export maakt: geef "
        "een reden voor deze sessie, dan ga je terug naar de pagina waar je was (een zoekopdracht: "
        "doe die opnieuw)."
    ),
    "why.stopped": (
        "Deze pagina ververst niet meer: deze engine vraagt waarom voordat hij patiëntgegevens "
        "toont, en je sessie geeft nu geen reden."
    ),
    "refusal.why.too_long_with_choice": (
        "met de keuze hierboven ervoor wordt de reden langer dan een reden mag zijn: hoogstens "
        "{room} tekens in je eigen woorden"
    ),
    "why.now": "Nu:",
    "why.now_none": (
        "Nog geen reden opgegeven: wat je bekijkt en exporteert wordt zonder reden vastgelegd."
    ),
    "why.choose": "Waar gaat het om?",
    "why.preset.referrer": "Vraag van de verwijzer (huisarts) over een verwijzing",
    "why.preset.failure": "Storing of foutmelding onderzoeken",
    "why.preset.hospital": "Vraag van het ziekenhuis",
    "why.preset.report": "Een rapportage of overzicht maken (export)",
    "why.preset.own": "Iets anders: zeg het hieronder",
    "why.details": "In je eigen woorden (bij een keuze hierboven: erachter gezet)",
    "why.save": "Reden opslaan",
    "why.clear": "Reden wissen",
    "why.back": "Terug zonder te wijzigen",
}
