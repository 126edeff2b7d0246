"""Sentences of the messages page about where a patient's referral went when a search by their
BSN finds no messages (``message_reads.elsewhere``): refused by intake, or arrived for a
provider no destination serves; and, by BSN or ZD number, the messages a search's other terms
left out. Never with the BSN: the page has only its keyed hash. Merged into
``integrator.console.i18n``'s catalogue."""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    "messages.bsn_rejected": (
        "No messages for this BSN; {count} rejected {count|input|inputs} of this patient: "
        "intake refused {count|it|them}. Search Rejected input by this BSN to see "
        "{count|it|them}."
    ),
    "messages.bsn_unrouted": (
        "No messages for this BSN, but {count} {count|event|events} of this patient arrived: no "
        "destination serves {count|its|their} provider, so nothing was sent (unrouted)."
    ),
    "messages.bsn_unrouted_show": "Show this patient's unrouted events",
    "messages.outside_zd": (
        "No messages with these terms, but {count} {count|message|messages} with this ZD number "
        "{count|falls|fall} outside the other terms."
    ),
    "messages.outside_zd_link": "Search by ZD number {zd_number} alone",
    "messages.also_rejected_zd": (
        "Besides these, intake refused {count} {count|input|inputs} with this ZD number."
    ),
    "messages.also_unrouted_zd": (
        "Besides these, {count} {count|event|events} with this ZD number arrived for a provider "
        "no destination serves, so nothing was sent (unrouted)."
    ),
    "messages.also_rejected_bsn": (
        "Besides these, intake refused {count} {count|input|inputs} of this patient. Search "
        "Rejected input by this BSN to see {count|it|them}."
    ),
    "messages.also_unrouted_bsn": (
        "Besides these, {count} {count|event|events} of this patient arrived for a provider no "
        "destination serves, so nothing was sent (unrouted)."
    ),
    "messages.outside_bsn": (
        "No messages with these terms, but {count} {count|message|messages} of this patient "
        "{count|falls|fall} outside the other terms. Search by the BSN alone to see "
        "{count|it|them}."
    ),
    "messages.bsn_unseen": (
        "Expected something? Input of this patient may have been refused at intake, or may "
        "wait because no destination serves its provider yet. Such input lies in no cluster: "
        "people who may read patient data in all clusters can look it up (Rejected input, "
        "Unrouted events)."
    ),
}

NL: Final[dict[str, str]] = {
    "messages.bsn_rejected": (
        "Geen berichten voor dit BSN; {count} geweigerde invoer van deze patiënt: de intake "
        "weigerde die. Zoek bij Geweigerde invoer op dit BSN om die te zien."
    ),
    "messages.bsn_unrouted": (
        "Geen berichten voor dit BSN, maar er {count|kwam|kwamen} {count} "
        "{count|gebeurtenis|gebeurtenissen} van deze patiënt binnen: geen bestemming bedient de "
        "zorgaanbieder, dus er is niets verstuurd (niet gerouteerd)."
    ),
    "messages.bsn_unrouted_show": "Toon de gebeurtenissen zonder bestemming van deze patiënt",
    "messages.outside_zd": (
        "Geen berichten met deze zoektermen, maar {count} {count|bericht|berichten} met dit "
        "ZD-nummer {count|valt|vallen} buiten de andere zoektermen."
    ),
    "messages.outside_zd_link": "Zoek alleen op ZD-nummer {zd_number}",
    "messages.also_rejected_zd": ("Daarnaast weigerde de intake {count} invoer met dit ZD-nummer."),
    "messages.also_unrouted_zd": (
        "Daarnaast {count|kwam|kwamen} er {count} {count|gebeurtenis|gebeurtenissen} met dit "
        "ZD-nummer binnen voor een zorgaanbieder die geen bestemming bedient, dus er is niets "
        "verstuurd (niet gerouteerd)."
    ),
    "messages.also_rejected_bsn": (
        "Daarnaast weigerde de intake {count} invoer van deze patiënt. Zoek bij Geweigerde "
        "invoer op dit BSN om die te zien."
    ),
    "messages.also_unrouted_bsn": (
        "Daarnaast {count|kwam|kwamen} er {count} {count|gebeurtenis|gebeurtenissen} van deze "
        "patiënt binnen voor een zorgaanbieder die geen bestemming bedient, dus er is niets "
        "verstuurd (niet gerouteerd)."
    ),
    "messages.outside_bsn": (
        "Geen berichten met deze zoektermen, maar {count} {count|bericht|berichten} van deze "
        "patiënt {count|valt|vallen} buiten de andere zoektermen. Zoek alleen op het BSN om "
        "{count|het|ze} te zien."
    ),
    "messages.bsn_unseen": (
        "Iets verwacht? Invoer van deze patiënt kan bij ontvangst geweigerd zijn, of wachten "
        "omdat nog geen bestemming de zorgaanbieder bedient. Zulke invoer hoort bij geen "
        "cluster: mensen die patiëntgegevens in alle clusters mogen inzien kunnen die opzoeken "
        "(Geweigerde invoer, Gebeurtenissen zonder bestemming)."
    ),
}
