"""The console's sentence for each refusal code (``integrator.refusal``), merged into
``integrator.console.i18n``'s catalogue as ``refusal.<code>``.

The services word their refusals in English for the CLI and the API; these are the same rules
said to a person in the console, in their language, without the command line's options
(``--cluster``, ``NAME``, "use update"): the console has forms and buttons instead. A sentence
holds the rule only; the console puts the field's name before it (``zd_number: …``), as the
service's own text does, in the page's language (``refusal.field.<name>``, ``FIELDS_NL``).
Values named ``status``, ``statuses``, ``person_status``, ``event_type`` and ``event_types``
are translated as the pages translate them (``integrator.console.refusals``).
A code missing here is shown with the service's English text, so a new refusal is never lost,
only untranslated; ``tests/console/test_i18n.py`` fails for a code the services raise that is
missing here.
"""

from __future__ import annotations

from typing import Final

_MOMENT_EN: Final = (
    "give a date (2026-11-27), a date-time as listings show it (2026-11-27T09:30:05+01:00; "
    "without an offset it is local time; 11-27 09:30 is this year's), or a time back from now "
    "(30m, 2h, 3d, 2w)"
)
_MOMENT_NL: Final = (
    "geef een datum (2026-11-27), een datum-tijd zoals de lijsten die tonen "
    "(2026-11-27T09:30:05+01:00; zonder tijdverschil is het de lokale tijd; 11-27 09:30 is "
    "van dit jaar), of een periode tot nu (30m, 2u, 3d, 2w)"
)

FIELDS_EN: Final[dict[str, str]] = {
    "refusal.field.email": "email",
    "refusal.field.name": "name",
    "refusal.field.grants": "grants",
    "refusal.field.role": "role",
    "refusal.field.cluster": "cluster",
    "refusal.field.reason": "reason",
    "refusal.field.token_name": "token_name",
    "refusal.field.expires": "expires",
    "refusal.field.days": "days",
    "refusal.field.token_id": "token_id",
    "refusal.field.person_id": "person_id",
    "refusal.field.password": "password",
    "refusal.field.code": "code",
    "refusal.field.revision": "revision",
    "refusal.field.zd_number": "zd_number",
    "refusal.field.control_id": "control_id",
    "refusal.field.since": "since",
    "refusal.field.until": "until",
    "refusal.field.destination": "destination",
    "refusal.field.status": "status",
    "refusal.field.version": "version",
    "refusal.field.event_type": "event_type",
    "refusal.field.provider": "provider",
    "refusal.field.source": "source",
    "refusal.field.actor": "actor",
    "refusal.field.action": "action",
    "refusal.field.target": "target",
    "refusal.field.message": "message",
    "refusal.field.bsn": "bsn",
    "refusal.field.mode": "mode",
    "refusal.field.to": "to",
}
"""The name a refusal gives its input (``Said.field``, a form field FastAPI refused) before
its rule: on an English page as the API names it (``email: …``), unchanged."""

FIELDS_NL: Final[dict[str, str]] = {
    "refusal.field.email": "e-mailadres",
    "refusal.field.name": "naam",
    "refusal.field.grants": "rollen",
    "refusal.field.role": "rol",
    "refusal.field.cluster": "cluster",
    "refusal.field.reason": "reden",
    "refusal.field.token_name": "naam",
    "refusal.field.expires": "geldigheid",
    "refusal.field.days": "geldigheid (dagen)",
    "refusal.field.token_id": "token-id",
    "refusal.field.person_id": "persoon-id",
    "refusal.field.password": "wachtwoord",
    "refusal.field.code": "code",
    "refusal.field.revision": "revisie",
    "refusal.field.zd_number": "ZD-nummer",
    "refusal.field.control_id": "MSH-10",
    "refusal.field.since": "vanaf",
    "refusal.field.until": "tot",
    "refusal.field.destination": "bestemming",
    "refusal.field.status": "status",
    "refusal.field.version": "versie",
    "refusal.field.event_type": "soort",
    "refusal.field.provider": "zorgaanbieder",
    "refusal.field.source": "bron",
    "refusal.field.actor": "wie",
    "refusal.field.action": "handeling",
    "refusal.field.target": "onderwerp",
    "refusal.field.message": "bericht-id",
    "refusal.field.bsn": "BSN",
    "refusal.field.mode": "manier",
    "refusal.field.to": "andere bestemming",
}
"""The same inputs as a Dutch page names them, the words of the forms' labels, so a refusal
that names its input (the admin forms' refusals said together, an error page) is Dutch
throughout: ``reden: er is een reden nodig``, not ``reason: …``. An input without a label
here keeps the API's name."""

