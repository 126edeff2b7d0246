"""The console's sentence for each refusal code (``integrator.refusal``), merged into
``integrator.console.i18n``'s catalogue as ``refusal.<code>``.

The services word their refusals in English for the CLI and the API; these are the same rules
said to a person in the console, in their language, without the command line's options
(``--cluster``, ``NAME``, "use update"): the console has forms and buttons instead. A sentence
holds the rule only; the console puts the field's name before it (``zd_number: …``), as the
service's own text does. Values named ``status``, ``statuses``, ``person_status`` and
``event_type`` are translated as the pages translate them (``integrator.console.refusals``).
A code missing here is shown with the service's English text, so a new refusal is never lost,
only untranslated; ``tests/console/test_i18n.py`` fails for a code the services raise that is
missing here.
"""

from __future__ import annotations

from typing import Final

_MOMENT_EN: Final = (
    "give a date (2026-11-27), a date-time as listings show it (2026-11-27T09:30:05+01:00; "
    "without an offset it is local time), or a time back from now (30m, 2h, 3d, 2w)"
)
_MOMENT_NL: Final = (
    "geef een datum (2026-11-27), een datum-tijd zoals de lijsten die tonen "
    "(2026-11-27T09:30:05+01:00; zonder tijdverschil is het de lokale tijd), of een tijd terug "
    "vanaf nu (30m, 2h, 3d, 2w)"
)

