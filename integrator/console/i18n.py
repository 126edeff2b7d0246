"""The console's words in Dutch and English: one catalogue, so no page carries its own strings.

Each person chooses a language with the switch in the page header; the choice is a cookie, so
it holds before logging in too. Without one, the browser's ``Accept-Language`` decides, and
Dutch when it names neither. The Dutch words are the ones support staff use on the phone:
verwijzing, aanvraag, herzenden, bestemming.

A key missing in one language falls back to English and then to the key itself, so a page added
in a hurry still renders; ``tests/console/test_i18n.py`` fails when the two catalogues differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from integrator.console import (
    i18n_audit_exports,
    i18n_callers,
    i18n_elsewhere,
    i18n_focus,
    i18n_ops,
    i18n_pages,
    i18n_refusals,
    i18n_small_mends,
    i18n_support_walk,
    i18n_texts,
    i18n_tokens_made,
    i18n_warnings,
    i18n_why,
)

LANGUAGES: Final = ("nl", "en")
DEFAULT: Final = "nl"
COOKIE: Final = "integrator-lang"

EN: Final[dict[str, str]] = {
    "app.title": "Integrator",
    "app.refused": "Refused",
    "nav.dashboard": "Dashboard",
    "nav.messages": "Messages",
    "nav.skip": "Skip to content",
    "nav.main": "Main navigation",
    "lang.switch": "Language",
    "lang.nl": "Nederlands",
    "lang.en": "English",
    "lang.choose": "Switch",
    # Instead of the switch on a page that answers a form: switching would lose the page.
    "lang.later": "Language: switch it on the next page (switching here would lose this page)",
    "session.signed_in_as": "Signed in as {who}",
    "session.logout": "Sign out",
    # A page that refreshes itself found the session ended: it stops, and leaves the form be.
    "session.ended": (
        "Your session has ended; sign in again. What you typed is still here: copy it first if "
        "you need it, as signing in leaves this page."
    ),
    "session.sign_in_again": "Sign in again",
    # Shown two minutes before the session ends; {left} is a countdown (m:ss).
    "session.ends_idle": (
        "You have not done anything on this console for a while: your session ends in {left}."
    ),
    "session.ends_lifetime": (
        "Your session ends in {left}: a session lasts at most 12 hours. Save what you are "
        "doing and sign in again."
    ),
    "session.keep": "Stay signed in",
    "session.keep_key": "(Alt+K, from anywhere on the page)",
    "login.title": "Sign in",
    "login.email": "E-mail address",
    "login.password": "Password",
    "login.code": "Code from your authenticator app (or a recovery code)",
    "login.submit": "Sign in",
    "login.refused": (
        "Signing in did not work: the e-mail address, password or code is wrong, or the account "
        "is locked for a while after too many attempts."
    ),
    "login.invitation": "Have an invitation? Open the link from the e-mail.",
    # Too many failed attempts from this address (docs/access.md): nothing was checked.
    "login.held": (
        "Too many failed attempts to sign in have come from your network address. Nothing "
        "was checked: wait {minutes} {minutes|minute|minutes} and try again. If you did not "
        "make these attempts, tell your administrator."
    ),
    "login.interrupted": (
        "Your session ended; what you were doing was not done (nothing was sent). Sign in to go "
        "back to it."
    ),
    "invite.title": "Set up your account",  # an invitation, or a second factor reset
    "invite.paste": "Invitation code (the part of the link after #)",
    "invite.open": "Continue",
    "invite.invalid": (
        "This invitation link is no longer valid. Ask your administrator for a new one."
    ),
    "invite.totp_intro": (
        "Add this account to your authenticator app: scan the QR code, or type its secret."
    ),
    # A new secret each time the link opens (the one shown before may never have been scanned):
    # someone who scanned, then reloaded, would hold an entry whose codes never work.
    "invite.totp_new": (
        "This QR code and secret are new each time this page opens: add the ones on this page, "
        "and remove any earlier entry for this account from your app (its codes will not work)."
    ),
    "invite.qr": "QR code of the otpauth address, for the authenticator app",
    "invite.totp_secret": "Secret",
    "invite.totp_uri": "otpauth address",
    "invite.password": "New password (at least 12 characters)",
    "invite.password_again": "New password again",
    "invite.code": "Code your authenticator app shows now",
    "invite.finish": "Activate account",
    "invite.done": "Your account is active",
    "invite.recovery_intro": (
        "These recovery codes are shown this once. Keep them somewhere safe: each one signs you "
        "in once when your phone is not at hand."
    ),
    "invite.to_login": "Go to sign in",
    "error.forbidden.title": "Not allowed",
    "error.forbidden": "Your roles do not allow this. Ask an administrator if you need it.",
    "error.not_found.title": "Not found",
    "error.not_found": "There is nothing here, or it lies outside your clusters.",
    "error.refused.title": "Request refused",
    "error.refused": (
        "The request was refused, and nothing was done: it did not come from this console's "
        "own pages, or it came from a page whose session has ended since (signed out in "
        "another tab, say). Reload the page, sign in if asked, and try again."
    ),
    "error.bad_input.title": "Cannot do that",
    "error.bsn_in_address": (
        "bsn: a BSN goes in the search form, never in a web address, where logs and the "
        "browser's history keep it. Nothing was searched or exported: search by BSN with the "
        "form (its pages and its export then name the search, not the BSN)."
    ),
    "error.search_gone.title": "Search no longer available",
    "error.search_gone": (
        "This search cannot be shown: it has expired (a search is kept for 15 minutes), or "
        "it was made by someone else. Nothing is shown; search again."
    ),
    "error.search_again": "Search again",
    "error.unavailable.title": "Temporarily unavailable",
    "error.store_unavailable": "The store cannot be reached just now. Try again in a moment.",
    "messages.by_bsn": (
        "Searched by BSN. The BSN is in no address: the pages and the export of this search "
        "name it by a code that only works for you, for {minutes} minutes."
    ),
    "messages.resend_of": "Resend of",
    "message.lookup.title": "Which message?",
    "message.lookup.ambiguous": (
        "Several messages have an id starting like this. Choose one, or give more characters."
    ),
    "message.lookup.more": "There are more; give more characters to narrow it down.",
    "message.lookup.unknown": "No message you may see has this id, or an id starting like it.",
    "message.lookup.short": "Give at least {min} characters of a message id.",
    "message.lookup.event": "This is an event's id, not a message's.",
    "message.lookup.the_event": "The event",
    "message.lookup.its_messages": "Its messages",
    "message.lookup.rejected": "This is the id of rejected input, not of a message.",
    "message.lookup.the_rejected": "The rejected input",
    "message.lookup.control_id": "This is an MSH-10, not a message's id.",
    "message.lookup.the_message": "The message sent with it",
    "message.lookup.with_control_id": "Every message with this MSH-10",
    "error.back": "To your start page: {page}",
    "error.sign_in": "To the sign-in page",
    "dashboard.title": "Dashboard",
    "dashboard.empty": "No destinations you may see.",
    "dashboard.unrouted": "Events no destination serves: {count}",
    "dashboard.rejected": "Rejected input, last 24 h: {count}",
    "dashboard.state": "State",
    "dashboard.state.active": "active",
    "dashboard.state.paused": "paused",
    "dashboard.state.broken": "broken",
    "dashboard.queue": "Waiting",
    "dashboard.oldest": "Oldest waiting",
    "dashboard.last_ack": "Last ACK",
    "dashboard.last_attempt": "Last attempt",
    "dashboard.last_attempt_retrying": "{count} retrying, the oldest since {since}",
    "dashboard.delivered_hour": "Delivered (last hour)",
    "dashboard.failed_hour": "Dead letters made (last hour)",
    "dashboard.dead": "Dead letters",
    "dashboard.held": "Held",
    "dashboard.deprecated": "{version} ({event_type}) is deprecated: {days} days to sunset",
    "dashboard.retired": "{version} ({event_type}) is retired",
    "dashboard.reason": "Reason",
    "dashboard.pause": "Pause",
    "dashboard.resume": "Resume",
    # Each tile's reason and button named by its destination: a page of tiles has many.
    "dashboard.reason_pause": "Reason for pausing {name}",
    "dashboard.reason_resume": "Reason for resuming {name}",
    "dashboard.pause_named": "Pause {name}",
    "dashboard.resume_named": "Resume {name}",
    # A tile's figures that link, named by what they count (two tiles may show the same count).
    "dashboard.queue_named": "{count} waiting for {name}",
    "dashboard.dead_named": "{count} {count|dead letter|dead letters} of {name}",
    "dashboard.held_named": "{count} held for {name}",
    "dashboard.updated": "Refreshes by itself; last at {time}",
    "dashboard.done.pause": "{name} paused, as revision {revision}.",
    "dashboard.done.resume": "{name} resumed, as revision {revision}.",
    "dashboard.done.pause_unchanged": "{name} was paused already: nothing changed.",
    "dashboard.done.resume_unchanged": "{name} was active already: nothing changed.",
    "messages.title": "Messages",
    "messages.search": "Search",
    "messages.zd_number": "ZD number",
    "messages.control_id": "MSH-10 (the message's control id)",
    "messages.bsn": "BSN",
    "messages.destination": "Destination",
    "messages.status": "Status",
    "messages.version": "Version",
    "messages.event_type": "Event type",
    "messages.since": "From",
    "messages.until": "Until",
    "messages.any": "any",
    "messages.none": "No messages found.",
    "messages.rejected_one": (
        "No messages; 1 rejected input with this ZD number: intake refused it."
    ),
    "messages.rejected_many": (
        "No messages; {count} rejected inputs with this ZD number: intake refused them."
    ),
    "messages.rejected_link": "Show the rejected input with ZD number {zd_number}",
    "messages.unrouted_zd": (
        "No messages, but {count} {count|event|events} with this ZD number arrived: no destination "
        "serves their provider, so nothing was sent (unrouted)."
    ),
    "messages.unrouted_link": "Show the unrouted events with ZD number {zd_number}",
    "messages.created": "Created",
    "messages.attempts": "Attempts",
    "messages.error": "Last error",
    "messages.next": "Next page",
    "messages.previous": "Previous page",
    "messages.save_title": "Save this search",
    "messages.save_name": "Name",
    "messages.save": "Save",
    "messages.save_rules": "A name of at most {chars} characters; at most {most} saved searches.",
    "messages.bsn_not_saved": "The BSN is never saved: a saved search holds the other terms only.",
    "messages.saved_title": "Your saved searches",
    "messages.saved_none": "You have no saved searches.",
    "messages.delete": "Delete",
    "messages.refused.bsn": "a BSN is patient data and is never saved",
    "messages.refused.name_empty": "give the saved search a name",
    "messages.refused.too_long": "at most {chars} characters",
    "messages.refused.not_a_term": "not a term a search can save; {terms}",
    "messages.refused.no_terms": "give at least one search term to save",
    "messages.refused.name_taken": "you have a saved search by that name already",
    "messages.refused.too_many": (
        "at most {most} saved searches per person; delete one to save another"
    ),
    "messages.delete_label": "Delete saved search {name}",
    "messages.open": "Open message {id} of {when}",
    "messages.csv": "Export as CSV",
    "messages.csv_note": (
        "Up to {limit} messages, newest first; identifiers only, no BSN. "
        "The export is recorded in the audit trail."
    ),
    "status.queued": "queued",
    "status.sending": "sending",
    "status.delivered": "delivered",
    "status.retrying": "retrying",
    "status.waiting": "waiting (queued or retrying)",
    "status.held": "held",
    "status.dead": "dead",
    "status.cancelled": "cancelled",
    "event.referral": "referral",
    "event.diagnostic_request": "diagnostic request",
    "message.title": "Message {id}",
    "message.summary": "Summary",
    "message.event": "Event",
    "message.patient": "Patient",
    "message.bsn": "BSN",
    "message.provider": "Provider",
    "message.received": "Received",
    "message.released": "Released from held",
    "message.timeline": "Timeline",
    "message.timeline.intake": "Event received from {source}",
    "message.timeline.mapped": "Mapped as {version} ({message_type}), MSH-10 {control_id}",
    "message.timeline.held": "Held, not mapped; MSH-10 {control_id} reserved",
    "message.timeline.released": "Released from held and mapped as {version} ({message_type})",
    "message.timeline.attempt": "Attempt {number}: {outcome}",
    "message.timeline.resent_from": "Resent from {original} by {actor}: {reason}",
    "message.fields": "Segments and fields",
    "message.field": "Field",
    "message.field_name": "Name",
    "message.value": "Value",
    "message.field_reads": "Reads:",
    "message.raw": "Raw text",
    "message.ack": "ACK",
    "message.ack_cut": (
        "The first {shown} characters of the ACK are shown; {more} more are not. The API gives "
        "it whole (GET /api/v1/messages/{id})."
    ),
    "message.ack_withheld": (
        "An ACK was received; its text is only shown to who may read patient data."
    ),
    # A pruned message: retention emptied the ACK's bytes and kept its code.
    "message.ack_pruned": "ACK {code} was received; its text went with retention.",
    "message.no_ack": "No ACK yet.",
    "message.warnings": "Warnings",
    "message.resent_from": "This is a resend of",
    "message.origin_outside": "a message outside your clusters",
    "message.resends": "Resends of this message",
    "message.try_now": "Try now",
    "message.try_now.hint": (
        "It waits for its next attempt, at {when}. When the receiver is back, have it attempted "
        "now: the same message, with the same MSH-10."
    ),
    "message.try_now.reason": "Reason (optional)",
    "message.try_now.button": "Try now",
    "message.try_now.done": (
        "Its next attempt was started when Try now was pressed; its status shows the outcome."
    ),
    "message.try_now.already": (
        "Its next attempt is being made, or was made already; its status shows how it goes."
    ),
    "message.try_now.due": (
        "Its next attempt is due now: the engine is making it, or will as soon as it can (a "
        "paused destination: once it is resumed)."
    ),
    "message.resend": "Resend",
    "message.resend.reason": "Reason",
    "message.resend.mode": "Mode",
    "message.resend.mode.original": "the same bytes again",
    "message.resend.mode.remap": "map the event again",
    "message.resend.to": "Other destination (optional)",
    "message.resend.preview": "Show what would be sent",
    "message.resend.confirm": "Resend now",
    "message.resend.would_skip": "Would not be resent: {note}",
    "message.resend.same": "What would be sent is the same as what was sent.",
    "message.resend.made_when_sent": "new, set when it is resent",
    "message.resend.diff": "Differences between what was sent and what would be sent",
    "message.resend.before": "Sent",
    "message.resend.after": "Would send",
    "message.resend.earlier": (
        "This message was resent already, {count} {count|time|times} (newest first): look at "
        "{count|that resend|those resends} first; Resend now makes one more."
    ),
    "message.resend.meanwhile": (
        "Nothing was sent: this message was resent after you asked what would be sent (see "
        "below). Resend now again only if one more resend is needed."
    ),
    "message.resend.back": "Back to the message",
    "message.resend.mode.auto": "automatic",
    "message.resend.mode.hint": (
        "Automatic: the same bytes to its own destination, mapped again for another."
    ),
    "resend_mode.original": "same bytes",
    "resend_mode.remap": "mapped again",
    "attempt.delivered": "delivered",
    "attempt.retry": "failed, will retry",
    "attempt.deadletter": "failed, gave up (dead letter)",
    "attempt.failed": "failed",
    "reason.hint": (
        "No patient data: reasons are shown in the audit trail and its CSV export, and in a "
        "destination's history, to everyone who may read those."
    ),
    "once.again.resend": "This was already done at {at} by {by}; nothing was sent again.",
    "once.again.discard": "This was already done at {at} by {by}; nothing was changed again.",
    "once.pending": (
        "This confirmation was posted at {at} by {by} and is still being carried out; nothing "
        "was sent again. Reload this page in a moment to see what it did."
    ),
    "once.failed": (
        "This confirmation was posted at {at} by {by}, but the engine failed while carrying it "
        "out: some messages may have been sent. Look them up before you resend again."
    ),
    # Events: the search (pages/events.py) and one event (pages/event.py)
    "nav.events": "Events",
    "events.title": "Events",
    "events.intro": (
        "Events as they arrived from the GPs' systems, newest first, with the messages made "
        "of each. An event with none is unrouted: no destination served its provider."
    ),
    "events.bsn": "BSN",
    "events.zd_number": "ZD number",
    "events.provider": "Provider",
    "events.event_type": "Event type",
    "events.since": "From",
    "events.until": "Until",
    "events.unrouted_only": "Unrouted only",
    "events.search": "Search",
    "events.none": "No events found.",
    # Which of how many a search shows ("N of M", as messages.total); past the count's bound
    # (integrator.listing_totals) it says "more than".
    "events.total": "{first}–{last} of {total} {total|event|events} found",
    "events.total_beyond": "{first}–{last} of more than {total} events found",
    "events.provider_unknown": (
        "No events found of that provider, and no destination in your clusters serves it "
        "(a typo?). Providers served in your clusters: {served}."
    ),
    "events.provider_none_served": "none",
    "events.received": "Received",
    "events.event": "Event",
    "events.action": "Action",
    "events.action.new": "new",
    "events.action.cancel": "cancel",
    "events.messages": "Messages",
    "events.unrouted": "unrouted",
    "event_page.title": "Event {id}",
    "event_page.source": "Source",
    "event_page.pruned": "Content pruned on",
    "event_page.zd_warnings": "Warnings about its ZD number",
    "event_page.patient_data": "Patient",
    "event_page.patient_name": "Name",
    "event_page.messages": "Messages made of it",
    "event_page.unrouted": (
        "Unrouted: no message was made of it, as no destination served its provider when it "
        "arrived."
    ),
    "event_page.never_routed": (
        "Never routed: no destination served its provider within its retention period, and "
        "its content was pruned. Only the platform sending the event again, under a new event "
        "id, brings it back."
    ),
    "event_page.serving": "Serving its provider now: {destinations}.",
    "event_page.serving_none": "No destination serves provider {provider} now.",
    "event_page.routings": "Routed later",
    "event_page.routed": "to {destinations} by {actor}: {reason}",
    "event_page.route": "Route this event",
    **i18n_ops.EN,
    **i18n_pages.EN,
    **i18n_refusals.EN,
    **i18n_warnings.EN,
    **i18n_texts.EN,
    **i18n_why.EN,
    **i18n_focus.EN,
    **i18n_elsewhere.EN,
    **i18n_support_walk.EN,
    **i18n_callers.EN,
    **i18n_audit_exports.EN,
    **i18n_tokens_made.EN,
    **i18n_small_mends.EN,
}

NL: Final[dict[str, str]] = {
    "app.title": "Integrator",
    "app.refused": "Geweigerd",
    "nav.dashboard": "Overzicht",
    "nav.messages": "Berichten",
    "nav.skip": "Naar de inhoud",
    "nav.main": "Hoofdmenu",
    "lang.switch": "Taal",
    "lang.nl": "Nederlands",
    "lang.en": "English",
    "lang.choose": "Wijzigen",
    "lang.later": (
        "Taal: wissel die op de volgende pagina (hier wisselen zou deze pagina kwijtraken)"
    ),
    "session.signed_in_as": "Ingelogd als {who}",
    "session.logout": "Uitloggen",
    "session.ended": (
        "Je sessie is afgelopen; log opnieuw in. Wat je typte staat er nog: kopieer het eerst "
        "als je het nodig hebt, want bij het inloggen verlaat je deze pagina."
    ),
    "session.sign_in_again": "Opnieuw inloggen",
    "session.ends_idle": (
        "Je hebt een tijd niets gedaan in deze console: je sessie eindigt over {left}."
    ),
    "session.ends_lifetime": (
        "Je sessie eindigt over {left}: een sessie duurt hoogstens 12 uur. Bewaar wat je aan "
        "het doen bent en log opnieuw in."
    ),
    "session.keep": "Ingelogd blijven",
    "session.keep_key": "(Alt+K, waar je ook bent op de pagina)",
    "login.title": "Inloggen",
    "login.email": "E-mailadres",
    "login.password": "Wachtwoord",
    "login.code": "Code uit je authenticator-app (of een herstelcode)",
    "login.submit": "Inloggen",
    "login.refused": (
        "Inloggen is niet gelukt: het e-mailadres, wachtwoord of de code klopt niet, of het "
        "account is na te veel pogingen even geblokkeerd."
    ),
    "login.invitation": "Een uitnodiging gekregen? Open de link uit de e-mail.",
    "login.held": (
        "Er zijn vanaf je netwerkadres te veel mislukte pogingen gedaan om in te loggen. Er is "
        "niets gecontroleerd: wacht {minutes} {minutes|minuut|minuten} en probeer het "
        "opnieuw. Heb je die pogingen niet gedaan, meld het dan aan je beheerder."
    ),
    "login.interrupted": (
        "Je sessie was afgelopen; wat je aan het doen was, is niet gedaan (er is niets "
        "verstuurd). Log in om ernaar terug te gaan."
    ),
    "invite.title": "Je account instellen",
    "invite.paste": "Uitnodigingscode (het deel van de link na #)",
    "invite.open": "Verder",
    "invite.invalid": (
        "Deze uitnodigingslink is niet meer geldig. Vraag je beheerder om een nieuwe."
    ),
    "invite.totp_intro": (
        "Voeg dit account toe aan je authenticator-app: scan de QR-code, of typ het geheim over."
    ),
    "invite.totp_new": (
        "Deze QR-code en dit geheim zijn nieuw elke keer dat je deze pagina opent: voeg die van "
        "deze pagina toe, en verwijder eerdere vermeldingen voor dit account uit je app (de "
        "codes daarvan werken niet)."
    ),
    "invite.qr": "QR-code van het otpauth-adres, voor de authenticator-app",
    "invite.totp_secret": "Geheim",
    "invite.totp_uri": "otpauth-adres",
    "invite.password": "Nieuw wachtwoord (minstens 12 tekens)",
    "invite.password_again": "Nieuw wachtwoord nogmaals",
    "invite.code": "Code die je authenticator-app nu toont",
    "invite.finish": "Account activeren",
    "invite.done": "Je account is actief",
    "invite.recovery_intro": (
        "Deze herstelcodes worden alleen nu getoond. Bewaar ze veilig: met elke code log je één "
        "keer in als je telefoon niet bij de hand is."
    ),
    "invite.to_login": "Naar inloggen",
    "error.forbidden.title": "Niet toegestaan",
    "error.forbidden": "Je rollen staan dit niet toe. Vraag een beheerder als je het nodig hebt.",
    "error.not_found.title": "Niet gevonden",
    "error.not_found": "Hier is niets, of het ligt buiten je clusters.",
    "error.refused.title": "Verzoek geweigerd",
    "error.refused": (
        "Het verzoek is geweigerd en er is niets gedaan: het kwam niet van de eigen pagina's "
        "van deze console, of van een pagina waarvan de sessie intussen is beëindigd "
        "(bijvoorbeeld uitgelogd in een ander tabblad). Laad de pagina opnieuw, log in als "
        "daarom gevraagd wordt, en probeer het nog eens."
    ),
    "error.bad_input.title": "Dat kan niet",
    "error.bsn_in_address": (
        "bsn: een BSN hoort in het zoekformulier, nooit in een webadres, waar logs en de "
        "browsergeschiedenis het bewaren. Er is niets gezocht of geëxporteerd: zoek op BSN met "
        "het formulier (de pagina's en de export ervan noemen dan de zoekopdracht, niet het BSN)."
    ),
    "error.search_gone.title": "Zoekopdracht niet meer beschikbaar",
    "error.search_gone": (
        "Deze zoekopdracht kan niet getoond worden: hij is verlopen (een zoekopdracht blijft "
        "15 minuten bewaard) of iemand anders heeft hem gedaan. Er wordt niets getoond; zoek "
        "opnieuw."
    ),
    "error.search_again": "Opnieuw zoeken",
    "error.unavailable.title": "Tijdelijk niet beschikbaar",
    "error.store_unavailable": (
        "De opslag is op dit moment niet bereikbaar. Probeer het over een ogenblik opnieuw."
    ),
    "messages.by_bsn": (
        "Gezocht op BSN. Het BSN staat in geen enkel adres: de pagina's en de export van deze "
        "zoekopdracht gebruiken een code die alleen voor jou werkt, {minutes} minuten lang."
    ),
    "messages.resend_of": "Herzending van",
    "message.lookup.title": "Welk bericht?",
    "message.lookup.ambiguous": (
        "Meerdere berichten hebben een id dat zo begint. Kies er een, of geef meer tekens."
    ),
    "message.lookup.more": "Er zijn er meer; geef meer tekens om het te beperken.",
    "message.lookup.unknown": "Geen bericht dat je mag zien heeft dit id, of een id dat zo begint.",
    "message.lookup.short": "Geef minstens {min} tekens van een bericht-id.",
    "message.lookup.event": "Dit is het id van een gebeurtenis, niet van een bericht.",
    "message.lookup.the_event": "De gebeurtenis",
    "message.lookup.its_messages": "Berichten van deze gebeurtenis",
    "message.lookup.rejected": "Dit is het id van geweigerde invoer, niet van een bericht.",
    "message.lookup.the_rejected": "De geweigerde invoer",
    "message.lookup.control_id": "Dit is een MSH-10, geen bericht-id.",
    "message.lookup.the_message": "Het bericht dat ermee verstuurd is",
    "message.lookup.with_control_id": "Alle berichten met deze MSH-10",
    "error.back": "Naar je startpagina: {page}",
    "error.sign_in": "Naar de inlogpagina",
    "dashboard.title": "Overzicht",
    "dashboard.empty": "Geen bestemmingen die je mag zien.",
    "dashboard.unrouted": "Gebeurtenissen zonder bestemming: {count}",
    "dashboard.rejected": "Geweigerde invoer, laatste 24 uur: {count}",
    "dashboard.state": "Toestand",
    "dashboard.state.active": "actief",
    "dashboard.state.paused": "gepauzeerd",
    "dashboard.state.broken": "defect",
    "dashboard.queue": "Wachtend",
    "dashboard.oldest": "Oudste wachtende",
    "dashboard.last_ack": "Laatste ACK",
    "dashboard.last_attempt": "Laatste poging",
    "dashboard.last_attempt_retrying": (
        "{count} {count|wacht|wachten} op een nieuwe poging, de oudste sinds {since}"
    ),
    "dashboard.delivered_hour": "Afgeleverd (laatste uur)",
    "dashboard.failed_hour": "Onbestelbaar geworden (laatste uur)",
    "dashboard.dead": "Onbestelbare berichten",
    "dashboard.held": "Vastgehouden",
    "dashboard.deprecated": (
        "{version} ({event_type}) is verouderd: nog {days} dagen tot de einddatum"
    ),
    "dashboard.retired": "{version} ({event_type}) is buiten gebruik",
    "dashboard.reason": "Reden",
    "dashboard.pause": "Pauzeren",
    "dashboard.resume": "Hervatten",
    "dashboard.reason_pause": "Reden om {name} te pauzeren",
    "dashboard.reason_resume": "Reden om {name} te hervatten",
    "dashboard.pause_named": "{name} pauzeren",
    "dashboard.resume_named": "{name} hervatten",
    "dashboard.queue_named": "{count} wachtend voor {name}",
    "dashboard.dead_named": (
        "{count} {count|onbestelbaar bericht|onbestelbare berichten} van {name}"
    ),
    "dashboard.held_named": "{count} vastgehouden voor {name}",
    "dashboard.updated": "Wordt vanzelf bijgewerkt; laatst om {time}",
    "dashboard.done.pause": "{name} gepauzeerd, als revisie {revision}.",
    "dashboard.done.resume": "{name} hervat, als revisie {revision}.",
    "dashboard.done.pause_unchanged": "{name} was al gepauzeerd: er is niets veranderd.",
    "dashboard.done.resume_unchanged": "{name} was al actief: er is niets veranderd.",
    "messages.title": "Berichten",
    "messages.search": "Zoeken",
    "messages.zd_number": "ZD-nummer",
    "messages.control_id": "MSH-10 (het berichtnummer)",
    "messages.bsn": "BSN",
    "messages.destination": "Bestemming",
    "messages.status": "Status",
    "messages.version": "Versie",
    "messages.event_type": "Soort",
    "messages.since": "Vanaf",
    "messages.until": "Tot",
    "messages.any": "alle",
    "messages.none": "Geen berichten gevonden.",
    "messages.rejected_one": (
        "Geen berichten; 1 geweigerde invoer met dit ZD-nummer: de intake weigerde die."
    ),
    "messages.rejected_many": (
        "Geen berichten; {count} geweigerde invoer met dit ZD-nummer: de intake weigerde die."
    ),
    "messages.rejected_link": "Toon de geweigerde invoer met ZD-nummer {zd_number}",
    "messages.unrouted_zd": (
        "Geen berichten, maar er {count|kwam|kwamen} {count} {count|gebeurtenis|gebeurtenissen} "
        "met dit ZD-nummer binnen: geen bestemming bedient de zorgaanbieder, dus er is niets "
        "verstuurd (niet gerouteerd)."
    ),
    "messages.unrouted_link": "Toon de gebeurtenissen zonder bestemming met ZD-nummer {zd_number}",
    "messages.created": "Aangemaakt",
    "messages.attempts": "Pogingen",
    "messages.error": "Laatste fout",
    "messages.next": "Volgende pagina",
    "messages.previous": "Vorige pagina",
    "messages.save_title": "Deze zoekopdracht bewaren",
    "messages.save_name": "Naam",
    "messages.save": "Bewaren",
    "messages.save_rules": (
        "Een naam van hoogstens {chars} tekens; hoogstens {most} bewaarde zoekopdrachten."
    ),
    "messages.bsn_not_saved": (
        "Het BSN wordt nooit bewaard: een bewaarde zoekopdracht bevat alleen de andere zoektermen."
    ),
    "messages.saved_title": "Je bewaarde zoekopdrachten",
    "messages.saved_none": "Je hebt geen bewaarde zoekopdrachten.",
    "messages.delete": "Verwijderen",
    "messages.refused.bsn": "een BSN is een patiëntgegeven en wordt nooit bewaard",
    "messages.refused.name_empty": "geef de zoekopdracht een naam",
    "messages.refused.too_long": "hoogstens {chars} tekens",
    "messages.refused.not_a_term": "geen zoekterm die bewaard kan worden; {terms}",
    "messages.refused.no_terms": "geef minstens één zoekterm om te bewaren",
    "messages.refused.name_taken": "je hebt al een bewaarde zoekopdracht met die naam",
    "messages.refused.too_many": (
        "hoogstens {most} bewaarde zoekopdrachten per persoon; "
        "verwijder er een om een nieuwe te bewaren"
    ),
    "messages.delete_label": "Bewaarde zoekopdracht {name} verwijderen",
    "messages.open": "Bericht {id} van {when} openen",
    "messages.csv": "Exporteren als CSV",
    "messages.csv_note": (
        "Hoogstens {limit} berichten, nieuwste eerst; alleen kenmerken, geen BSN. "
        "De export wordt vastgelegd in de audittrail."
    ),
    "status.queued": "in de wachtrij",
    "status.sending": "wordt verstuurd",
    "status.delivered": "afgeleverd",
    "status.retrying": "wordt opnieuw geprobeerd",
    "status.waiting": "wachtend (in de wachtrij of tussen twee pogingen)",
    "status.held": "vastgehouden",
    "status.dead": "onbestelbaar",
    "status.cancelled": "geannuleerd",
    "event.referral": "verwijzing",
    "event.diagnostic_request": "aanvraag",
    "message.title": "Bericht {id}",
    "message.summary": "Samenvatting",
    "message.event": "Gebeurtenis",
    "message.patient": "Patiënt",
    "message.bsn": "BSN",
    "message.provider": "Zorgaanbieder",
    "message.received": "Ontvangen",
    "message.released": "Vrijgegeven na vasthouden",
    "message.timeline": "Tijdlijn",
    "message.timeline.intake": "Gebeurtenis ontvangen via {source}",
    "message.timeline.mapped": "Omgezet als {version} ({message_type}), MSH-10 {control_id}",
    "message.timeline.held": "Vastgehouden, niet omgezet; MSH-10 {control_id} gereserveerd",
    "message.timeline.released": (
        "Vrijgegeven na vasthouden en omgezet als {version} ({message_type})"
    ),
    "message.timeline.attempt": "Poging {number}: {outcome}",
    "message.timeline.resent_from": "Herzonden van {original} door {actor}: {reason}",
    "message.fields": "Segmenten en velden",
    "message.field": "Veld",
    "message.field_name": "Naam",
    "message.value": "Waarde",
    "message.field_reads": "Leest als:",
    "message.raw": "Ruwe tekst",
    "message.ack": "ACK",
    "message.ack_cut": (
        "De eerste {shown} tekens van de ACK staan hier; nog {more} niet. De API geeft de hele "
        "ACK (GET /api/v1/messages/{id})."
    ),
    "message.ack_withheld": (
        "Er is een ACK ontvangen; de tekst ervan ziet alleen wie patiëntgegevens mag lezen."
    ),
    "message.ack_pruned": (
        "Er is een ACK {code} ontvangen; de tekst ervan is opgeschoond (bewaartermijn)."
    ),
    "message.no_ack": "Nog geen ACK.",
    "message.warnings": "Waarschuwingen",
    "message.resent_from": "Dit is een herzending van",
    "message.origin_outside": "een bericht buiten je clusters",
    "message.resends": "Herzendingen van dit bericht",
    "message.try_now": "Nu proberen",
    "message.try_now.hint": (
        "Dit bericht wacht op de volgende poging, om {when}. Is de ontvanger weer bereikbaar? "
        "Probeer het dan nu: hetzelfde bericht, met dezelfde MSH-10."
    ),
    "message.try_now.reason": "Reden (niet verplicht)",
    "message.try_now.button": "Nu proberen",
    "message.try_now.done": (
        "De volgende poging is gestart toen op Nu proberen werd gedrukt; de status toont de "
        "uitkomst."
    ),
    "message.try_now.already": (
        "De volgende poging wordt gedaan of is al gedaan; de status toont hoe die afloopt."
    ),
    "message.try_now.due": (
        "De volgende poging is nu aan de beurt: de engine doet die nu, of zodra dat kan (bij "
        "een gepauzeerde bestemming: zodra die wordt hervat)."
    ),
    "message.resend": "Herzenden",
    "message.resend.reason": "Reden",
    "message.resend.mode": "Manier",
    "message.resend.mode.original": "dezelfde bytes opnieuw",
    "message.resend.mode.remap": "de gebeurtenis opnieuw omzetten",
    "message.resend.to": "Andere bestemming (niet verplicht)",
    "message.resend.preview": "Toon wat verstuurd zou worden",
    "message.resend.confirm": "Nu herzenden",
    "message.resend.would_skip": "Zou niet herzonden worden: {note}",
    "message.resend.same": "Wat verstuurd zou worden is gelijk aan wat verstuurd is.",
    "message.resend.made_when_sent": "nieuw, wordt ingevuld bij het herzenden",
    "message.resend.diff": "Verschillen tussen wat verstuurd is en wat verstuurd zou worden",
    "message.resend.before": "Verstuurd",
    "message.resend.after": "Zou verstuurd worden",
    "message.resend.earlier": (
        "Dit bericht is al {count} {count|keer|keer} herzonden (nieuwste eerst): kijk eerst "
        "naar {count|die herzending|die herzendingen}; Nu herzenden maakt er nog een."
    ),
    "message.resend.meanwhile": (
        "Er is niets verstuurd: dit bericht is herzonden nadat je vroeg wat verstuurd zou "
        "worden (zie hieronder). Kies alleen opnieuw Nu herzenden als er nog een herzending "
        "nodig is."
    ),
    "message.resend.back": "Terug naar het bericht",
    "message.resend.mode.auto": "automatisch",
    "message.resend.mode.hint": (
        "Automatisch: dezelfde bytes naar de eigen bestemming, opnieuw omgezet voor een andere."
    ),
    "resend_mode.original": "dezelfde bytes",
    "resend_mode.remap": "opnieuw omgezet",
    "attempt.delivered": "afgeleverd",
    "attempt.retry": "mislukt, wordt opnieuw geprobeerd",
    "attempt.deadletter": "mislukt, opgegeven (onbestelbaar)",
    "attempt.failed": "mislukt",
    "reason.hint": (
        "Geen patiëntgegevens: redenen staan in de audittrail en de CSV-export daarvan, en in "
        "de geschiedenis van een bestemming, voor iedereen die die mag lezen."
    ),
    "once.again.resend": "Dit is al gedaan op {at} door {by}; er is niets opnieuw verstuurd.",
    "once.again.discard": "Dit is al gedaan op {at} door {by}; er is niets opnieuw gewijzigd.",
    "once.pending": (
        "Deze bevestiging is verstuurd op {at} door {by} en wordt nog uitgevoerd; er is niets "
        "opnieuw verstuurd. Laad deze pagina zo opnieuw om te zien wat er gebeurd is."
    ),
    "once.failed": (
        "Deze bevestiging is verstuurd op {at} door {by}, maar de engine faalde tijdens het "
        "uitvoeren: sommige berichten kunnen verstuurd zijn. Zoek ze op voordat je opnieuw "
        "herzendt."
    ),
    # Gebeurtenissen: zoeken (pages/events.py) en één gebeurtenis (pages/event.py)
    "nav.events": "Gebeurtenissen",
    "events.title": "Gebeurtenissen",
    "events.intro": (
        "Gebeurtenissen zoals ze uit de systemen van de huisartsen binnenkwamen, nieuwste "
        "eerst, met de berichten die ervan gemaakt zijn. Een gebeurtenis zonder berichten is "
        "niet gerouteerd: geen bestemming bediende de zorgaanbieder ervan."
    ),
    "events.bsn": "BSN",
    "events.zd_number": "ZD-nummer",
    "events.provider": "Zorgaanbieder",
    "events.event_type": "Soort",
    "events.since": "Vanaf",
    "events.until": "Tot",
    "events.unrouted_only": "Alleen zonder bestemming",
    "events.search": "Zoeken",
    "events.none": "Geen gebeurtenissen gevonden.",
    "events.total": "{first}–{last} van {total} gevonden {total|gebeurtenis|gebeurtenissen}",
    "events.total_beyond": "{first}–{last} van meer dan {total} gevonden gebeurtenissen",
    "events.provider_unknown": (
        "Geen gebeurtenissen van die zorgaanbieder gevonden, en geen bestemming in je clusters "
        "bedient hem (een tikfout?). Zorgaanbieders die in je clusters bediend worden: {served}."
    ),
    "events.provider_none_served": "geen",
    "events.received": "Ontvangen",
    "events.event": "Gebeurtenis",
    "events.action": "Actie",
    "events.action.new": "nieuw",
    "events.action.cancel": "annulering",
    "events.messages": "Berichten",
    "events.unrouted": "niet gerouteerd",
    "event_page.title": "Gebeurtenis {id}",
    "event_page.source": "Bron",
    "event_page.pruned": "Inhoud opgeschoond op",
    "event_page.zd_warnings": "Waarschuwingen over het ZD-nummer",
    "event_page.patient_data": "Patiënt",
    "event_page.patient_name": "Naam",
    "event_page.messages": "Berichten die ervan gemaakt zijn",
    "event_page.unrouted": (
        "Niet gerouteerd: er is geen bericht van gemaakt, want toen de gebeurtenis binnenkwam, "
        "bediende geen bestemming de zorgaanbieder ervan."
    ),
    "event_page.never_routed": (
        "Nooit gerouteerd: binnen de bewaartermijn bediende geen bestemming de zorgaanbieder "
        "ervan, en de inhoud is opgeschoond. Alleen als het platform de gebeurtenis opnieuw "
        "stuurt, met een nieuw gebeurtenis-id, komt hij terug."
    ),
    "event_page.serving": "Nu bediend door: {destinations}.",
    "event_page.serving_none": "Geen bestemming bedient nu zorgaanbieder {provider}.",
    "event_page.routings": "Later gerouteerd",
    "event_page.routed": "naar {destinations} door {actor}: {reason}",
    "event_page.route": "Deze gebeurtenis routeren",
    **i18n_ops.NL,
    **i18n_pages.NL,
    **i18n_refusals.NL,
    **i18n_warnings.NL,
    **i18n_texts.NL,
    **i18n_why.NL,
    **i18n_focus.NL,
    **i18n_elsewhere.NL,
    **i18n_support_walk.NL,
    **i18n_callers.NL,
    **i18n_audit_exports.NL,
    **i18n_tokens_made.NL,
    **i18n_small_mends.NL,
}

CATALOGUES: Final[dict[str, dict[str, str]]] = {"en": EN, "nl": NL}


_PLURAL: Final = re.compile(r"\{(\w+)\|([^{}|]*)\|([^{}|]*)\}")


def plural_forms(text: str, values: Mapping[str, object]) -> str:
    """``{count|bericht|berichten}`` in a sentence: the first form when the value ``count``
    is 1, else the second, so that a page says "1 bericht" and "3 berichten", never
    "bericht(en)". A value that is not there takes the second form."""
    if "|" not in text:
        return text
    return _PLURAL.sub(
        lambda m: m.group(2) if str(values.get(m.group(1))) == "1" else m.group(3), text
    )


def translate(lang: str, key: str, /, **values: object) -> str:
    """The text of ``key`` in ``lang`` with ``values`` filled in (a value may be named ``key``
    or ``lang`` too: a refused file names the key it refuses), its plural forms chosen
    (``plural_forms``)."""
    text = CATALOGUES.get(lang, NL).get(key) or EN.get(key) or key
    return plural_forms(text, values).format(**values) if values else text


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The person's language: their cookie, else the browser's first known one, else Dutch."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


class Translator:
    """``t("key", name=value)`` in templates, bound to the person's language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT

    def __call__(self, key: str, /, **values: object) -> str:
        return translate(self.lang, key, **values)

    def say(self, text: object) -> str:
        """A service's refusal or note in this language (``integrator.console.refusals``)."""
        from integrator.console.refusals import say  # it reads this module's catalogue

        return say(self.lang, text)

    def warning(self, text: str) -> str:
        """A message's warning in this language (``integrator.console.warning_text``)."""
        from integrator.console.warning_text import word

        return word(self.lang, text)

    def error(self, text: str | None) -> str:
        """A delivery's error in this language (``integrator.console.delivery_text``)."""
        from integrator.console.delivery_text import word

        return "" if text is None else word(self.lang, text)

    def notice(self, notice: object) -> str:
        """A destination's notice in this language (``integrator.console.notice_text``)."""
        from integrator.console.notice_text import word

        return word(self.lang, notice)

    def rule(self, sentence: str) -> str:
        """A rejected input's broken rule in this language (``console.rule_text``)."""
        from integrator.console.rule_text import word

        return word(self.lang, sentence)

    def refusal(self, code: str | None, english: str, **values: object) -> str:
        """The sentence for a refusal ``code``, else ``english`` (the service's text)."""
        from integrator.console.refusals import sentence

        return sentence(self.lang, code, english, values)