EN: Final[dict[str, str]] = {
    **FIELDS_EN,
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
    "refusal.search.period": "the period starts at or after it ends; give a start before the end",
    "refusal.search.ambiguous": (
        "{time} is ambiguous in {zone}: the clocks go back that night, so it happens twice; "
        "give the offset ({earlier} is the first, {later} the second), or a time in UTC "
        "({utc} is the first)"
    ),
    "refusal.search.nonexistent": (
        "{time} does not exist in {zone}: the clocks go forward that night and skip it; give a "
        "time that exists, or give the offset, e.g. {earlier}, or a time in UTC, e.g. {utc}"
    ),
    "refusal.search.zd_number": (
        "a ZD number is ZD and 9 digits, as on the referral (lower case and spaces are accepted)"
    ),
    "refusal.search.bsn": (
        "a BSN is 9 digits that pass the eleven-test (spaces and dots are ignored)"
    ),
    "refusal.search.misplaced_bsn": "this looks like a BSN: search by BSN instead",
    "refusal.search.empty": "given but empty; give a value, or leave it out to search without it",
    "refusal.search.not_an_id": (
        "not an id: ids are UUIDs, hex digits and dashes; give the whole id, 32 hex digits "
        "with or without its 4 dashes"
    ),
    "refusal.search.partial_id": (
        "not a whole id; give the whole id, 32 hex digits with or without its 4 dashes"
    ),
    "refusal.search.status": "not a message status; one of {statuses}",
    "refusal.search.never_sending": (
        "No message is ever in status sending: the engine does not record it. A message on its "
        "way shows as queued (or retrying) until its attempt is recorded."
    ),
    "refusal.search.event_type": "not an event type; one of {event_types}",
    "refusal.search.version": "not a message version; one of {versions}",
    "refusal.rejected.source": "not a source of input; one of {sources}",
    "refusal.search.destination": (
        "no destination has that id, and no message in this store went to one; configured: {known}"
    ),
    "refusal.search.destination_seen": (
        "no destination you may see has that id, and no message you may see went to one; "
        "yours: {known}"
    ),
    "refusal.audit.destination": (
        "no destination has that id, and no audit entry or stored message names one; "
        "configured: {known}"
    ),
    "refusal.audit.actor": (
        "give person:<email>, token:<name>, local:<user> or engine:<job> "
        "(or system or file, the engine's own entries)"
    ),
    "refusal.audit.action": "not an audit action; one of {actions}",
    # Reasons
    "refusal.reason.required": "a reason is required (it goes into the audit trail)",
    "refusal.reason.too_long": "at most {max_length} characters",
    "refusal.reason.holds_bsn": (
        "this looks like a BSN: leave it out (a reason stays in the audit trail for years, read "
        "by people who may not see patient data; the message or event it is about names the "
        "patient)"
    ),
    # People and tokens
    "refusal.access.cluster_unknown": (
        "no destination is in cluster {clusters}; the clusters there are: {known}"
    ),
    "refusal.access.cluster_unknown_no_clusters": (
        "no destination is in cluster {clusters}; no destination names a cluster yet"
    ),
    "refusal.access.cluster_unknown_none_yours": (
        "no destination is in cluster {clusters}, nor in any other cluster you administer"
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
        "this person has roles outside your clusters; an admin for those must do this"
    ),
    "refusal.access.role_needed": "give at least one role",
    "refusal.access.grants_changed": (
        "the roles changed since this page was shown; nothing was saved: look at them again "
        "and make the change anew"
    ),
    "refusal.access.cluster_without_role": (
        "a row names cluster {cluster} but no role: choose its role, or empty its cluster"
    ),
    "refusal.access.keep_a_role": (
        "give at least one role (to take every role away, deactivate the account)"
    ),
    "refusal.access.deactivated": "this account is deactivated",
    "refusal.access.deactivated_roles_kept": (
        "cannot take a role away from this person: the account is deactivated, and its roles "
        "stay as they were then, in force nowhere; nothing was changed"
    ),
    "refusal.access.deactivated_already": (
        "this account is deactivated already; nothing was changed"
    ),
    "refusal.access.no_such_grant": "this person holds no active role {grant}",
    "refusal.access.no_such_grant_held": (
        "this person holds no active role {grant}; of that role they hold {held}: name its cluster"
    ),
    "refusal.access.not_invited": (
        "this person is {person_status}, not invited: only someone who has not accepted "
        "their invitation yet can be sent it again"
    ),
    "refusal.access.email_invalid": "not an e-mail address",
    "refusal.access.email_taken": (
        "an account or an open invitation already has this e-mail address; someone invited "
        "who has not accepted yet gets a new link when you send the invitation again"
    ),
    "refusal.access.email_deactivated": (
        "this e-mail address belongs to a deactivated account: deactivating is final, and "
        "the address cannot be invited again"
    ),
    "refusal.access.name_too_long": "at most {most} characters",
    "refusal.access.reset_own": (
        "you cannot reset your own second factor: another admin does it, or an administrator "
        "on the server"
    ),
    "refusal.access.reset_invited": (
        "this person is invited and has no second factor yet: send the invitation again for a "
        "new link"
    ),
    "refusal.access.reset_not_active": (
        "this account is {person_status}: only an active account has a second factor to reset"
    ),
    "refusal.access.reset_gone": "this account is no longer active; nothing was reset",
    "refusal.access.token_name_rule": (
        "1 to {most} letters, digits, '.', '_' or '-', starting with a letter or digit"
    ),
    "refusal.access.token_name_taken": (
        "a token with this name exists already (a revoked token keeps its name); choose "
        "another name"
    ),
    "refusal.access.token_validity": "more than 0 and at most {days} days",
    "refusal.access.token_revoked_already": "token {name} was revoked already",
    "refusal.console.days_whole": "a whole number of days",
    "refusal.console.password_mismatch": "The two passwords differ.",
    # Destinations
    "refusal.destination.exists": (
        "destination {id} exists already; open it and edit it to change it"
    ),
    "refusal.destination.file_exists": "a destination file {id}.yaml exists already",
    "refusal.destination.directory_unusable": (
        "the destinations directory {directory} is not there; nothing is changed until it is back"
    ),
    "refusal.destination.directory_empty": (
        "the destinations directory {directory} holds no destination files while destinations "
        "are in service (a volume not mounted?); nothing is changed until their files are back"
    ),
    # Messages, resends and dead letters
    "refusal.message.unknown": "no message with id {id}",
    "refusal.resend.message_unknown": "no message has one of these ids",
    "refusal.deadletter.not_dead": "message {id} is {status}, not a dead letter",
    "refusal.deadletter.resolved_delivered": (
        "dead letter {id} was already resolved: its resend {by} was delivered; nothing was changed"
    ),
    "refusal.deadletter.resolved_delivered_outside": (
        "dead letter {id} was already resolved: a resend of it to a destination outside your "
        "clusters was delivered; nothing was changed"
    ),
    "refusal.deadletter.resolved_discarded": (
        "dead letter {id} was already discarded (by {by}); nothing was changed"
    ),
    "refusal.console.select_dead_letter": (
        "nothing was selected: tick at least one dead letter (or select all in its group); "
        "nothing was done"
    ),
    "refusal.job.stopped.resend": (
        "stopped after {done} of {total}: you may no longer resend these messages (your "
        "account was deactivated, or the role or the cluster taken away); the rest was not "
        "resent"
    ),
    "refusal.job.stopped.discard": (
        "stopped after {done} of {total}: you may no longer discard these dead letters (your "
        "account was deactivated, or the role or the cluster taken away); the rest was not "
        "discarded"
    ),
    "refusal.console.search_first": (
        "search first: say which messages (a ZD number, destination, status…)"
    ),
    "refusal.console.audit_csv_by_bsn": (
        "a search of the audit trail by BSN is not exported: search without the BSN to export "
        "its entries"
    ),
    "refusal.console.resend_too_many": (
        "the search finds {found} messages, more than {limit}, the most the console resends "
        "at once: narrow it (a period, a status), or ask for a resend through the API or on "
        "the server, which take up to 100,000"
    ),
    "refusal.resend.no_selector": (
        "say which messages: search by ZD number, destination, status, version or period"
    ),
    "refusal.resend.no_dead_letter_selector": "select at least one dead letter",
    "refusal.resend.too_many": (
        "the selection matches more than {limit} messages, the most one resend takes; narrow "
        "it (a period, a destination, a status) and resend in parts"
    ),
    "refusal.resend.too_many_dead": (
        "the selection matches more than {limit} dead letters, the most one batch takes; "
        "narrow it (a period, a destination) and act on it in parts"
    ),
    "refusal.resend.mode_unknown": ("choose a mode: the same bytes again, or map the event again"),
    "refusal.resend.elsewhere_needs_remap": (
        "message {id} was made for {made_for} (MSH-5/6); to resend it to another "
        "destination, choose 'map the event again'"
    ),
    "refusal.resend.destination_unknown": "no configured destination has this id",
    "refusal.resend.skip.held": (
        "held: it was never sent; it goes out when its destination is moved"
    ),
    "refusal.resend.skip.remap_held": "{warnings}",  # a remap that would be held: why
    "refusal.resend.skip.in_delivery": "still being delivered ({status}); not resent",
    "refusal.resend.skip.retrying": (
        "still being delivered (retrying): attempted again at its time, or at once with "
        "Try now on its page; not resent"
    ),
    "refusal.try_now.not_waiting": (
        "the message's status is {status}: only a message waiting for its next attempt can be "
        "tried now"
    ),
    "refusal.try_now.behind": (
        "the message's status is {status}: it waits behind {behind}, which waits for its next "
        "attempt; try that one now"
    ),
    "refusal.try_now.resend_instead": (
        "the message's status is {status}: only a message waiting for its next attempt can be "
        "tried now; resend it instead"
    ),
    "refusal.try_now.paused": (
        "{destination} is paused: its messages are attempted when it is resumed"
    ),
    "refusal.try_now.no_destination": "the message's destination is no longer configured",
    "refusal.delivery.away.event": (
        "delivery is unavailable (the message broker is away or refuses messages): the event "
        "and its messages are stored and are sent when it is back; there is no need to send it "
        "again"
    ),
    "refusal.delivery.away.resend": (
        "delivery is unavailable (the message broker is away or refuses messages): the resent "
        "message is stored and is sent when it is back; there is no need to resend it again"
    ),
    "refusal.delivery.paused.resend": (
        "{destination} is paused: the resent message waits and is sent when the destination is "
        "resumed"
    ),
    "refusal.delivery.away.route": (
        "delivery is unavailable (the message broker is away or refuses messages): the "
        "messages are stored and are sent when it is back; there is no need to route the event "
        "again"
    ),
    "refusal.resend.skip.resent_already": (
        "already resent to {destination} as {id} ({status}); to resend it again, resend it "
        "from its own page or search by its ZD number"
    ),
    "refusal.resend.skip.resent_elsewhere": (
        "already resent to {elsewhere} as {id} ({status}), so not to {destination} as well; to "
        "send it there too, resend it from its own page or search by its ZD number"
    ),
    "refusal.resend.skip.resent_since": (
        "resent meanwhile as {id}; not resent again: look at that resend, then confirm again if "
        "it is still needed"
    ),
    "refusal.resend.skip.resends_changed": (
        "its resends changed since they were shown; not resent: look at the message again"
    ),
    "refusal.resend.skip.destination_unknown": "destination {destination} is not configured",
    "refusal.resend.skip.resent_outside": (
        "already resent to a destination outside your clusters, so not to {destination} as "
        "well; to send it there too, resend it from its own page or search by its ZD number"
    ),
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
    "refusal.resend.left_out.resolved_outside": (
        "already resolved: a resend of it to a destination outside your clusters was "
        "delivered; not resent again"
    ),
    "refusal.resend.left_out.later_dead_outside": (
        "its later resend {id} is a dead letter too and stands for it, but died outside the "
        "period: resend that one (by its id, or with a period that holds it)"
    ),
    "refusal.resend.left_out.outside_period": "died outside the period shown; not resent",
    "refusal.resend.left_out.discarded": "discarded since it was listed; nothing to resend",
    "refusal.resend.skip.discarded_since": "discarded since it was selected; not resent",
    "refusal.resend.skip.discarded": (
        "discarded by support; not resent (resend it from its own page to send it again)"
    ),
    "refusal.deadletter.chain_member": (
        "in the resend chain of {id}: the same message to the same destination, dead too; "
        "discarded with it"
    ),
    "refusal.deadletter.stays.other_destination": (
        "dead letter for {destination}, another destination: discard it on its own if it is "
        "not wanted there either"
    ),
    "refusal.deadletter.stays.in_delivery": (
        "a resend still in delivery ({status}); if it dies, it is a dead letter of its own"
    ),
    "refusal.console.data_key_unknown": (
        "a stored value is sealed with data key {kid}, which this engine was not started "
        "with; ask an operator to restart it with that key (INTEGRATOR_DATA_KEYS)"
    ),
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
    "refusal.form.choice": "not one of the choices the page offers",
    "refusal.form.nul": "must not contain the NUL character (U+0000)",
    # A destination's definition: pydantic's checks (by type, and by key where one type
    # means something of its own for that key) and the file's own rules, worded as the
    # service words them in English (``integrator.console.refusals.definition_problem``)
    "refusal.definition.unknown_key": "unknown key",
    "refusal.definition.unknown_key_close": "unknown key (did you mean {close}?)",
    "refusal.definition.int_type": "Input should be a valid integer",
    "refusal.definition.float_type": "Input should be a valid number",
    "refusal.definition.finite_number": "Input should be a finite number",
    "refusal.definition.bool_type": "Input should be a valid boolean",
    "refusal.definition.string_type": "Input should be a valid string",
    "refusal.definition.greater_than": "Input should be greater than {gt}",
    "refusal.definition.greater_than_equal": "Input should be greater than or equal to {ge}",
    "refusal.definition.less_than_equal": "Input should be less than or equal to {le}",
    "refusal.definition.string_too_long": "String should have at most {max_length} characters",
    "refusal.definition.string_too_short": ("String should have at least {min_length} characters"),
    "refusal.definition.blank": "String should have at least 1 character",
    "refusal.definition.ack_mode": "Input should be 'original' or 'enhanced'",
    "refusal.definition.ordering": "Input should be 'fifo' or 'rotate'",
    "refusal.definition.on_ack": "Input should be 'retry' or 'deadletter'",
    "refusal.definition.event_type": (
        "unknown event type: the keys are referral and diagnostic_request"
    ),
    "refusal.definition.event_type_close": (
        "unknown event type: the keys are referral and diagnostic_request (did you mean {close}?)"
    ),
    "refusal.definition.duration": (
        "must be a duration like 500ms, 30s, 10m or 24h (a bare number means seconds)"
    ),
    "refusal.definition.duration_too_long": "must be {most} at most",
    "refusal.definition.max_delay": "must not be shorter than retry.initial",
    "refusal.definition.file_missing": "file does not exist",
    "refusal.definition.file_is_directory": "is a directory, not a file",
    "refusal.definition.file_unreadable": "file is not readable",
    "refusal.definition.outside_tls_dir": (
        "must be a file inside the TLS directory, {setting} ({directory})"
    ),
    "refusal.definition.tls_dir_missing": (
        "cannot be taken: the TLS directory {directory} ({setting}) does not exist; the "
        "server's administrator makes it and puts the destinations' certificate and key "
        "files in it"
    ),
    "refusal.definition.tls_dir_not_a_directory": (
        "cannot be taken: the TLS directory {directory} ({setting}) is not a directory; the "
        "server's administrator makes it and puts the destinations' certificate and key "
        "files in it"
    ),
    "refusal.definition.outside_cluster_tls_dir": (
        "must be a file inside the TLS directory of cluster {cluster}, {directory} "
        "({setting}/{subdirectory})"
    ),
    "refusal.definition.cluster_tls_dir_missing": (
        "cannot be taken: the TLS directory of cluster {cluster}, {directory} "
        "({setting}/{subdirectory}), does not exist; the server's administrator makes it and "
        "puts the certificate and key files of the cluster's destinations in it"
    ),
    "refusal.definition.cluster_tls_dir_not_a_directory": (
        "cannot be taken: the TLS directory of cluster {cluster}, {directory} "
        "({setting}/{subdirectory}), is not a directory; the server's administrator makes it "
        "and puts the certificate and key files of the cluster's destinations in it"
    ),
    "refusal.definition.tls_dir_no_cluster_name": (
        "cannot be checked while cluster is not a cluster's name: the files must lie in the "
        "TLS directory of the destination's cluster ({setting})"
    ),
    "refusal.definition.key_needs_cert": "key_file needs cert_file",
    "refusal.definition.server_name": "must be a host name without spaces",
    "refusal.definition.needs_rotate": (
        "must be rotate when connections is more than 1 "
        "(parallel connections cannot keep fifo order)"
    ),
    "refusal.definition.ack_type": (
        "must be AL, NE, ER or SU (HL7 table 0155: always, never, on error only, on success only)"
    ),
    "refusal.definition.ack_type_needs_enhanced": (
        "applies only with ack_mode: enhanced (in original mode MSH-15/16 stay empty); "
        "remove it or set ack_mode: enhanced"
    ),
    "refusal.definition.success_unanswered": (
        "must be AL or SU when accept_ack_type is NE or ER (not set, it is NE): otherwise the "
        "receiver never answers a message it took, and the engine counts a message delivered "
        "only on an ACK"
    ),
    "refusal.definition.id": (
        "must use only a-z, 0-9 and '-', begin and end with a letter or digit, and hold a letter"
    ),
    "refusal.definition.provider_empty": "provider ids must not be empty",
    "refusal.definition.provider_control": "provider ids must not hold control characters",
    "refusal.definition.provider_twice": "each provider id may appear only once",
    "refusal.definition.providers_list": (
        "must be a list of provider ids, such as [lab-west, lab-east]"
    ),
    "refusal.definition.messages_mapping": (
        "must be a mapping of event types (referral, diagnostic_request) to message versions"
    ),
    "refusal.definition.section": "must be a mapping with any of the keys {keys}",
    "refusal.definition.rate_limit": (
        "must be a number of messages per second, written in decimal (10, 0.5, 1000), or null "
        "for no limit"
    ),
    "refusal.definition.port": "must be a whole number from 1 to 65535",
    "refusal.definition.host": "must be a host name or address without spaces",
    "refusal.definition.host_url": (
        "must be a host name or address, not a URL (the port goes in Port)"
    ),
    "refusal.definition.host_port": (
        "must be a host name or address without a port (the port goes in Port; an IPv6 address "
        "without brackets)"
    ),
    "refusal.definition.host_name": (
        "must be a host name (letters, digits, '-', '.', '_') or an address"
    ),
    "refusal.definition.version_needed": (
        "needs a message version for referral and/or diagnostic_request"
    ),
    "refusal.definition.version_name": (
        "must be a message version's name, in lower case: a-z, 0-9 and '-', as ref-v2 or "
        "orm-v3 (the Message versions page lists them)"
    ),
    "refusal.definition.one_line": "must be one line without control characters",
    "refusal.definition.cluster_name": "must not be blank nor begin or end with white space",
    "refusal.definition.msh_value": "must be one line without '|' or control characters",
    "refusal.definition.version_unknown": "unknown message version '{version}' (known: {known})",
    "refusal.definition.version_event_type": (
        "message version '{version}' is for {event_type} events"
    ),
    "refusal.definition.version_retired": (
        "message version '{version}' is retired; use its successor '{successor}'"
    ),
    "refusal.definition.not_a_mapping": "must be a mapping of keys to values",
    "refusal.definition.not_utf8": "is not UTF-8 text",
    "refusal.definition.unreadable": "cannot be read ({why})",
    "refusal.definition.not_a_file": "is {entry}, not a file",
    "refusal.entry.directory": "a directory",
    "refusal.entry.link_to_nothing": (
        "a symbolic link to nothing (what it points to does not exist)"
    ),
    "refusal.entry.special": "a pipe, socket or device",
    "refusal.definition.key_twice": "appears more than once (line {line})",
    "refusal.definition.empty": "the file is empty",
    "refusal.definition.yaml_syntax": "YAML syntax error: {problem}",
    "refusal.definition.directory_missing": "does not exist",
    "refusal.definition.directory_not_a_directory": "is not a directory",
    "refusal.definition.file_of_another": (
        "'{id}' is the destination of {file}; a destination's file is named <id>.yaml, so "
        "this file is refused (give it its own id and name, or delete it)"
    ),
    "refusal.definition.file_misnamed": (
        "'{id}' does not match the file name; a destination's file is named <id>.yaml, so "
        "this file is refused (rename it to {file})"
    ),
    "refusal.definition.ending_case": (
        "ends in {ending}, which is not read: a destination's file is named <id>.yaml, in lower "
        "case (rename it to {file})"
    ),
    "refusal.definition.id_of_removed": (
        "destination '{id}' was removed from cluster {cluster}, and its messages stay in that "
        "cluster: add it again in cluster {cluster}, or choose another id"
    ),
    "refusal.definition.id_of_removed_no_cluster": (
        "destination '{id}' was removed while in no cluster, and its messages stay there, for "
        "all-cluster grants only: add it again without a cluster, or choose another id"
    ),
    "refusal.destination.cluster_not_yours": "you may not put a destination in cluster {cluster}",
    "refusal.destination.provider_elsewhere": (
        "provider {provider} is served by a destination outside your clusters; ask someone "
        "with access to all clusters"
    ),
    "refusal.destination.id_not_yours": (
        "you may not use the id {id}: it is, or was, a destination outside your clusters; "
        "choose another id, or ask someone with access to all clusters"
    ),
    "refusal.destination.no_cluster": (
        "you may not put a destination in no cluster (that needs the role for all clusters)"
    ),
    "refusal.destination.event_type_not_taken": (
        "destination '{destination}' takes no {event_type} messages; it takes: {taken}"
    ),
    "refusal.destination.test_held": (
        "cannot build a {version} test message: the engine holds messages in it now (retired, "
        "without an auto_upgrade it can make); give the destination a supported version"
    ),
    "refusal.destination.paused_test": (
        "destination '{destination}' is paused: its traffic was stopped on purpose, so no test "
        "message was sent; resume it first, or tick the box to send one anyway (recorded in "
        "the audit log)"
    ),
    "refusal.destination.no_revision": "destination '{id}' has no revision {revision}",
    "refusal.destination.provider_shared": (
        "provider {provider} is also served by {others}: each of its events goes to all of them "
        "(if {id} is a copy, change its providers)"
    ),
    "refusal.destination.revision_removal": (
        "revision {revision} of '{id}' is its removal; pick another"
    ),
    "refusal.destination.directory_unreadable": (
        "the engine cannot read its destinations directory (listing the destination files "
        "takes read and execute permission on it); nothing was shown: ask an operator to "
        "check the directory's owner and permissions (the engine's log names it)"
    ),
    "refusal.destination.directory_unwritable": (
        "the engine cannot write in its destinations directory (changing a destination takes "
        "write and execute permission on it); nothing was changed: ask an operator to check "
        "the directory's owner and permissions (the engine's log names it)"
    ),
    "refusal.destination.file_is_directory": (
        "{file} is a directory, not a file; nothing was changed: move it out of the "
        "destinations directory, then make the change again"
    ),
    "refusal.destination.broken": (
        "destination '{id}' is broken and has no good definition to work on; its file needs "
        "fixing on the server"
    ),
    "refusal.console.remove_busy": (
        "{count} {count|message still waits|messages still wait} for this destination, so "
        "nothing was removed: deliver {count|it|them} first, or tick the box above to make "
        "{count|it a dead letter|them dead letters}"
    ),
    "refusal.console.remove_stranded": (
        "{count} {count|message waits|messages wait} for {destination}, which no file defines "
        "any more (its file was deleted by hand); nothing was done. To send {count|it|them}, "
        "bring the destination back with a rollback on its history page; to make "
        "{count|it a dead letter|them dead letters}, bring it back first, then remove it with "
        "the box ticked"
    ),
    "refusal.console.revision_whole": "must be a whole number",
    "refusal.console.rollback_refused": "revision {revision}: {key}: {problem}",
    "refusal.console.definition_refused": "{source}: {key}: {problem}",
    "refusal.console.no_message": "no message to resend",
    "refusal.console.method": (
        "this address answers a form, it is not a page to open: go back to the page the form was on"
    ),
    "refusal.console.method_not_taken": (
        "this address does not take that method; it takes {allowed}"
    ),
    "refusal.console.invitation_form_changed": (
        "this form came back changed or incomplete; open the link again (Continue below) and "
        "scan the new code it shows"
    ),
    "refusal.access.token_beyond_own": (
        "a token of your own holds only grants you hold yourself, not {grant}; you hold {held}"
    ),
    "refusal.access.person_patient_data": (
        "{role} reads patient data: only someone who holds {role} there gives it, so you may "
        "not give {grant}; someone who holds it gives it, or an administrator on the server"
    ),
    "refusal.access.link_patient_data": (
        "the link is not shown to you: the account holds {grant}, which reads "
        "patient data, and you do not hold {role} there; with a mail server set the link goes "
        "to the person only, or an administrator on the server makes it"
    ),
    "refusal.access.token_patient_data": (
        "{role} reads patient data: a token made here may hold it only where you hold {role} "
        "yourself, so not {grant}; someone who holds it makes that token, or an administrator "
        "on the server"
    ),
    "refusal.access.token_suspended_maker": (
        "{role} reads patient data, and a token made in the console or through the API holds it "
        "only where its maker holds it now: its maker no longer holds {grant}"
    ),
    "refusal.access.token_suspended_maker_deactivated": (
        "{role} reads patient data, and a token made in the console or through the API holds it "
        "only where its maker holds it now: its maker's account is deactivated"
    ),
    "refusal.access.token_suspended_maker_token": (
        "{role} reads patient data, and a token made through the API holds it only where the "
        "token that made it holds it now, which it no longer does ({grant})"
    ),
    "refusal.access.token_suspended_owner": (
        "a token of one's own holds only what its owner holds, and its owner no longer holds "
        "{grant}"
    ),
    "refusal.access.token_suspended_one_cluster": (
        "{grant} acts nowhere: this role acts for all clusters only, and is no longer given for "
        "one; make a token with it for all clusters"
    ),
    "refusal.access.token_outlives_maker": (
        "at most until {until}, when the token making it expires: a token made with a token "
        "stops with it"
    ),
    "refusal.access.token_id_short": "give the token's id, or at least its first 4 characters",
    "refusal.access.token_name_given": "{name} is the name of token {id}: give its id, {id}",
    "refusal.access.token_unknown": "no token with that id",
    "refusal.access.person_unknown": "no account has this e-mail address",
    "refusal.access.token_ambiguous": "{id} is the start of {count} token ids: give more of one",
    "refusal.access.own_account": (
        "you cannot change your own roles or deactivate your own account: another admin does "
        "it, or an administrator on the server"
    ),
    "refusal.access.role_unknown": "unknown role {role} (one of: {known})",
    "refusal.access.role_for_all_clusters": (
        "{role} is given for all clusters only: leave the cluster {cluster} out"
    ),
    "refusal.access.cluster_name": (
        "the name of cluster {cluster} must not be blank nor begin or end with white space "
        "(leave the cluster out for all clusters)"
    ),
    "refusal.access.mail_failed": (
        "the person is invited, but the invitation could not be sent: {why}. Nobody has seen "
        "its link; send the invitation again once mail works"
    ),
    "refusal.access.mail_failed_reset": (
        "the second factor is reset, but its setup link could not be sent: {why}. Nobody has "
        "seen its link; send the invitation again once mail works"
    ),
    "refusal.mail.not_sent": "no mail sent through {server} ({why})",
    "refusal.mail.refused": "the mail server {server} refused the message (SMTP {answer})",
    "refusal.events.unknown": "no event with id {id}",
    "refusal.events.ids_too_many": "at most {most} at a time",
    "refusal.events.not_an_id": "id {position} is not an event id (a UUID, or its start)",
    "refusal.events.too_many": (
        "more than {most} unrouted events: route them through the API or on the server, a "
        "period at a time"
    ),
    "refusal.events.provider_unknown": (
        "no destination serves that provider, and no stored event names it; served: {served}"
    ),
    # What routing did with an event (the notes of its result)
    "refusal.events.route.unserved": "no destination serves provider '{provider}' yet",
    "refusal.events.route.pruned": (
        "its content was pruned on {date} (retention); it cannot be mapped"
    ),
    "refusal.events.route.event_invalid": (
        "the stored event no longer passes validation; it cannot be mapped"
    ),
    "refusal.events.route.event_type_not_taken": (
        "destination '{destination}' takes no {event_type} messages"
    ),
    "refusal.events.route.already": "already has a message for {destinations}; not sent again",
    "refusal.events.route.meanwhile": (
        "routed to {destinations} meanwhile by someone else; not sent again"
    ),
}