EN: Final[dict[str, str]] = {
    "refusal.none": "none",
    # Forms the console could not read (FastAPI's checks of its own forms)
    "refusal.form.missing": "required",
    "refusal.form.int_parsing": "a whole number",
    "refusal.form.float_parsing": "a number",
    "refusal.form.bool_parsing": "yes or no",
    "refusal.form.string_too_long": "at most {max_length} characters",
    "refusal.form.too_long": "at most {max_length} items",
    "refusal.form.greater_than_equal": "at least {ge}",
    "refusal.form.less_than_equal": "at most {le}",
    # Search terms (messages, audit trail, unrouted events)
    "refusal.search.moment": f"not an ISO date or date-time; {_MOMENT_EN}",
    "refusal.search.year": (
        "give a year from {earliest} to {latest}; leave the field empty to search without "
        "that bound"
    ),
    "refusal.search.zd_number": (
        "a ZD number is ZD and 9 digits, as on the referral (lower case is accepted)"
    ),
    "refusal.search.bsn": (
        "a BSN is 9 digits that pass the eleven-test (spaces and dots are ignored)"
    ),
    "refusal.search.status": "not a message status; one of {statuses}",
    "refusal.rejected.source": "not a source of input; one of {sources}",
    "refusal.search.destination": (
        "no destination has that id, and no message in this store went to one; configured: {known}"
    ),
    "refusal.audit.destination": (
        "no destination has that id, and no audit entry or stored message names one; "
        "configured: {known}"
    ),
    "refusal.audit.actor": (
        "give person:<email>, token:<name>, local:<user> or engine:<job> "
        "(or system or file, the engine's own entries)"
    ),
    # Reasons
    "refusal.reason.required": "a reason is required (it goes into the audit trail)",
    # People and tokens
    "refusal.access.cluster_unknown": (
        "no destination is in cluster {clusters}; the clusters there are: {known}"
    ),
    "refusal.access.may_not_give": (
        "you may not give {grant}: that needs the admin role for cluster {cluster}"
    ),
    "refusal.access.may_not_give_everywhere": (
        "you may not give {grant}: that needs the admin role for all clusters"
    ),
    "refusal.access.may_not_take_away": (
        "you may not take away {grant}: that needs the admin role for cluster {cluster}"
    ),
    "refusal.access.may_not_take_away_everywhere": (
        "you may not take away {grant}: that needs the admin role for all clusters"
    ),
    "refusal.access.roles_outside": (
        "{email} has roles outside your clusters; an admin for those must do this"
    ),
    "refusal.access.role_needed": "give at least one role",
    "refusal.access.keep_a_role": (
        "give at least one role (to take every role away, deactivate the account)"
    ),
    "refusal.access.deactivated": "{email} is deactivated",
    "refusal.access.deactivated_already": "{email} is deactivated already",
    "refusal.access.no_such_grant": "{email} holds no active role {grant}",
    "refusal.access.not_invited": "{email} is {person_status}, not invited",
    "refusal.access.email_invalid": "not an e-mail address",
    "refusal.access.email_taken": (
        "{email} has an account already; someone invited who has not accepted yet gets a new "
        "link when you send the invitation again"
    ),
    "refusal.access.name_too_long": "at most {most} characters",
    "refusal.access.reset_own": (
        "you cannot reset your own second factor: another admin does it, or an administrator "
        "on the server"
    ),
    "refusal.access.reset_invited": (
        "{email} is invited and has no second factor yet: send the invitation again for a new link"
    ),
    "refusal.access.reset_not_active": (
        "{email} is {person_status}: only an active account has a second factor to reset"
    ),
    "refusal.access.reset_gone": "{email} is no longer active; nothing was reset",
    "refusal.access.token_name_rule": (
        "1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
    ),
    "refusal.access.token_name_taken": "a token named {name} exists already",
    "refusal.access.token_validity": "more than 0 and at most {days} days",
    "refusal.access.token_revoked_already": "token {name} was revoked already",
    "refusal.console.days_whole": "a whole number of days",
    # Destinations
    "refusal.destination.exists": (
        "destination {id} exists already; open it and edit it to change it"
    ),
    "refusal.destination.file_exists": "a destination file {id}.yaml exists already",
    # Messages, resends and dead letters
    "refusal.message.unknown": "no message with id {id}",
    "refusal.deadletter.not_dead": "message {id} is {status}, not a dead letter",
    "refusal.deadletter.resolved_delivered": (
        "dead letter {id} was already resolved: its resend {by} was delivered; nothing was changed"
    ),
    "refusal.deadletter.resolved_discarded": (
        "dead letter {id} was already discarded (by {by}); nothing was changed"
    ),
    "refusal.console.select_dead_letter": "select at least one dead letter",
    "refusal.console.search_first": (
        "search first: say which messages (a ZD number, destination, status…)"
    ),
    "refusal.console.resend_too_many": (
        "the search finds more than {limit} messages, the most the console resends at once: "
        "narrow it (a period, a status), or ask for a resend through the API or on the "
        "server, which take up to 100,000"
    ),
    "refusal.resend.no_selector": (
        "say which messages: search by ZD number, destination, status, version or period"
    ),
    "refusal.resend.no_dead_letter_selector": "select at least one dead letter",
    "refusal.resend.too_many": (
        "the selection matches more than {limit} messages, the most one resend takes; narrow "
        "it (a period, a destination, a status) and resend in parts"
    ),
    "refusal.resend.mode_unknown": ("choose a mode: the same bytes again, or map the event again"),
    "refusal.resend.elsewhere_needs_remap": (
        "message {id} was made for {made_for} (MSH-5/6); to resend it to {to}, choose "
        "'map the event again'"
    ),
    "refusal.resend.destination_unknown": "destination {destination} is not configured",
    "refusal.resend.skip.held": (
        "held: it was never sent; it goes out when its destination is moved"
    ),
    "refusal.resend.skip.in_delivery": "still being delivered ({status}); not resent",
    "refusal.resend.skip.resent_already": (
        "already resent to {destination} as {id} ({status}); to resend it again, resend it "
        "from its own page or search by its ZD number"
    ),
    "refusal.resend.skip.destination_unknown": "destination {destination} is not configured",
    "refusal.resend.skip.pruned": (
        "its content was pruned on {date} (retention); nothing to resend"
    ),
    "refusal.resend.skip.no_bytes": ("no stored bytes to resend; choose 'map the event again'"),
    "refusal.resend.skip.event_missing": (
        "the stored event is missing; choose 'the same bytes again'"
    ),
    "refusal.resend.skip.event_invalid": (
        "the stored event no longer passes validation; choose 'the same bytes again'"
    ),
    "refusal.resend.skip.event_type_not_taken": (
        "destination {destination} takes no {event_type} messages"
    ),
    "refusal.resend.left_out.later_dead": (
        "its later resend {id} is a dead letter too and is resent instead"
    ),
    "refusal.resend.left_out.resolved": (
        "already resolved: its resend {id} was delivered; not resent again"
    ),
    "refusal.resend.left_out.discarded": "discarded since it was listed; nothing to resend",
    "refusal.console.confirmation_unknown": (
        "this confirmation is no longer valid (it expired after 12 hours, or it was made for "
        "another person); nothing was done: start again from the list"
    ),
    # Unrouted events
    "refusal.events.say_which": "say which events: tick them, or choose a provider",
    "refusal.events.ids_or_provider": "tick events or choose a provider, not both",
    "refusal.console.route_too_many": (
        "{count} events: the console routes at most {most} at once; narrow it, or route them "
        "through the API or on the server"
    ),
    "refusal.password.too_short": "a password needs at least {least} characters",
    "refusal.password.too_long": "a password has at most {most} characters",
    "refusal.password.blank": "a password must not be only spaces",
    "refusal.password.is_email": "a password must not be the account's e-mail address",
    "refusal.access.code_wrong": (
        "not the code the authenticator app shows now (check the phone's clock)"
    ),
    "refusal.invitation.secret_unreadable": (
        "the second factor set up when this link was opened cannot be read any more: open the "
        "link again and scan the new code"
    ),
    "refusal.invitation.not_opened": ("open the invitation first: the second factor is not set up"),
}

NL: Final[dict[str, str]] = {
    "refusal.none": "geen",
    "refusal.form.missing": "verplicht",
    "refusal.form.int_parsing": "een heel getal",
    "refusal.form.float_parsing": "een getal",
    "refusal.form.bool_parsing": "ja of nee",
    "refusal.form.string_too_long": "hoogstens {max_length} tekens",
    "refusal.form.too_long": "hoogstens {max_length} items",
    "refusal.form.greater_than_equal": "minstens {ge}",
    "refusal.form.less_than_equal": "hoogstens {le}",
    "refusal.search.moment": f"geen ISO-datum of -datum-tijd; {_MOMENT_NL}",
    "refusal.search.year": (
        "geef een jaar van {earliest} tot en met {latest}; laat het veld leeg om zonder die "
        "grens te zoeken"
    ),
    "refusal.search.zd_number": (
        "een ZD-nummer is ZD en 9 cijfers, zoals op de verwijzing (kleine letters mogen ook)"
    ),
    "refusal.search.bsn": (
        "een BSN is 9 cijfers die de elfproef doorstaan (spaties en punten tellen niet mee)"
    ),
    "refusal.search.status": "geen berichtstatus; kies uit {statuses}",
    "refusal.rejected.source": "geen bron van invoer; kies uit {sources}",
    "refusal.search.destination": (
        "geen bestemming heeft dat id, en geen bericht in deze opslag ging naar zo'n "
        "bestemming; ingesteld: {known}"
    ),
    "refusal.audit.destination": (
        "geen bestemming heeft dat id, en geen auditregel of opgeslagen bericht noemt het; "
        "ingesteld: {known}"
    ),
    "refusal.audit.actor": (
        "geef person:<e-mailadres>, token:<naam>, local:<gebruiker> of engine:<taak> "
        "(of system of file, de eigen regels van de engine)"
    ),
    "refusal.reason.required": "een reden is verplicht (die komt in de audittrail)",
    "refusal.access.cluster_unknown": (
        "geen bestemming hoort bij cluster {clusters}; de clusters die er zijn: {known}"
    ),
    "refusal.access.may_not_give": (
        "je mag {grant} niet geven: daarvoor is de beheerdersrol voor cluster {cluster} nodig"
    ),
    "refusal.access.may_not_give_everywhere": (
        "je mag {grant} niet geven: daarvoor is de beheerdersrol voor alle clusters nodig"
    ),
    "refusal.access.may_not_take_away": (
        "je mag {grant} niet intrekken: daarvoor is de beheerdersrol voor cluster {cluster} nodig"
    ),
    "refusal.access.may_not_take_away_everywhere": (
        "je mag {grant} niet intrekken: daarvoor is de beheerdersrol voor alle clusters nodig"
    ),
    "refusal.access.roles_outside": (
        "{email} heeft rollen buiten je clusters; een beheerder van die clusters moet dit doen"
    ),
    "refusal.access.role_needed": "geef minstens één rol",
    "refusal.access.keep_a_role": (
        "geef minstens één rol (om alle rollen in te trekken: deactiveer het account)"
    ),
    "refusal.access.deactivated": "{email} is gedeactiveerd",
    "refusal.access.deactivated_already": "{email} is al gedeactiveerd",
    "refusal.access.no_such_grant": "{email} heeft geen actieve rol {grant}",
    "refusal.access.not_invited": "{email} is {person_status}, niet uitgenodigd",
    "refusal.access.email_invalid": "geen e-mailadres",
    "refusal.access.email_taken": (
        "{email} heeft al een account; wie uitgenodigd is en nog niet heeft geaccepteerd, "
        "krijgt een nieuwe link als je de uitnodiging opnieuw stuurt"
    ),
    "refusal.access.name_too_long": "hoogstens {most} tekens",
    "refusal.access.reset_own": (
        "je kunt je eigen tweede factor niet resetten: een andere beheerder doet dat, of een "
        "beheerder op de server"
    ),
    "refusal.access.reset_invited": (
        "{email} is uitgenodigd en heeft nog geen tweede factor: stuur de uitnodiging opnieuw "
        "voor een nieuwe link"
    ),
    "refusal.access.reset_not_active": (
        "{email} is {person_status}: alleen een actief account heeft een tweede factor om te "
        "resetten"
    ),
    "refusal.access.reset_gone": "{email} is niet meer actief; er is niets gereset",
    "refusal.access.token_name_rule": (
        "1 tot 100 letters, cijfers, '.', '_' of '-', te beginnen met een letter of cijfer"
    ),
    "refusal.access.token_name_taken": "er bestaat al een token met de naam {name}",
    "refusal.access.token_validity": "meer dan 0 en hoogstens {days} dagen",
    "refusal.access.token_revoked_already": "token {name} was al ingetrokken",
    "refusal.console.days_whole": "een heel aantal dagen",
    "refusal.destination.exists": (
        "bestemming {id} bestaat al; open die en kies Wijzigen om haar te veranderen"
    ),
    "refusal.destination.file_exists": "er bestaat al een bestemmingsbestand {id}.yaml",
    "refusal.message.unknown": "geen bericht met id {id}",
    "refusal.deadletter.not_dead": "bericht {id} is {status}, geen onbestelbaar bericht",
    "refusal.deadletter.resolved_delivered": (
        "onbestelbaar bericht {id} was al opgelost: de herzending {by} is afgeleverd; er is "
        "niets veranderd"
    ),
    "refusal.deadletter.resolved_discarded": (
        "onbestelbaar bericht {id} was al afgesloten (door {by}); er is niets veranderd"
    ),
    "refusal.console.select_dead_letter": "kies minstens één onbestelbaar bericht",
    "refusal.console.search_first": (
        "zoek eerst: zeg welke berichten (een ZD-nummer, bestemming, status…)"
    ),
    "refusal.console.resend_too_many": (
        "de zoekopdracht vindt meer dan {limit} berichten, het meeste dat de console in één "
        "keer herzendt: beperk haar (een periode, een status), of laat herzenden via de API of "
        "op de server, die tot 100.000 aankunnen"
    ),
    "refusal.resend.no_selector": (
        "zeg welke berichten: zoek op ZD-nummer, bestemming, status, versie of periode"
    ),
    "refusal.resend.no_dead_letter_selector": "kies minstens één onbestelbaar bericht",
    "refusal.resend.too_many": (
        "de keuze omvat meer dan {limit} berichten, het meeste dat één herzending aankan; "
        "beperk haar (een periode, een bestemming, een status) en herzend in delen"
    ),
    "refusal.resend.mode_unknown": (
        "kies een manier: dezelfde bytes opnieuw, of de gebeurtenis opnieuw omzetten"
    ),
    "refusal.resend.elsewhere_needs_remap": (
        "bericht {id} is gemaakt voor {made_for} (MSH-5/6); kies 'de gebeurtenis opnieuw "
        "omzetten' om het naar {to} te herzenden"
    ),
    "refusal.resend.destination_unknown": "bestemming {destination} is niet ingesteld",
    "refusal.resend.skip.held": (
        "vastgehouden: het is nooit verstuurd; het gaat weg zodra de bestemming wordt omgezet"
    ),
    "refusal.resend.skip.in_delivery": "wordt nog afgeleverd ({status}); niet herzonden",
    "refusal.resend.skip.resent_already": (
        "al herzonden naar {destination} als {id} ({status}); herzend het vanaf de eigen "
        "pagina van het bericht, of zoek op het ZD-nummer, om het nogmaals te herzenden"
    ),
    "refusal.resend.skip.destination_unknown": "bestemming {destination} is niet ingesteld",
    "refusal.resend.skip.pruned": (
        "de inhoud is op {date} opgeschoond (bewaartermijn); er is niets te herzenden"
    ),
    "refusal.resend.skip.no_bytes": (
        "geen opgeslagen bytes om te herzenden; kies 'de gebeurtenis opnieuw omzetten'"
    ),
    "refusal.resend.skip.event_missing": (
        "de opgeslagen gebeurtenis ontbreekt; kies 'dezelfde bytes opnieuw'"
    ),
    "refusal.resend.skip.event_invalid": (
        "de opgeslagen gebeurtenis voldoet niet meer aan de regels; kies 'dezelfde bytes opnieuw'"
    ),
    "refusal.resend.skip.event_type_not_taken": (
        "bestemming {destination} neemt geen berichten van de soort {event_type}"
    ),
    "refusal.resend.left_out.later_dead": (
        "de latere herzending {id} is ook onbestelbaar en wordt in plaats daarvan herzonden"
    ),
    "refusal.resend.left_out.resolved": (
        "al opgelost: de herzending {id} is afgeleverd; niet nog eens herzonden"
    ),
    "refusal.resend.left_out.discarded": (
        "afgesloten nadat de lijst getoond werd; er is niets te herzenden"
    ),
    "refusal.console.confirmation_unknown": (
        "deze bevestiging is niet meer geldig (verlopen na 12 uur, of gemaakt voor iemand "
        "anders); er is niets gedaan: begin opnieuw vanaf de lijst"
    ),
    "refusal.events.say_which": (
        "zeg welke gebeurtenissen: vink ze aan, of kies een zorgaanbieder"
    ),
    "refusal.events.ids_or_provider": (
        "vink gebeurtenissen aan of kies een zorgaanbieder, niet beide"
    ),
    "refusal.console.route_too_many": (
        "{count} gebeurtenissen: de console routeert er hoogstens {most} tegelijk; beperk de "
        "keuze, of routeer ze via de API of op de server"
    ),
    "refusal.password.too_short": "een wachtwoord heeft minstens {least} tekens",
    "refusal.password.too_long": "een wachtwoord heeft hooguit {most} tekens",
    "refusal.password.blank": "een wachtwoord mag niet alleen uit spaties bestaan",
    "refusal.password.is_email": "een wachtwoord mag niet het e-mailadres van het account zijn",
    "refusal.access.code_wrong": (
        "niet de code die de authenticator-app nu toont (kijk of de klok van de telefoon goed "
        "staat)"
    ),
    "refusal.invitation.secret_unreadable": (
        "de tweede factor die bij het openen van deze link is ingesteld, is niet meer te lezen: "
        "open de link opnieuw en scan de nieuwe code"
    ),
    "refusal.invitation.not_opened": (
        "open eerst de uitnodiging: de tweede factor is nog niet ingesteld"
    ),
}