NL: Final[dict[str, str]] = {
    **FIELDS_NL,
    "refusal.none": "geen",
    "refusal.form.missing": "verplicht",
    "refusal.form.int_parsing": "een heel getal",
    "refusal.form.float_parsing": "een getal",
    "refusal.form.bool_parsing": "ja of nee",
    "refusal.form.string_too_long": "hoogstens {max_length} tekens",
    "refusal.form.too_long": "hoogstens {max_length} items",
    "refusal.form.greater_than_equal": "minstens {ge}",
    "refusal.form.less_than_equal": "hoogstens {le}",
    "refusal.search.moment": f"geen geldige datum of datum-tijd; {_MOMENT_NL}",
    "refusal.search.year": (
        "geef een jaar van {earliest} tot en met {latest}; laat het veld leeg om zonder die "
        "grens te zoeken"
    ),
    "refusal.search.period": (
        "de periode begint op of na het einde; geef een begin dat vóór het einde ligt"
    ),
    "refusal.search.ambiguous": (
        "{time} is dubbelzinnig in {zone}: die nacht gaat de klok terug, dus dit tijdstip komt "
        "twee keer voor; geef het tijdverschil erbij ({earlier} is de eerste keer, {later} de "
        "tweede), of een tijd in UTC ({utc} is de eerste keer)"
    ),
    "refusal.search.nonexistent": (
        "{time} bestaat niet in {zone}: die nacht gaat de klok vooruit en slaat dit uur over; "
        "geef een tijd die bestaat, of geef het tijdverschil erbij, bijv. {earlier}, of een tijd "
        "in UTC, bijv. {utc}"
    ),
    "refusal.search.zd_number": (
        "een ZD-nummer is ZD en 9 cijfers, zoals op de verwijzing (kleine letters en spaties "
        "mogen ook)"
    ),
    "refusal.search.bsn": (
        "een BSN is 9 cijfers die de elfproef doorstaan (spaties en punten tellen niet mee)"
    ),
    "refusal.search.misplaced_bsn": "dit lijkt op een BSN: zoek in plaats daarvan op BSN",
    "refusal.search.empty": (
        "leeg opgegeven; geef een waarde, of laat het weg om er niet op te zoeken"
    ),
    "refusal.search.not_an_id": (
        "geen id: een id is een UUID, hexadecimale cijfers en streepjes; geef het hele id, 32 "
        "hexadecimale cijfers met of zonder de 4 streepjes"
    ),
    "refusal.search.partial_id": (
        "geen volledig id; geef het hele id, 32 hexadecimale cijfers met of zonder de 4 streepjes"
    ),
    "refusal.search.status": "geen berichtstatus; kies uit {statuses}",
    "refusal.search.never_sending": (
        "Geen enkel bericht heeft ooit de status ‘wordt verstuurd’: de engine legt die niet "
        "vast. Een bericht dat onderweg is, heeft de status ‘in de wachtrij’ (of ‘wordt opnieuw "
        "geprobeerd’) tot de poging is vastgelegd."
    ),
    "refusal.search.event_type": "geen soort gebeurtenis; kies uit {event_types}",
    "refusal.search.version": "geen berichtversie; kies uit {versions}",
    "refusal.rejected.source": "geen bron van invoer; kies uit {sources}",
    "refusal.search.destination": (
        "geen bestemming heeft dat id, en geen bericht in deze opslag ging naar zo'n "
        "bestemming; ingesteld: {known}"
    ),
    "refusal.search.destination_seen": (
        "geen bestemming die je mag zien heeft dat id, en geen bericht dat je mag zien ging "
        "naar zo'n bestemming; de jouwe: {known}"
    ),
    "refusal.audit.destination": (
        "geen bestemming heeft dat id, en geen auditregel of opgeslagen bericht noemt het; "
        "ingesteld: {known}"
    ),
    "refusal.audit.actor": (
        "geef person:<e-mailadres>, token:<naam>, local:<gebruiker> of engine:<taak> "
        "(of system of file, de eigen regels van de engine)"
    ),
    "refusal.audit.action": "geen actie van de audittrail; kies uit {actions}",
    "refusal.reason.required": "een reden is verplicht (die komt in de audittrail)",
    "refusal.reason.too_long": "hoogstens {max_length} tekens",
    "refusal.reason.holds_bsn": (
        "dit lijkt op een BSN: laat het weg (een reden blijft jaren in de audittrail, gelezen "
        "door mensen die geen patiëntgegevens mogen zien; het bericht of de gebeurtenis waar "
        "het om gaat noemt de patiënt al)"
    ),
    "refusal.access.cluster_unknown": (
        "geen bestemming hoort bij cluster {clusters}; de clusters die er zijn: {known}"
    ),
    "refusal.access.cluster_unknown_no_clusters": (
        "geen bestemming hoort bij cluster {clusters}; nog geen enkele bestemming noemt een cluster"
    ),
    "refusal.access.cluster_unknown_none_yours": (
        "geen bestemming hoort bij cluster {clusters}, en ook niet bij een ander cluster dat je "
        "beheert"
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
        "deze persoon heeft rollen buiten je clusters; een beheerder van die clusters moet dit doen"
    ),
    "refusal.access.role_needed": "geef minstens één rol",
    "refusal.access.grants_changed": (
        "de rollen zijn gewijzigd sinds deze pagina werd getoond; er is niets opgeslagen: "
        "bekijk ze opnieuw en maak de wijziging nog eens"
    ),
    "refusal.access.cluster_without_role": (
        "een rij noemt cluster {cluster} maar geen rol: kies de rol, of maak het cluster leeg"
    ),
    "refusal.access.keep_a_role": (
        "geef minstens één rol (om alle rollen in te trekken: deactiveer het account)"
    ),
    "refusal.access.deactivated": "dit account is gedeactiveerd",
    "refusal.access.deactivated_roles_kept": (
        "een rol intrekken bij deze persoon kan niet: het account is gedeactiveerd, en de rollen "
        "blijven zoals ze toen waren, nergens van kracht; er is niets gewijzigd"
    ),
    "refusal.access.deactivated_already": "dit account is al gedeactiveerd; er is niets gewijzigd",
    "refusal.access.no_such_grant": "deze persoon heeft geen actieve rol {grant}",
    "refusal.access.no_such_grant_held": (
        "deze persoon heeft geen actieve rol {grant}, van die rol wel {held}: noem het cluster"
    ),
    "refusal.access.not_invited": (
        "deze persoon is {person_status}, niet uitgenodigd: alleen wie de uitnodiging nog niet "
        "heeft geaccepteerd, kan die opnieuw krijgen"
    ),
    "refusal.access.email_invalid": "geen e-mailadres",
    "refusal.access.email_taken": (
        "dit e-mailadres heeft al een account of een openstaande uitnodiging; wie uitgenodigd "
        "is en nog niet heeft geaccepteerd, krijgt een nieuwe link als je de uitnodiging "
        "opnieuw stuurt"
    ),
    "refusal.access.email_deactivated": (
        "dit e-mailadres hoort bij een gedeactiveerd account: deactiveren is definitief, en "
        "het adres kan niet opnieuw worden uitgenodigd"
    ),
    "refusal.access.name_too_long": "hoogstens {most} tekens",
    "refusal.access.reset_own": (
        "je kunt je eigen tweede factor niet resetten: een andere beheerder doet dat, of een "
        "beheerder op de server"
    ),
    "refusal.access.reset_invited": (
        "deze persoon is uitgenodigd en heeft nog geen tweede factor: stuur de uitnodiging "
        "opnieuw voor een nieuwe link"
    ),
    "refusal.access.reset_not_active": (
        "deze persoon is {person_status}: alleen een actief account heeft een tweede factor om "
        "te resetten"
    ),
    "refusal.access.reset_gone": "dit account is niet meer actief; er is niets gereset",
    "refusal.access.token_name_rule": (
        "1 tot {most} letters, cijfers, '.', '_' of '-', te beginnen met een letter of cijfer"
    ),
    "refusal.access.token_name_taken": (
        "er bestaat al een token met deze naam (een ingetrokken token behoudt zijn naam); kies "
        "een andere naam"
    ),
    "refusal.access.token_validity": "meer dan 0 en hoogstens {days} dagen",
    "refusal.access.token_revoked_already": "token {name} was al ingetrokken",
    "refusal.console.days_whole": "een heel aantal dagen",
    "refusal.console.password_mismatch": "De twee wachtwoorden verschillen.",
    "refusal.destination.exists": (
        "bestemming {id} bestaat al; open die en kies Wijzigen om haar te veranderen"
    ),
    "refusal.destination.file_exists": "er bestaat al een bestemmingsbestand {id}.yaml",
    "refusal.destination.directory_unusable": (
        "de bestemmingenmap {directory} is er niet; er wordt niets gewijzigd tot die terug is"
    ),
    "refusal.destination.directory_empty": (
        "de bestemmingenmap {directory} bevat geen bestemmingsbestanden terwijl er bestemmingen "
        "in gebruik zijn (een volume niet gekoppeld?); er wordt niets gewijzigd tot hun "
        "bestanden terug zijn"
    ),
    "refusal.message.unknown": "geen bericht met id {id}",
    "refusal.resend.message_unknown": "geen bericht heeft een van deze ids",
    "refusal.deadletter.not_dead": "bericht {id} is {status}, geen onbestelbaar bericht",
    "refusal.deadletter.resolved_delivered": (
        "onbestelbaar bericht {id} was al opgelost: de herzending {by} is afgeleverd; er is "
        "niets veranderd"
    ),
    "refusal.deadletter.resolved_delivered_outside": (
        "onbestelbaar bericht {id} was al opgelost: een herzending ervan naar een bestemming "
        "buiten je clusters is afgeleverd; er is niets veranderd"
    ),
    "refusal.deadletter.resolved_discarded": (
        "onbestelbaar bericht {id} was al afgesloten (door {by}); er is niets veranderd"
    ),
    "refusal.console.select_dead_letter": (
        "er is niets gekozen: vink minstens één onbestelbaar bericht aan (of kies alles in de "
        "groep); er is niets gedaan"
    ),
    "refusal.job.stopped.resend": (
        "gestopt na {done} van {total}: je mag deze berichten niet meer herzenden (je account "
        "is gedeactiveerd, of de rol of het cluster is je afgenomen); de rest is niet herzonden"
    ),
    "refusal.job.stopped.discard": (
        "gestopt na {done} van {total}: je mag deze onbestelbare berichten niet meer afsluiten "
        "(je account is gedeactiveerd, of de rol of het cluster is je afgenomen); de rest is "
        "niet afgesloten"
    ),
    "refusal.console.search_first": (
        "zoek eerst: zeg welke berichten (een ZD-nummer, bestemming, status…)"
    ),
    "refusal.console.audit_csv_by_bsn": (
        "een zoekopdracht in de audittrail op BSN wordt niet geëxporteerd: zoek zonder het BSN "
        "om de regels te exporteren"
    ),
    "refusal.console.resend_too_many": (
        "de zoekopdracht vindt {found} berichten, meer dan {limit}, het maximum dat de console "
        "in één keer herzendt: beperk de zoekopdracht (een periode, een status), of laat "
        "herzenden via de API of op de server, die tot 100.000 aankunnen"
    ),
    "refusal.resend.no_selector": (
        "zeg welke berichten: zoek op ZD-nummer, bestemming, status, versie of periode"
    ),
    "refusal.resend.no_dead_letter_selector": "kies minstens één onbestelbaar bericht",
    "refusal.resend.too_many": (
        "de keuze omvat meer dan {limit} berichten, het maximum voor één herzending; beperk de "
        "keuze (een periode, een bestemming, een status) en herzend in delen"
    ),
    "refusal.resend.too_many_dead": (
        "de keuze omvat meer dan {limit} onbestelbare berichten, het maximum voor één keer; "
        "beperk de keuze (een periode, een bestemming) en doe het in delen"
    ),
    "refusal.resend.mode_unknown": (
        "kies een manier: dezelfde bytes opnieuw, of de gebeurtenis opnieuw omzetten"
    ),
    "refusal.resend.elsewhere_needs_remap": (
        "bericht {id} is gemaakt voor {made_for} (MSH-5/6); kies 'de gebeurtenis opnieuw "
        "omzetten' om het naar een andere bestemming te herzenden"
    ),
    "refusal.resend.destination_unknown": "geen ingestelde bestemming heeft dit id",
    "refusal.resend.skip.held": (
        "vastgehouden: het is nooit verstuurd; het gaat uit zodra de bestemming op een andere "
        "berichtversie is gezet"
    ),
    "refusal.resend.skip.remap_held": "{warnings}",
    "refusal.resend.skip.in_delivery": "wordt nog afgeleverd ({status}); niet herzonden",
    "refusal.resend.skip.retrying": (
        "wordt nog afgeleverd (wordt opnieuw geprobeerd): de volgende poging volgt op het "
        "geplande moment, of meteen met Nu proberen op de pagina van het bericht; niet "
        "herzonden"
    ),
    "refusal.try_now.not_waiting": (
        "het bericht heeft de status {status}: alleen een bericht dat op zijn volgende poging "
        "wacht, kan nu geprobeerd worden"
    ),
    "refusal.try_now.behind": (
        "het bericht heeft de status {status}: het wacht achter {behind}, dat op zijn volgende "
        "poging wacht; probeer dat nu"
    ),
    "refusal.try_now.resend_instead": (
        "het bericht heeft de status {status}: alleen een bericht dat op zijn volgende poging "
        "wacht, kan nu geprobeerd worden; herzend het in plaats daarvan"
    ),
    "refusal.try_now.paused": (
        "{destination} is gepauzeerd: de berichten ervan worden geprobeerd zodra de bestemming "
        "wordt hervat"
    ),
    "refusal.try_now.no_destination": "de bestemming van het bericht is niet meer ingesteld",
    "refusal.delivery.away.event": (
        "aflevering is niet beschikbaar (de message broker is weg of weigert berichten): de "
        "gebeurtenis en haar berichten zijn opgeslagen en gaan uit zodra die terug is; opnieuw "
        "insturen is niet nodig"
    ),
    "refusal.delivery.away.resend": (
        "aflevering is niet beschikbaar (de message broker is weg of weigert berichten): het "
        "herzonden bericht is opgeslagen en gaat uit zodra die terug is; nogmaals herzenden is "
        "niet nodig"
    ),
    "refusal.delivery.paused.resend": (
        "{destination} is gepauzeerd: het herzonden bericht wacht en gaat uit zodra de "
        "bestemming wordt hervat"
    ),
    "refusal.delivery.away.route": (
        "aflevering is niet beschikbaar (de message broker is weg of weigert berichten): de "
        "berichten zijn opgeslagen en gaan uit zodra die terug is; de gebeurtenis opnieuw "
        "routeren is niet nodig"
    ),
    "refusal.resend.skip.resent_already": (
        "al herzonden naar {destination} als {id} ({status}); herzend het vanaf de eigen "
        "pagina van het bericht, of zoek op het ZD-nummer, om het nogmaals te herzenden"
    ),
    "refusal.resend.skip.resent_elsewhere": (
        "al herzonden naar {elsewhere} als {id} ({status}), dus niet ook naar {destination}; "
        "herzend het vanaf de eigen pagina van het bericht, of zoek op het ZD-nummer, om het "
        "ook daarheen te sturen"
    ),
    "refusal.resend.skip.resent_since": (
        "intussen herzonden als {id}; niet nogmaals herzonden: bekijk die herzending en "
        "bevestig opnieuw als het nog nodig is"
    ),
    "refusal.resend.skip.resends_changed": (
        "de herzendingen zijn veranderd sinds ze getoond werden; niet herzonden: bekijk het "
        "bericht opnieuw"
    ),
    "refusal.resend.skip.destination_unknown": "bestemming {destination} is niet ingesteld",
    "refusal.resend.skip.resent_outside": (
        "al herzonden naar een bestemming buiten je clusters, dus niet ook naar {destination}; "
        "herzend het vanaf de eigen pagina van het bericht, of zoek op het ZD-nummer, om het ook "
        "daarheen te sturen"
    ),
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
    "refusal.resend.left_out.resolved_outside": (
        "al opgelost: een herzending ervan naar een bestemming buiten je clusters is "
        "afgeleverd; niet nog eens herzonden"
    ),
    "refusal.resend.left_out.later_dead_outside": (
        "de latere herzending {id} is ook onbestelbaar en staat ervoor in de plaats, maar werd "
        "buiten de periode onbestelbaar: herzend die (op het id, of met een periode waarin die "
        "valt)"
    ),
    "refusal.resend.left_out.outside_period": (
        "buiten de getoonde periode onbestelbaar geworden; niet herzonden"
    ),
    "refusal.resend.left_out.discarded": (
        "afgesloten nadat de lijst getoond werd; er is niets te herzenden"
    ),
    "refusal.resend.skip.discarded_since": "afgesloten nadat het gekozen werd; niet herzonden",
    "refusal.resend.skip.discarded": (
        "afgesloten door een supportmedewerker; niet herzonden (herzend het vanaf de eigen "
        "pagina van het bericht om het opnieuw te sturen)"
    ),
    "refusal.deadletter.chain_member": (
        "hoort bij de herzendketen van {id}: hetzelfde bericht naar dezelfde bestemming, ook "
        "onbestelbaar; wordt mee afgesloten"
    ),
    "refusal.deadletter.stays.other_destination": (
        "onbestelbaar bericht voor {destination}, een andere bestemming: sluit het apart af "
        "als het daar ook niet meer nodig is"
    ),
    "refusal.deadletter.stays.in_delivery": (
        "een herzending die nog onderweg is ({status}); wordt die onbestelbaar, dan is het een "
        "apart onbestelbaar bericht"
    ),
    "refusal.console.data_key_unknown": (
        "een opgeslagen gegeven is versleuteld met datasleutel {kid}, waarmee deze engine niet "
        "gestart is; vraag de beheerder van de server de engine met die sleutel opnieuw te "
        "starten (INTEGRATOR_DATA_KEYS)"
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
    "refusal.password.too_long": "een wachtwoord heeft hoogstens {most} tekens",
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
    "refusal.form.choice": "geen van de keuzes die de pagina biedt",
    "refusal.form.nul": "mag geen NUL-teken (tekencode 0) bevatten",
    "refusal.definition.unknown_key": "onbekende sleutel",
    "refusal.definition.unknown_key_close": "onbekende sleutel (bedoel je {close}?)",
    "refusal.definition.int_type": "moet een heel getal zijn",
    "refusal.definition.float_type": "moet een getal zijn",
    "refusal.definition.finite_number": "moet een eindig getal zijn",
    "refusal.definition.bool_type": "moet ja of nee zijn (true of false)",
    "refusal.definition.string_type": "moet tekst zijn",
    "refusal.definition.greater_than": "moet meer dan {gt} zijn",
    "refusal.definition.greater_than_equal": "moet minstens {ge} zijn",
    "refusal.definition.less_than_equal": "moet hoogstens {le} zijn",
    "refusal.definition.string_too_long": "hoogstens {max_length} tekens",
    "refusal.definition.string_too_short": "minstens {min_length} tekens",
    "refusal.definition.blank": "mag niet leeg zijn",
    "refusal.definition.ack_mode": "kies 'original' of 'enhanced'",
    "refusal.definition.ordering": "kies 'fifo' of 'rotate'",
    "refusal.definition.on_ack": "kies 'retry' of 'deadletter'",
    "refusal.definition.event_type": (
        "onbekende soort gebeurtenis: de sleutels zijn referral en diagnostic_request"
    ),
    "refusal.definition.event_type_close": (
        "onbekende soort gebeurtenis: de sleutels zijn referral en diagnostic_request "
        "(bedoel je {close}?)"
    ),
    "refusal.definition.duration": (
        "moet een tijdsduur zijn zoals 500ms, 30s, 10m of 24h (een getal zonder eenheid is "
        "in seconden)"
    ),
    "refusal.definition.duration_too_long": "mag hoogstens {most} zijn",
    "refusal.definition.max_delay": "mag niet korter zijn dan retry.initial",
    "refusal.definition.file_missing": "het bestand bestaat niet",
    "refusal.definition.file_is_directory": "is een map, geen bestand",
    "refusal.definition.file_unreadable": "het bestand is niet te lezen",
    "refusal.definition.outside_tls_dir": (
        "moet een bestand in de TLS-map zijn, {setting} ({directory})"
    ),
    "refusal.definition.tls_dir_missing": (
        "kan niet worden gebruikt: de TLS-map {directory} ({setting}) bestaat niet; de "
        "beheerder van de server maakt die map en zet de certificaat- en sleutelbestanden "
        "van de bestemmingen erin"
    ),
    "refusal.definition.tls_dir_not_a_directory": (
        "kan niet worden gebruikt: de TLS-map {directory} ({setting}) is geen map; de "
        "beheerder van de server maakt die map en zet de certificaat- en sleutelbestanden "
        "van de bestemmingen erin"
    ),
    "refusal.definition.outside_cluster_tls_dir": (
        "moet een bestand in de TLS-map van cluster {cluster} zijn, {directory} "
        "({setting}/{subdirectory})"
    ),
    "refusal.definition.cluster_tls_dir_missing": (
        "kan niet worden gebruikt: de TLS-map van cluster {cluster}, {directory} "
        "({setting}/{subdirectory}), bestaat niet; de beheerder van de server maakt die map en "
        "zet de certificaat- en sleutelbestanden van de bestemmingen van het cluster erin"
    ),
    "refusal.definition.cluster_tls_dir_not_a_directory": (
        "kan niet worden gebruikt: de TLS-map van cluster {cluster}, {directory} "
        "({setting}/{subdirectory}), is geen map; de beheerder van de server maakt die map en "
        "zet de certificaat- en sleutelbestanden van de bestemmingen van het cluster erin"
    ),
    "refusal.definition.tls_dir_no_cluster_name": (
        "kan niet worden gecontroleerd zolang cluster geen clusternaam is: de bestanden moeten "
        "in de TLS-map van het cluster van de bestemming staan ({setting})"
    ),
    "refusal.definition.key_needs_cert": "key_file kan alleen samen met cert_file",
    "refusal.definition.server_name": "moet een hostnaam zonder spaties zijn",
    "refusal.definition.needs_rotate": (
        "moet rotate zijn als er meer dan 1 verbinding is (parallelle verbindingen kunnen de "
        "fifo-volgorde niet aanhouden)"
    ),
    "refusal.definition.ack_type": (
        "kies AL, NE, ER of SU (HL7-tabel 0155: altijd, nooit, alleen bij een fout, alleen bij "
        "succes)"
    ),
    "refusal.definition.ack_type_needs_enhanced": (
        "geldt alleen bij ack_mode: enhanced (in original-modus blijven MSH-15/16 leeg); laat "
        "het weg of kies ack_mode: enhanced"
    ),
    "refusal.definition.success_unanswered": (
        "moet AL of SU zijn als accept_ack_type NE of ER is (niet ingesteld is het NE): anders "
        "beantwoordt de ontvanger een bericht dat hij aannam nooit, en de engine telt een "
        "bericht pas als afgeleverd bij een ACK"
    ),
    "refusal.definition.id": (
        "alleen a-z, 0-9 en '-', beginnend en eindigend met een letter of cijfer, met een letter "
        "erin"
    ),
    "refusal.definition.provider_empty": "een id van een zorgaanbieder mag niet leeg zijn",
    "refusal.definition.provider_control": (
        "een id van een zorgaanbieder mag geen stuurtekens bevatten"
    ),
    "refusal.definition.provider_twice": "elke zorgaanbieder mag maar één keer voorkomen",
    "refusal.definition.providers_list": (
        "moet een lijst van ids van zorgaanbieders zijn, zoals [lab-west, lab-east]"
    ),
    "refusal.definition.messages_mapping": (
        "moet per soort bericht (referral, diagnostic_request) een berichtversie noemen"
    ),
    "refusal.definition.section": "moet bestaan uit sleutels uit {keys}, elk naar keuze",
    "refusal.definition.rate_limit": (
        "moet een aantal berichten per seconde zijn, decimaal geschreven (10, 0.5, 1000), of "
        "null voor geen limiet"
    ),
    "refusal.definition.port": "moet een heel getal van 1 tot en met 65535 zijn",
    "refusal.definition.host": "moet een hostnaam of adres zonder spaties zijn",
    "refusal.definition.host_url": (
        "moet een hostnaam of adres zijn, geen URL (de poort hoort bij Poort)"
    ),
    "refusal.definition.host_port": (
        "moet een hostnaam of adres zonder poort zijn (de poort hoort bij Poort; een IPv6-adres "
        "zonder haken)"
    ),
    "refusal.definition.host_name": (
        "moet een hostnaam (letters, cijfers, '-', '.', '_') of een adres zijn"
    ),
    "refusal.definition.version_needed": (
        "kies een berichtversie voor verwijzingen, voor aanvragen, of voor allebei"
    ),
    "refusal.definition.version_name": (
        "moet de naam van een berichtversie zijn, in kleine letters: a-z, 0-9 en '-', zoals "
        "ref-v2 of orm-v3 (de pagina Berichtversies noemt ze)"
    ),
    "refusal.definition.one_line": "moet één regel zijn, zonder stuurtekens",
    "refusal.definition.cluster_name": (
        "mag niet leeg zijn en niet met witruimte beginnen of eindigen"
    ),
    "refusal.definition.msh_value": "moet één regel zijn, zonder '|' en zonder stuurtekens",
    "refusal.definition.version_unknown": ("onbekende berichtversie '{version}' (bekend: {known})"),
    "refusal.definition.version_event_type": (
        "berichtversie '{version}' is voor berichten van de soort {event_type}"
    ),
    "refusal.definition.version_retired": (
        "berichtversie '{version}' is buiten gebruik; kies de opvolger '{successor}'"
    ),
    "refusal.definition.not_a_mapping": "moet bestaan uit sleutels met hun waarden",
    "refusal.definition.not_utf8": "is geen UTF-8-tekst",
    "refusal.definition.unreadable": "is niet te lezen ({why})",
    "refusal.definition.not_a_file": "is {entry}, geen bestand",
    "refusal.entry.directory": "een map",
    "refusal.entry.link_to_nothing": (
        "een symbolische koppeling naar niets (waar hij naar wijst, bestaat niet)"
    ),
    "refusal.entry.special": "een pipe, socket of apparaat",
    "refusal.definition.key_twice": "komt meer dan één keer voor (regel {line})",
    "refusal.definition.empty": "het bestand is leeg",
    # The YAML parser's own words, which it has only in English.
    "refusal.definition.yaml_syntax": "YAML-syntaxfout: {problem}",
    "refusal.definition.directory_missing": "bestaat niet",
    "refusal.definition.directory_not_a_directory": "is geen map",
    "refusal.definition.file_of_another": (
        "'{id}' is de bestemming van {file}; het bestand van een bestemming heet <id>.yaml, "
        "dus dit bestand is geweigerd (geef het een eigen id en naam, of verwijder het)"
    ),
    "refusal.definition.file_misnamed": (
        "'{id}' past niet bij de bestandsnaam; het bestand van een bestemming heet <id>.yaml, "
        "dus dit bestand is geweigerd (hernoem het naar {file})"
    ),
    "refusal.definition.ending_case": (
        "eindigt op {ending}, en dat wordt niet gelezen: het bestand van een bestemming heet "
        "<id>.yaml, in kleine letters (hernoem het naar {file})"
    ),
    "refusal.definition.id_of_removed": (
        "bestemming '{id}' is verwijderd uit cluster {cluster}, en de berichten ervan blijven "
        "in dat cluster: voeg haar opnieuw toe in cluster {cluster}, of kies een ander id"
    ),
    "refusal.definition.id_of_removed_no_cluster": (
        "bestemming '{id}' is verwijderd toen ze in geen cluster lag, en de berichten ervan "
        "blijven zonder cluster, alleen voor wie toegang tot alle clusters heeft: voeg haar "
        "opnieuw toe zonder cluster, of kies een ander id"
    ),
    "refusal.destination.cluster_not_yours": (
        "je mag geen bestemming in cluster {cluster} plaatsen"
    ),
    "refusal.destination.provider_elsewhere": (
        "zorgaanbieder {provider} wordt bediend door een bestemming buiten je clusters; vraag "
        "het iemand met toegang tot alle clusters"
    ),
    "refusal.destination.id_not_yours": (
        "je mag het id {id} niet gebruiken: het is, of was, een bestemming buiten je clusters; "
        "kies een ander id, of vraag het iemand met toegang tot alle clusters"
    ),
    "refusal.destination.no_cluster": (
        "je mag geen bestemming zonder cluster plaatsen (daarvoor is de rol voor alle "
        "clusters nodig)"
    ),
    "refusal.destination.event_type_not_taken": (
        "bestemming '{destination}' neemt geen berichten van de soort {event_type}; wel: {taken}"
    ),
    "refusal.destination.test_held": (
        "kan geen testbericht in {version} maken: de engine houdt berichten in die versie nu "
        "vast (buiten gebruik, zonder auto_upgrade die ze kan omzetten); geef de bestemming een "
        "ondersteunde versie"
    ),
    "refusal.destination.paused_test": (
        "bestemming '{destination}' is gepauzeerd: het verkeer is bewust stilgezet, dus er is "
        "geen testbericht verstuurd; hervat de bestemming eerst, of vink het vakje aan om er "
        "toch een te versturen (komt in de audittrail)"
    ),
    "refusal.destination.no_revision": "bestemming '{id}' heeft geen revisie {revision}",
    "refusal.destination.provider_shared": (
        "zorgaanbieder {provider} wordt ook bediend door {others}: elke gebeurtenis van die "
        "zorgaanbieder gaat naar allemaal (is {id} een kopie, wijzig dan de zorgaanbieders)"
    ),
    "refusal.destination.revision_removal": (
        "revisie {revision} van '{id}' is het verwijderen ervan; kies een andere"
    ),
    "refusal.destination.directory_unreadable": (
        "de engine kan zijn map met bestemmingen niet lezen (de bestemmingsbestanden opsommen "
        "vraagt lees- en uitvoerrecht op die map); er is niets getoond: vraag de beheerder van "
        "de server de eigenaar en rechten van de map na te kijken (het log van de engine noemt "
        "de map)"
    ),
    "refusal.destination.directory_unwritable": (
        "de engine kan niet schrijven in zijn map met bestemmingen (een bestemming wijzigen "
        "vraagt schrijf- en uitvoerrecht op die map); er is niets gewijzigd: vraag de beheerder "
        "van de server de eigenaar en rechten van de map na te kijken (het log van de engine "
        "noemt de map)"
    ),
    "refusal.destination.file_is_directory": (
        "{file} is een map, geen bestand; er is niets gewijzigd: haal de map uit de map met "
        "bestemmingen en doe de wijziging opnieuw"
    ),
    "refusal.destination.broken": (
        "bestemming '{id}' is defect en heeft geen goede definitie om mee verder te werken; het "
        "bestand moet op de server hersteld worden"
    ),
    "refusal.console.remove_busy": (
        "er {count|wacht|wachten} nog {count} {count|bericht|berichten} op deze bestemming, dus "
        "er is niets verwijderd: laat {count|het|ze} eerst afleveren, of vink het vakje "
        "hierboven aan om {count|het|ze} onbestelbaar te maken"
    ),
    "refusal.console.remove_stranded": (
        "er {count|wacht|wachten} {count} {count|bericht|berichten} op {destination}, die door "
        "geen bestand meer wordt beschreven (het bestand is met de hand verwijderd); er is "
        "niets gedaan. Om {count|het|ze} te versturen: breng de bestemming terug door terug te "
        "zetten op de pagina met de geschiedenis; om {count|het|ze} onbestelbaar te maken: "
        "breng de bestemming eerst terug en verwijder die dan met het vakje aangevinkt"
    ),
    "refusal.console.revision_whole": "moet een heel getal zijn",
    "refusal.console.rollback_refused": "revisie {revision}: {key}: {problem}",
    "refusal.console.definition_refused": "{source}: {key}: {problem}",
    "refusal.console.no_message": "geen bericht om te herzenden",
    "refusal.console.method": (
        "dit adres is het antwoord op een formulier, geen pagina om te openen: ga terug naar "
        "de pagina waar het formulier op stond"
    ),
    "refusal.console.method_not_taken": (
        "dit adres werkt niet met die methode; het werkt met {allowed}"
    ),
    "refusal.console.invitation_form_changed": (
        "dit formulier kwam gewijzigd of onvolledig terug; open de link opnieuw (Verder "
        "hieronder) en scan de nieuwe code die je dan ziet"
    ),
    "refusal.access.token_beyond_own": (
        "een eigen token heeft alleen rollen die je zelf hebt, niet {grant}; je hebt {held}"
    ),
    "refusal.access.person_patient_data": (
        "{role} leest patiëntgegevens: alleen wie daar zelf {role} heeft, geeft die rol, dus je "
        "mag {grant} niet geven; iemand die de rol heeft, kan hem geven, of een beheerder op "
        "de server"
    ),
    "refusal.access.link_patient_data": (
        "de link wordt niet aan jou getoond: het account heeft {grant}, een rol "
        "die patiëntgegevens leest, en jij hebt daar geen {role}; met een mailserver gaat de "
        "link alleen naar de persoon zelf, of een beheerder op de server maakt hem"
    ),
    "refusal.access.token_patient_data": (
        "{role} leest patiëntgegevens: een token dat hier wordt gemaakt, mag die rol alleen "
        "hebben waar je zelf {role} hebt, dus niet {grant}; iemand die de rol heeft, maakt dat "
        "token, of een beheerder op de server"
    ),
    "refusal.access.token_suspended_maker": (
        "{role} leest patiëntgegevens, en een token dat in de console of via de API is gemaakt, "
        "heeft die rol alleen waar wie het maakte die rol nu heeft: die heeft {grant} niet "
        "meer"
    ),
    "refusal.access.token_suspended_maker_deactivated": (
        "{role} leest patiëntgegevens, en een token dat in de console of via de API is gemaakt, "
        "heeft die rol alleen waar wie het maakte die rol nu heeft: dat account is "
        "gedeactiveerd"
    ),
    "refusal.access.token_suspended_maker_token": (
        "{role} leest patiëntgegevens, en een token dat via de API is gemaakt, heeft die rol "
        "alleen waar het token dat het maakte die rol nu heeft, en dat heeft {grant} niet meer"
    ),
    "refusal.access.token_suspended_owner": (
        "een eigen token heeft alleen wat de eigenaar heeft, en de eigenaar heeft {grant} niet meer"
    ),
    "refusal.access.token_suspended_one_cluster": (
        "{grant} werkt nergens: deze rol werkt alleen voor alle clusters en wordt niet meer voor "
        "één cluster gegeven; maak een token met deze rol voor alle clusters"
    ),
    "refusal.access.token_outlives_maker": (
        "hoogstens tot {until}, wanneer het token verloopt waarmee dit token gemaakt wordt: een "
        "token dat met een token is gemaakt, stopt met dat token"
    ),
    "refusal.access.token_id_short": "geef het id van het token, of minstens de eerste 4 tekens",
    "refusal.access.token_name_given": (
        "{name} is de naam van token {id}: geef het id ervan, {id}"
    ),
    "refusal.access.token_unknown": "geen token met dat id",
    "refusal.access.person_unknown": "geen account heeft dit e-mailadres",
    "refusal.access.token_ambiguous": (
        "{id} is het begin van {count} token-ids: geef meer van het id"
    ),
    "refusal.access.own_account": (
        "je kunt je eigen rollen niet wijzigen en je eigen account niet deactiveren: een andere "
        "beheerder doet dat, of een beheerder op de server"
    ),
    "refusal.access.role_unknown": "onbekende rol {role} (kies uit: {known})",
    "refusal.access.role_for_all_clusters": (
        "{role} wordt alleen voor alle clusters gegeven: laat het cluster {cluster} weg"
    ),
    "refusal.access.cluster_name": (
        "de naam van cluster {cluster} mag niet leeg zijn en niet met witruimte beginnen of "
        "eindigen (laat het cluster weg voor alle clusters)"
    ),
    "refusal.access.mail_failed": (
        "de persoon is uitgenodigd, maar de uitnodiging kon niet worden verstuurd: {why}. "
        "Niemand heeft de link gezien; stuur de uitnodiging opnieuw zodra de mail werkt"
    ),
    "refusal.access.mail_failed_reset": (
        "de tweede factor is gereset, maar de instellink kon niet worden verstuurd: {why}. "
        "Niemand heeft de link gezien; stuur de uitnodiging opnieuw zodra de mail werkt"
    ),
    "refusal.mail.not_sent": "er is geen mail verstuurd via {server} ({why})",
    "refusal.mail.refused": "de mailserver {server} weigerde het bericht (SMTP {answer})",
    "refusal.events.unknown": "geen gebeurtenis met id {id}",
    "refusal.events.ids_too_many": "hoogstens {most} tegelijk",
    "refusal.events.not_an_id": (
        "id {position} is geen id van een gebeurtenis (een UUID, of het begin ervan)"
    ),
    "refusal.events.too_many": (
        "meer dan {most} gebeurtenissen zonder bestemming: routeer ze via de API of op de "
        "server, een periode tegelijk"
    ),
    "refusal.events.provider_unknown": (
        "geen bestemming bedient die zorgaanbieder, en geen opgeslagen gebeurtenis noemt hem; "
        "bediend: {served}"
    ),
    "refusal.events.route.unserved": "nog geen bestemming bedient zorgaanbieder '{provider}'",
    "refusal.events.route.pruned": (
        "de inhoud is op {date} opgeschoond (bewaartermijn); de gebeurtenis kan niet worden omgezet"
    ),
    "refusal.events.route.event_invalid": (
        "de opgeslagen gebeurtenis voldoet niet meer aan de regels; ze kan niet worden omgezet"
    ),
    "refusal.events.route.event_type_not_taken": (
        "bestemming '{destination}' neemt geen berichten van de soort {event_type}"
    ),
    "refusal.events.route.already": (
        "heeft al een bericht voor {destinations}; niet nog eens verstuurd"
    ),
    "refusal.events.route.meanwhile": (
        "intussen door iemand anders naar {destinations} gerouteerd; niet nog eens verstuurd"
    ),
}
