"""The words of the operations and administration pages (destinations, versions, dead letters,
unrouted events, rejected input, audit, people, tokens), merged into
``integrator.console.i18n``'s catalogue.

Kept apart so each group of pages can grow its words without touching the other's.
"""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    "nav.destinations": "Destinations",
    "nav.versions": "Message versions",
    "nav.deadletters": "Dead letters",
    "nav.unrouted": "Unrouted events",
    "nav.rejected": "Rejected input",
    "nav.audit": "Audit trail",
    "nav.people": "People",
    "nav.tokens": "API tokens",
    "yes": "yes",
    "no": "no",
    "dest.list.title": "Destinations",
    "dest.list.empty": "No destinations you may see.",
    "dest.list.stray_files": (
        "Refused, not in service: these files in the destinations directory are no "
        "destination's own (a destination's file is named <id>.yaml), so they change nothing. "
        "Rename, fix or delete them."
    ),
    "dest.list.stray_rule": "{key}: {rule}",
    "dest.list.refused_copies": (
        "{id}: {count} refused hand {count|edit|edits} kept beside its file, the oldest {days} "
        "{days|day|days} old ({files}); put back what was meant, then delete them: the engine "
        "never does"
    ),
    "dest.add": "Add a destination",
    "dest.id": "Id",
    "dest.name": "Name",
    "dest.cluster": "Cluster",
    "dest.state": "State",
    "dest.paused_at": "Paused since",
    "dest.paused_by": "Paused by",
    "dest.resumed_at": "Last resumed",
    "dest.address": "Address",
    "dest.messages": "Message versions",
    "dest.title": "Destination {id}",
    "dest.saved": "Saved as revision {revision}.",
    "people.done.roles": "Roles saved.",
    "people.done.roles_links_stopped": (
        "Roles saved. The role given reads patient data, so the link this person had not used "
        "yet stopped working: send the invitation again (by e-mail, or shown only to an admin "
        "who holds that role there)."
    ),
    "people.done.role_taken": "Role taken away.",
    "people.done.deactivated": "Account deactivated.",
    "dest.history": "History",
    "dest.edit": "Edit",
    "dest.refused": "The file is refused: {key}: {rule}",
    "dest.file": "File",
    "dest.providers": "Providers",
    "dest.host": "Host",
    "dest.port": "Port",
    "dest.receiving": "Receiving application / facility",
    "dest.receiving_application": "Receiving application (MSH-5)",
    "dest.receiving_facility": "Receiving facility (MSH-6)",
    "dest.ack_mode": "ACK mode",
    "dest.accept_ack_type": "Accept ACK type (MSH-15, enhanced mode)",
    "dest.application_ack_type": "Application ACK type (MSH-16, enhanced mode)",
    "dest.ack_types": "MSH-15 / MSH-16",
    "dest.ack_types_original": "empty (original mode)",
    "dest.ack_type_default": "{value} (default)",
    "dest.form.ack_type_default": "Default ({value})",
    "dest.form.ack_type_hint": (
        "AL always, NE never, ER on error only, SU on success only; only with ACK mode enhanced"
    ),
    "dest.connect_timeout": "Connect timeout",
    "dest.ack_timeout": "ACK timeout",
    "dest.connections": "Connections",
    "dest.ordering": "Ordering",
    "dest.rate_limit": "Rate limit (messages per second)",
    "dest.auto_upgrade": "Move to the successor version by itself after a sunset",
    "dest.timeouts": "Connect / ACK timeout",
    "dest.no_rate_limit": "no limit",
    "dest.retry": "Retrying failed attempts",
    "dest.retry.policy": (
        "first after {initial}, each wait ×{multiplier} up to {max_delay}; gives up after "
        "{max_attempts} attempts or {max_age}; ACK AE/CE: {on_error}, AR/CR: {on_reject}"
    ),
    "dest.tls": "TLS",
    "dest.enabled": "Active (unticked: paused)",
    "dest.pause_resume": "Pause or resume",
    "dest.try_now": "Waiting retries",
    "dest.try_now.waiting": (
        "{count} {count|message waits for its|messages wait for their} next attempt."
    ),
    "dest.try_now.button": "Try the waiting retries now",
    "dest.try_now.done": (
        "An attempt was started for {count} waiting {count|message|messages} when the button was "
        "pressed; {count|its status shows|their statuses show} the outcome."
    ),
    "dest.test": "Send a test message",
    "dest.test.event": "Message type",
    "dest.test.send": "Send test message",
    "dest.test.even_if_paused": (
        "Send it although this destination is paused (recorded in the audit log)"
    ),
    "dest.test.result": "Result of the test message",
    "dest.test.outcome": "Outcome",
    "dest.test.ack_code": "ACK code",
    "dest.test.version": "Message version",
    "dest.test.control_id": "Control id (MSH-10)",
    "dest.test.round_trip": "Round trip",
    "once.again.test": (
        "This test message was already sent at {at} by {by}; nothing was sent again. Send "
        "another with the form above."
    ),
    "dest.unchanged": "Nothing changed: the destination is as it was.",
    "dest.remove": "Remove this destination",
    "dest.remove.hint": (
        "Deletes its file, so nothing is sent to it any more. The next page says what becomes "
        "of the messages still waiting for it, and asks you to confirm."
    ),
    "dest.remove.start": "Remove this destination…",
    "dest.remove.title": "Remove destination {id}?",
    "dest.remove.what": (
        "Its file is deleted: the engine stops sending to it and makes no new messages for it. "
        "Events for its providers that no other destination serves wait as unrouted events."
    ),
    "dest.remove.kept": (
        "Its history and its messages are kept, and stay with this destination's cluster: its "
        "support staff keep reading its messages and dead letters. A rollback to one of its "
        "revisions brings it back."
    ),
    # The dashboard: the open dead letters of removed destinations, which no tile shows.
    "dashboard.removed_dead_letters": "Dead letters of removed destinations:",
    "dashboard.removed_dead_letters_of": "{destination}: {count}",
    # A search by ZD number that found nothing, for who cannot see rejected input or unrouted
    # events (they lie in no cluster): that it may be there, and who can look; never whether.
    "messages.zd_unseen": (
        "Expected something? Input with this ZD number may have been refused at intake, or may "
        "wait because no destination serves its provider yet. Such input lies in no cluster: "
        "people with access to all clusters can look it up (Rejected input, Unrouted events)."
    ),
    "events.rejected_one": "No events; 1 rejected input with this ZD number: intake refused it.",
    "events.rejected_many": (
        "No events; {count} rejected inputs with this ZD number: intake refused them."
    ),
    # A start of an event id in its page's address (/events/<start>), as for a message's.
    "event.lookup.title": "Which event?",
    "event.lookup.ambiguous": (
        "Several events have an id starting like this. Choose one, or give more characters."
    ),
    "event.lookup.unknown": "No event you may see has this id, or an id starting like it.",
    "event.lookup.short": "Give at least {min} characters of an event id.",
    "dest.remove.waiting": (
        "{count} {count|message is|messages are} waiting for it now (queued, retrying or held)."
    ),
    "dest.remove.none_waiting": "No messages are waiting for it now.",
    "dest.remove.force": "Make the waiting messages dead letters and remove it anyway",
    "dest.remove.force_hint": (
        "Not ticked, nothing is removed while any message waits for this destination: deliver "
        "them first (resume it if it is paused). Ticked, the messages waiting when you press "
        "the button are never sent to it: they become dead letters, with your reason, and are "
        "listed under Dead letters, from where support can resend them to another destination "
        "or close them."
    ),
    "dest.remove.reason": "Reason for removing {id}",
    "dest.remove.button": "Remove {id}",
    "dest.remove.done_title": "Destination {id} removed",
    "dest.remove.done": (
        "Destination {id} removed, as revision {revision}: its file is deleted, its history kept."
    ),
    "dest.remove.dead_lettered": (
        "{count} waiting {count|message is a dead letter|messages are dead letters} now, with "
        "your reason."
    ),
    "dest.remove.dead_letters_link": "See them under Dead letters.",
    "dest.remove.none_dead_lettered": "No message was waiting, so none became a dead letter.",
    "dest.remove.back_to_list": "Back to the destinations",
    "once.again.remove": "This was already done at {at} by {by}; nothing was removed again.",
    "dest.gone.title": "Destination {id} was removed",
    "dest.gone.removed": (
        "Destination {id} was removed at {at} by {by} (revision {revision}): its file is "
        "deleted, so nothing is sent to it any more."
    ),
    "dest.gone.by_hand": (
        "The file of destination {id} was deleted by hand; the engine recorded that at {at} "
        "(revision {revision}), and nothing is sent to it any more."
    ),
    "dest.gone.nothing_done": (
        "Nothing was done: destination {id} had been removed already when you pressed the button."
    ),
    "dest.cert.cert_file": "Client certificate (tls.cert_file)",
    "dest.cert.ca_file": "CA certificates (tls.ca_file)",
    "dest.cert.expires": "expires {at} (in {days} {days|day|days})",
    "dest.cert.expired": "expired {at}",
    "dest.cert.soon": (
        "{file} expires {at}, in {days} {days|day|days}. Renew it in place, under the same "
        "path: the engine uses the new file from its next connection, no restart needed. Once "
        "it has expired, every delivery to this destination fails."
    ),
    "dest.cert.expired_warning": (
        "{file} expired {at}: every delivery to this destination fails until it is renewed in "
        "place, under the same path (the engine uses the new file from its next connection)."
    ),
    "dest.edit.title": "Edit destination {id}",
    "dest.back": "Back to destination {id}",
    "dest.form.refused": "Not saved: correct the fields marked below.",
    "dest.form.id_hint": "a-z, 0-9 and '-'; cannot be changed later",
    "dest.form.providers_hint": "Provider ids, separated by commas",
    "dest.form.duration_hint": "Like 500ms, 30s, 10m or 24h; empty: the default",
    "dest.form.rate_hint": "Empty: no limit",
    "dest.form.version": "Message version for {event_type}",
    "dest.form.no_version": "(not sent)",
    "dest.form.rest_hint": (
        "Retry and TLS settings are kept as they are; change them in the file or through the API."
    ),
    "dest.form.rest_hint_new": (
        "Retry and TLS settings take their defaults (retry from 2s, up to 20 attempts or 24h; no "
        "TLS); change them in the file or through the API."
    ),
    "dest.form.reason": "Reason (goes into the history)",
    "dest.form.save": "Save",
    "dest.form.changed": (
        "Not saved: {id} was changed since you opened it: revision {revision} by {actor} at "
        "{at}, “{what}”."
    ),
    "dest.form.changed_keys": "Changed then: {keys}.",
    "dest.form.changed_many": (
        "Not saved: {id} was changed {count} times since you opened it (revisions {revisions}, "
        "by {actors}); the latest, revision {revision} by {actor} at {at}, “{what}”."
    ),
    "dest.form.changed_touched": "What changed: {keys}.",
    "dest.form.changed_key": "{key} in revision {revisions} by {actors}",
    "dest.form.changed_next": (
        "Your changes are kept below, on top of the destination as it is now. Look at the "
        "change and save again."
    ),
    "dest.form.changed_look": "Look at the change in the history",
    "dest.form.changed_by_hand": (
        "Not saved: the file of {id} was edited by hand since you opened the form, and the "
        "engine has not recorded that yet. Wait a moment and save again."
    ),
    "dest.form.unheld": (
        "No one holds cluster {cluster}: the people of {previous} will no longer see this "
        "destination; the clusters in use are: {in_use}."
    ),
    "dest.form.unheld_new": (
        "No one holds cluster {cluster}: only those who hold all clusters will see this "
        "destination; the clusters in use are: {in_use}."
    ),
    "dest.form.unheld_confirm": "Put it in cluster {cluster} anyway",
    "dest.history.title": "History of {id}",
    "dest.history.empty": "No revisions recorded.",
    "dest.history.revision": "Revision {revision}",
    "dest.history.reason": "Reason: {reason}",
    "history.action.add": "added",
    "history.action.update": "changed",
    "history.action.pause": "paused",
    "history.action.resume": "resumed",
    "history.action.remove": "removed",
    "history.action.file": "file edited by hand",
    "history.action.rollback": "rolled back to revision {revision}",
    "history.actor.file": "the file",
    "history.diff.before": "before",
    "history.diff.after": "after",
    "dest.rollback": "Roll back to revision {revision}",
    "dest.rollback.reason": "Reason for rolling back to revision {revision}",
    "dest.rollback.keeps_state": (
        "A rollback restores a revision's definition but keeps the destination paused or "
        "active as it is now: pausing and resuming are actions of their own."
    ),
    "dest.rollback.confirm": "Roll back to revision {revision}? It applies to the next delivery.",
    "dest.rollback.changed_next": (
        "Nothing was rolled back. Look at the change, then roll back again if you still want to."
    ),
    "versions.title": "Message versions",
    "versions.intro": (
        "Each version's status today, its sunset and successor, and your destinations that use it."
    ),
    "versions.name": "Version",
    "versions.event_type": "Event type",
    "versions.hl7": "HL7",
    "versions.status": "Status",
    "versions.status.current": "current",
    "versions.status.deprecated": "deprecated",
    "versions.status.retired": "retired",
    "versions.sunset": "Sunset",
    "versions.days_left": "{days} days left",
    "versions.successor": "Successor",
    "versions.used_by": "Used by",
    "versions.deprecated_until": "deprecated, sunset {sunset}, successor {successor}",
    "versions.retired_use": "retired, use {successor}",
    "versions.deprecated_warning": (
        "{version} is deprecated: from {sunset} on it is retired. Move to {successor}."
    ),
    "versions.retired_warning": "{version} is retired and cannot be chosen; use {successor}.",
    "dead.title": "Dead letters",
    "dead.intro": (
        "Messages the engine gave up on, grouped by destination and reason (at most {shown})."
    ),
    "dead.empty": "No dead letters that need attention.",
    "dead.no_reason": "(no reason recorded)",
    "dead.count": "{count} {count|message|messages}",
    "dead.count_shown": "{count} shown",
    "dead.cut": "{listed} of {total} shown; narrow by destination or period to see the rest.",
    "dead.select": "Select",
    "dead.select_one": "Select message {id}",
    "dead.select_group": "Select all in this group",
    "dead.to_actions": "Go to this group's buttons",
    "dead.message": "Message",
    "dead.zd": "ZD number",
    "dead.event_type": "Type",
    "dead.attempts": "Attempts",
    "dead.last_ack": "Last ACK",
    "dead.since": "Dead since",
    "dead.died_since": "Died from",
    "dead.died_until": "Died until",
    "dead.show_period": "Show",
    "dead.period_shown": "Only the dead letters that died in this period are shown.",
    "dead.period_clear": "Show all",
    "dead.destination_shown": "Only the dead letters for {destination} are shown.",
    "dead.destination_clear": "Show those of every destination",
    "dead.why": "Why it died",
    "dead.confirm.period": (
        "Only those that died from {since} until {until}, as the list showed them."
    ),
    "dead.state": "State",
    "dead.state.open": "open",
    "dead.state.resending": "being resent",
    "dead.state.resolved": "resolved",
    "dead.resend_selected": "Resend selected…",
    "dead.discard_selected": "Discard selected…",
    "dead.confirm.resend": "Resend dead letters",
    "dead.confirm.discard": "Discard dead letters",
    "dead.confirm.resend_count": (
        "{total} {total|message|messages} selected; {going} would be resent."
    ),
    "dead.confirm.discard_count": (
        "{total} {total|message|messages} selected; {going} will be closed as cancelled, with "
        "their resend chains. What stays open is listed with why."
    ),
    "dead.confirm.do_resend": "Resend {count} {count|message|messages}",
    "dead.confirm.nothing_to_resend": (
        "None of them would be resent, so there is nothing to confirm."
    ),
    "dead.confirm.nothing_to_discard": (
        "None of them is still open, so there is nothing to confirm."
    ),
    "dead.confirm.do_discard": "Discard {count} {count|message|messages}",
    "dead.reason": "Reason (required; goes into the audit trail)",
    "dead.cancel": "Cancel, back to the dead letters",
    "dead.outcome": "Outcome",
    "dead.outcome.would_resend": "would be resent",
    "dead.outcome.would_skip": "would be skipped",
    "dead.outcome.resent": "resent",
    "dead.outcome.skipped": "skipped",
    "dead.outcome.left_out": "left out",
    "dead.outcome.discarded": "discarded",
    "dead.outcome.would_discard": "would be discarded",
    "dead.outcome.stays_open": "stays open",
    "dead.note": "Note",
    "dead.new_message": "New message",
    "dead.done.resend": "Resent",
    "dead.done.discard": "Discarded",
    "dead.done.none.resend": "Nothing resent",
    "dead.done.none.discard": "Nothing discarded",
    "dead.done.none_why.resend": (
        "None of the selected messages was resent: each one's note says why (a colleague may "
        "have resent or discarded it since the list was shown)."
    ),
    "dead.done.none_why.discard": (
        "None of the selected messages was discarded: each one's note says why (a colleague "
        "may have discarded or resent it since the list was shown)."
    ),
    "dead.back": "Back to the dead letters",
    "batch.title": "Resend the messages this search finds",
    "batch.count": "{total} {total|message|messages} found; {going} would be resent.",
    "batch.do": "Resend {count} {count|message|messages}",
    # What one message's preview says of it, said of each in a batch (and counted above).
    "batch.already.delivered": (
        "{count} of them {count|was|were} delivered already (see Status): resending sends "
        "{count|it|them} again."
    ),
    "batch.already.resent": (
        "{count} of them {count|was|were} resent already (see Resent before, newest first): "
        "look at those resends first; resending makes one more of each."
    ),
    "batch.status": "Status",
    "batch.earlier": "Resent before",
    "batch.earlier.times": "{count} {count|time|times}",
    "batch.earlier.none": "never",
    # For a reader limited to some clusters, whether or not a resend lies outside them.
    "batch.earlier.none_seen": "none you may see",
    "batch.cancel": "Cancel, back to the messages",
    "batch.back": "Back to the messages",
    # A batch's result, counted above its rows (``console.batch_results.summed``).
    "batch.tally.resent": "{count} resent",
    "batch.tally.discarded": "{count} discarded",
    "batch.tally.skipped": "{count} skipped",
    "batch.tally.left_out": "{count} left out",
    "batch.tally.stays_open": "{count} {count|stays|stay} open",
    "batch.tally.why": "The {count} not done {count|is|are} listed first, each with why.",
    "batch.now": "The new messages now:",
    "batch.now.each": "{count} {status}",
    "batch.now.reload": "Reload this page for their latest status.",
    "batch.status_now": "Status now",
    "batch.withheld.resend": (
        "What was resent is not shown: it names messages in clusters where you may no longer "
        "resend (a role or cluster was taken away since). The audit trail keeps what was done."
    ),
    "batch.withheld.discard": (
        "What was discarded is not shown: it names dead letters in clusters where you may no "
        "longer discard (a role or cluster was taken away since). The audit trail keeps what "
        "was done."
    ),
    "batch.start": "Resend these messages…",
    # Above a search's results: which of how many (one count, made when they fill more pages).
    "messages.total": "{first}–{last} of {total} {total|message|messages} found",
    "confirm.to_form": "Skip the list: to the reason and the button",
    "batch.note": (
        "Shows first what would be resent and what skipped, and why; at most {limit} at once."
    ),
    "unrouted.title": "Events no destination serves",
    "unrouted.intro": (
        "Events stored while no destination served their provider (at most {shown} shown). "
        "Route them once a destination serves it."
    ),
    "unrouted.empty": "No unrouted events.",
    "unrouted.event": "Event",
    "unrouted.provider": "Provider",
    "unrouted.received": "Received",
    "unrouted.select_one": "Select event {id}",
    "unrouted.forbidden": (
        "An unrouted event lies in no cluster, so its pages are only for who holds the "
        "permission for all clusters. Ask an administrator if you need them."
    ),
    "unrouted.providers": "Unrouted events per provider",
    "unrouted.waiting": "Unrouted",
    "unrouted.serving": "Served now by",
    "unrouted.route": "Route",
    "unrouted.served_by_none": (
        "no destination serves it yet: routing would make nothing. An operator (role "
        "destinations) adds a destination for it; its events wait here until then"
    ),
    "unrouted.none_routable": (
        "No destination serves the providers of these events yet, so none can be routed. Ask "
        "an operator (role destinations) to add one; the events wait here until then, for at "
        "most the retention period of unrouted events (INTEGRATOR_RETAIN_UNROUTED_DAYS)."
    ),
    "unrouted.route_provider": "Route all of {provider}…",
    "unrouted.only_provider": "Only provider {provider}.",
    "unrouted.show_all": "Show all providers",
    "unrouted.gone": (
        "The provider of this link has no unrouted events any more (they were routed since)."
    ),
    "unrouted.cut": (
        "{shown} of {total} shown, newest first. The CSV export, "
        "`integrator events list --unrouted` or the API give the others."
    ),
    "unrouted.count": "{total} unrouted {total|event|events}.",
    "unrouted.confirm_title": "Route every unrouted event of {provider}",
    "unrouted.confirm_count": (
        "{total} unrouted {total|event|events} of provider {provider}; {going} would be routed now."
    ),
    "unrouted.destination": "Destination",
    "unrouted.messages_count": "Messages it would get",
    "unrouted.would_skip": "Would not be routed",
    "unrouted.confirm_do": "Route {count} {count|event|events}",
    "unrouted.cancel": "Cancel, back to the unrouted events",
    "once.again.route": "This was already done at {at} by {by}; nothing was routed again.",
    "unrouted.route_hint": "At most {max} events at a time.",
    "unrouted.route_now": "Route now",
    "unrouted.done": "Routed",
    "unrouted.done_none": "Nothing routed",
    "unrouted.done_count": "{routed} of {total} {total|event|events} routed.",
    "unrouted.messages": "Messages made for",
    "unrouted.back": "Back to the unrouted events",
    "unrouted.csv": "Export as CSV",
    "unrouted.csv_note": (
        "Up to {limit} events, newest first; identifiers only, no patient data. "
        "The export is recorded in the audit trail."
    ),
    "rejected.title": "Rejected input",
    "rejected.intro": (
        "What intake refused (not JSON, or a broken rule), kept as it arrived, newest first. "
        "The list names the broken rules, never the content; open one to see more."
    ),
    "rejected.empty": "No rejected input.",
    "rejected.more": (
        "Only the newest {shown} of {total} are shown. "
        "`integrator rejected list --limit N` and GET /api/v1/rejected?limit=N list further."
    ),
    "rejected.count": "Matching: {total}",
    "rejected.since": "Received from (date, date-time, or back from now: 24h)",
    "rejected.until": "Received until (date, date-time, or back from now: 2h)",
    "rejected.zd_number": "ZD number",
    "rejected.provider": "Provider",
    "rejected.bsn": "BSN",
    "rejected.any": "any",
    "rejected.filter": "Filter",
    "rejected.id": "Id",
    "rejected.open": "Open rejected input {id}",
    "rejected.received": "Received",
    "rejected.source": "Source",
    "rejected.caller": "Sent by",
    "rejected.bytes": "Size (bytes)",
    "rejected.problems": "Broken rules",
    "rejected.one_title": "Rejected input {id}",
    "rejected.summary": "Summary",
    "rejected.rules": "Broken rules",
    "rejected.field": "Field",
    "rejected.rule": "Rule",
    "rejected.message": "What is wrong",
    "rejected.input": "The input as it arrived",
    "rejected.reveal": "Show the input",
    "rejected.reveal_hint": (
        "It may hold patient data: showing it is recorded in the audit trail under your name."
    ),
    "rejected.withheld": (
        "The input may hold patient data: only who may read patient data for all clusters sees it."
    ),
    "rejected.audited": "This view of the input is recorded in the audit trail under your name.",
    "rejected.not_kept": (
        "Nothing of the input was kept: it was refused before it was read (its broken rule says "
        "why, and how large it was), so there is nothing to show."
    ),
    "rejected.cut": (
        "Only the first {shown} characters are shown. `integrator rejected show {id}` on the "
        "server, or GET /api/v1/rejected/{id}, gives all of it."
    ),
    "rejected.back": "Back to the rejected input",
    "rejected.forbidden": (
        "Rejected input lies in no cluster, so it is only for who may read messages for all "
        "clusters. Ask an administrator if you need it."
    ),
    "rejected.body_forbidden": (
        "The input as it arrived may hold patient data, and it lies in no cluster: it is only "
        "for who may read patient data for all clusters. Nothing was shown or recorded."
    ),
    "rejected.not_found": (
        "There is no rejected input with this id. Rejected input is deleted after its retention "
        "period (INTEGRATOR_RETAIN_REJECTED_DAYS)."
    ),
    "rejected.bad_id": (
        "This is not the id of rejected input: use the link in the list, or its first 4 or more "
        "hex digits that no other id starts with."
    ),
    "audit.title": "Audit trail",
    "audit.actor": "Who",
    "audit.action": "Action",
    "audit.message": "Message id",
    "audit.destination": "Destination",
    "audit.target": "Target",
    "audit.since": "From (date, date-time, or back from now: 24h)",
    "audit.until": "Until (date, date-time, or back from now: 2h)",
    "audit.search": "Search",
    "audit.by_patient": "Search by patient",
    "audit.bsn": "BSN of the patient",
    "audit.search_patient": "Search by BSN",
    "audit.searched_by_bsn": (
        "Searched by BSN; this search is recorded in the audit trail, once. The BSN is in no "
        "address: the pages of this search name it by a code that only works for you, for "
        "{minutes} minutes."
    ),
    "audit.csv": "Export these entries as CSV",
    "audit.empty": "No entries found.",
    # Which of how many the page shows ("N of M", as messages.total); past the count's bound
    # (integrator.listing_totals) it says "more than".
    "audit.total": "{first}–{last} of {total} {total|entry|entries} found",
    "audit.total_beyond": "{first}–{last} of more than {total} entries found",
    "audit.at": "When",
    "audit.reason": "Reason",
    "audit.details": "Details",
    "audit.origin": "From where",
    "audit.origin.command_line": "command line (on the server)",
    "audit.origin.token": "API token {name}",
    "audit.origin.engine": "the engine itself",
    "audit.yes": "yes",
    "audit.no": "no",
    "audit.more": "Older entries",
    "audit.to_summary": (
        "Summary: who viewed patient data or exported listings (the NEN 7513 review)"
    ),
    "audit.summary.title": "Summary of the audit trail",
    "audit.summary.to_trail": "Back to the audit trail",
    "audit.summary.intro": (
        "Who viewed patient data or exported listings in a period, per person, API token or "
        "user of the command line: the review of the access log NEN 7513 asks for. An export "
        "holds patient data only where it was made by BSN; the others are counted so that "
        "every list taken out of the engine is accounted for. Patients are told "
        "apart by the keyed hash of their BSN; no BSN is shown. Each summary is itself "
        "recorded in the audit trail (audit.summary)."
    ),
    "audit.summary.views_and_exports": "Views of patient data and exports",
    "audit.summary.make": "Summarise",
    "audit.summary.default": (
        "Without ‘From’ the summary counts the {days} days up to ‘Until’, or up to now. "
        "Without an action: {actions}."
    ),
    "audit.summary.period": "From {since} up to {until} (not included)",
    "audit.summary.counted": "Counted: {actions}",
    "audit.summary.empty": "No entries of these actions in this period.",
    "audit.summary.views": "Views",
    "audit.summary.patients": "Distinct patients",
    # Of the entries counted, those that said no why (docs/access.md, "Why").
    "audit.summary.without_reason": "Without a reason",
    "audit.summary.first": "First",
    "audit.summary.last": "Last",
    "audit.summary.views_of": "{count} {count|view|views} by {actor}, in the audit trail",
    "audit.summary.total": "Total ({count} {count|actor|actors})",
    "people.title": "People",
    "people.name": "Name",
    "people.email": "E-mail address",
    "people.status": "Status",
    "people.status.invited": "invited",
    "people.status.reset": "invited again (second factor reset)",
    "people.status.active": "active",
    "people.status.deactivated": "deactivated",
    "people.locked": "locked",
    "people.grants": "Roles",
    "people.grants_hint": "A role per row; leave the cluster empty for all clusters.",
    "people.role_n": "Role {n}",
    "people.cluster_n": "Cluster {n}",
    "people.all_clusters": "all clusters",
    # Beside the grant rows: what the service says this person may not give, and where only.
    "grants.only_in": "{role}: only for {clusters}",
    "grants.not_offered": "{role} is not offered: {why}",
    "people.invite": "Invite a person",
    "people.invite_send": "Invite",
    "people.invite_refused": "Nobody was invited: see why beside the fields below.",
    "people.link.title": "Invitation made",
    "people.link.intro": "Pass this link on to {email}; it works once, until {expires}.",
    "people.link.label": "Invitation link",
    "people.link.sent": (
        "The invitation was sent by e-mail to {email}; its link works once, until {expires}."
    ),
    "people.link.once": "The link is shown this once and is not stored.",
    "people.back": "Back to people",
    "people.inactive": "Roles taken away",
    "people.deactivate_role": "Take this role away",
    "people.deactivate_role_named": "Take this role away: {grant}",
    "people.drop_reason": "Reason for taking away {grant}",
    "people.grants_reason": "Reason for changing the roles",
    "people.change_grants": "Change roles",
    "people.save_grants": "Save roles",
    "people.invitation": "Invitation",
    "people.reinvite": "Send the invitation again",
    "people.invitation_until": (
        "The link works once, until {at}. Sending the invitation again makes a new link; the "
        "one passed on stops working."
    ),
    "people.invitation_expired": (
        "The link expired on {at}: it no longer works. Send the invitation again for a new one."
    ),
    "people.link_expired": "link expired",
    "people.reinvited.title": "Invitation sent again",
    "people.reinvited.again": "This was already done at {at} by {by}; no new link was made.",
    "people.reinvited.shown_once": (
        "Its link was shown once, on the page that answered, and is not stored. It still works "
        "if it was passed on; if it was lost, send the invitation again for a new one."
    ),
    "people.reinvited.sent": "The link was sent to {email} by e-mail.",
    "people.reinvited.failed": (
        "That first attempt did not finish; see the audit trail. Nothing more was done."
    ),
    "people.reinvited.back": "Back to the person",
    "people.account_elsewhere": (
        "This person also holds a role outside your clusters: only an admin for those may "
        "reset their second factor or deactivate the account."
    ),
    "people.deactivate": "Deactivate the account",
    "people.deactivate.hint": (
        "For someone who has left: their sign-in, sessions and API tokens stop for good."
    ),
    "people.deactivate.start": "Deactivate the account…",
    "people.deactivate.what": "Deactivating the account of {email} does this, at once:",
    "people.deactivate.ends": (
        "Their sessions end, their open invitation links and their own API tokens stop working, "
        "and they can no longer sign in."
    ),
    "people.deactivate.final": (
        "It cannot be undone: there is no reactivation, and this address cannot be invited "
        "again. For someone away for a while, take their roles away instead."
    ),
    "people.deactivated_roles": (
        "The roles this account held when it was deactivated, for the record: it acts with "
        "none of them, so there is nothing to take away."
    ),
    "people.deactivated_final": (
        "This account is deactivated, and that cannot be undone: there is no reactivation, and "
        "this address cannot be invited again. Nothing on it can be changed; someone who needs "
        "access again is invited with another address."
    ),
    "people.deactivate.do": "Deactivate the account",
    "people.deactivate.cancel": "Cancel",
    "people.deactivate.kept_title": "Machine tokens made by this person",
    "people.deactivate.kept": (
        "{email} made {count} machine {count|token|tokens}. {count|It goes|They go} on "
        "working after the account is deactivated, so an upstream system does not stop because "
        "the person who made its token left. Revoke {count|it if it|those that} should stop:"
    ),
    "people.deactivate.kept_none": "{email} made no machine token that works now.",
    "people.deactivate.kept_revoke": "Revoke them on the API tokens page",
    "people.deactivate.loses": "Loses: {grants} (reads patient data)",
    "people.deactivate.loses_note": (
        "A deactivated person holds no role, so these tokens lose the roles that read patient "
        "data: a token made in the console or through the API holds such a role only where its "
        "maker holds it. Their other roles stay."
    ),
    "people.tokens_title": "API tokens made by this person",
    "people.tokens_intro": (
        "A role that reads patient data is in force on these tokens only where {email} holds "
        "it now; one taken from {email} is suspended on them too, and in force again when it is "
        "given back."
    ),
    "people.tokens_none": "{email} made no token that works now.",
    "people.own": (
        "These are your own roles: another admin, or the server's CLI (integrator users), "
        "changes them or deactivates your account."
    ),
    "people.reset.title": "Reset the second factor",
    "people.reset.hint": (
        "For someone who lost their phone, or whose authenticator no longer works, with no "
        "recovery codes left."
    ),
    "people.reset.start": "Reset the second factor…",
    "people.reset.what": "Resetting the second factor of {email} does this, at once:",
    "people.reset.ends": (
        "Their authenticator app, their recovery codes and their password stop working, and "
        "every console session of theirs ends."
    ),
    "people.reset.link": (
        "They get a new setup link (valid 7 days, by e-mail when a mail server is set, else "
        "shown to you) to choose a new password, set up a new authenticator and get new "
        "recovery codes. Until then the account shows as invited."
    ),
    "people.reset.keeps": "Their roles stay, and so do their API tokens (revoke those apart).",
    "people.reset.do": "Reset the second factor",
    "people.reset.cancel": "Cancel",
    "people.reset_link.title": "Second factor reset",
    "people.reset_link.done": (
        "The second factor of {email} is reset: their authenticator, recovery codes, password "
        "and sessions no longer work."
    ),
    "people.reset_link.label": "Setup link",
    "people.reset_link.sent": (
        "The setup link was sent by e-mail to {email}; it works once, until {expires}."
    ),
    "tokens.title": "API tokens",
    "tokens.own_intro": (
        "Your own tokens, for the integrator commands that go through the running engine "
        "(set INTEGRATOR_TOKEN) or a script of yours. A token holds at most your own roles and "
        "clusters, and stops when you lose them. Keep it secret: what is done with it is "
        "recorded under its name."
    ),
    "tokens.empty": "No tokens.",
    "tokens.name": "Name",
    "tokens.prefix": "Starts with",
    "tokens.status.active": "active",
    "tokens.status.expired": "expired",
    "tokens.status.revoked": "revoked",
    "tokens.status.stopped": "stopped (the token that made it no longer works)",
    "tokens.suspended": "{grant} suspended: {why}",
    "tokens.expires": "Expires",
    "tokens.last_used": "Last used",
    "tokens.revoke": "Revoke",
    "tokens.revoke_named": "Revoke {name}",
    "tokens.revoke_reason": "Reason for revoking {name}",
    "tokens.create_reason": "Reason for the new token",
    "tokens.create": "Create a token",
    "tokens.refused": "No token was made: see why beside the fields below.",
    "tokens.days": "Valid for (days; empty: {days})",
    "tokens.created": "Token created",
    "tokens.created_intro": "Token {name}, valid until {expires}.",
    "tokens.secret": "Token",
    "tokens.once": "Copy it now: it is shown this once and cannot be read again.",
    "tokens.back": "Back to the tokens",
    "tokens.made_already.title": "The token was made by your first click",
    "tokens.made_already.again": (
        "Token {name} was made at {at}, by the first click on Create a token; this second "
        "click made nothing."
    ),
    "tokens.made_already.secret_gone": (
        "Its secret was shown only in answer to that first click, which the browser replaced "
        "with this page. It is stored nowhere and cannot be shown again: revoke this token "
        "and make another, whose secret is shown."
    ),
    "tokens.made_already.failed": (
        "The first click on Create a token, at {at}, failed; this second click made nothing. "
        "Look in the list whether a token was made before making it again."
    ),
    "tokens.made_already.at_work": (
        "The first click on Create a token, at {at}, is still at work; this second click made "
        "nothing. Look in the list in a moment: a token it made has a secret that cannot be "
        "shown again, so revoke it and make another."
    ),
}

NL: Final[dict[str, str]] = {
    "nav.destinations": "Bestemmingen",
    "nav.versions": "Berichtversies",
    "nav.deadletters": "Onbestelbare berichten",
    "nav.unrouted": "Gebeurtenissen zonder bestemming",
    "nav.rejected": "Geweigerde invoer",
    "nav.audit": "Audittrail",
    "nav.people": "Personen",
    "nav.tokens": "API-tokens",
    "yes": "ja",
    "no": "nee",
    "dest.list.title": "Bestemmingen",
    "dest.list.empty": "Geen bestemmingen die je mag zien.",
    "dest.list.stray_files": (
        "Geweigerd, niet in gebruik: deze bestanden in de map met bestemmingen zijn van geen "
        "enkele bestemming (het bestand van een bestemming heet <id>.yaml), dus ze veranderen "
        "niets. Hernoem, verbeter of verwijder ze."
    ),
    "dest.list.stray_rule": "{key}: {rule}",
    "dest.list.refused_copies": (
        "{id}: {count} geweigerde handmatige {count|wijziging|wijzigingen} bewaard naast het "
        "bestand, de oudste {days} {days|dag|dagen} oud ({files}); zet terug wat bedoeld was en "
        "verwijder ze daarna: de engine doet dat nooit"
    ),
    "dest.add": "Bestemming toevoegen",
    "dest.id": "Id",
    "dest.name": "Naam",
    "dest.cluster": "Cluster",
    "dest.state": "Toestand",
    "dest.paused_at": "Gepauzeerd sinds",
    "dest.paused_by": "Gepauzeerd door",
    "dest.resumed_at": "Laatst hervat",
    "dest.address": "Adres",
    "dest.messages": "Berichtversies",
    "dest.title": "Bestemming {id}",
    "dest.saved": "Opgeslagen als revisie {revision}.",
    "people.done.roles": "Rollen opgeslagen.",
    "people.done.roles_links_stopped": (
        "Rollen opgeslagen. De gegeven rol leest patiëntgegevens, dus de link die deze persoon "
        "nog niet had gebruikt werkt niet meer: verstuur de uitnodiging opnieuw (per e-mail, "
        "of alleen getoond aan een beheerder die die rol daar heeft)."
    ),
    "people.done.role_taken": "Rol ingetrokken.",
    "people.done.deactivated": "Account gedeactiveerd.",
    "dest.history": "Geschiedenis",
    "dest.edit": "Wijzigen",
    "dest.refused": "Het bestand is geweigerd: {key}: {rule}",
    "dest.file": "Bestand",
    "dest.providers": "Zorgaanbieders",
    "dest.host": "Host",
    "dest.port": "Poort",
    "dest.receiving": "Ontvangende applicatie / instelling",
    "dest.receiving_application": "Ontvangende applicatie (MSH-5)",
    "dest.receiving_facility": "Ontvangende instelling (MSH-6)",
    "dest.ack_mode": "ACK-modus",
    "dest.accept_ack_type": "Accept-ACK-type (MSH-15, enhanced-modus)",
    "dest.application_ack_type": "Applicatie-ACK-type (MSH-16, enhanced-modus)",
    "dest.ack_types": "MSH-15 / MSH-16",
    "dest.ack_types_original": "leeg (original-modus)",
    "dest.ack_type_default": "{value} (standaard)",
    "dest.form.ack_type_default": "Standaard ({value})",
    "dest.form.ack_type_hint": (
        "AL altijd, NE nooit, ER alleen bij een fout, SU alleen bij succes; alleen bij ACK-modus "
        "enhanced"
    ),
    "dest.connect_timeout": "Time-out verbinden",
    "dest.ack_timeout": "Time-out ACK",
    "dest.connections": "Verbindingen",
    "dest.ordering": "Volgorde",
    "dest.rate_limit": "Snelheidslimiet (berichten per seconde)",
    "dest.auto_upgrade": "Na de einddatum vanzelf naar de opvolgende versie",
    "dest.timeouts": "Time-out verbinden / ACK",
    "dest.no_rate_limit": "geen limiet",
    "dest.retry": "Mislukte pogingen opnieuw proberen",
    "dest.retry.policy": (
        "eerst na {initial}, elke wachttijd ×{multiplier} tot hoogstens {max_delay}; geeft op "
        "na {max_attempts} pogingen of {max_age}; ACK AE/CE: {on_error}, AR/CR: {on_reject}"
    ),
    "dest.tls": "TLS",
    "dest.enabled": "Actief (niet aangevinkt: gepauzeerd)",
    "dest.pause_resume": "Pauzeren of hervatten",
    "dest.try_now": "Wachtende nieuwe pogingen",
    "dest.try_now.waiting": (
        "{count} {count|bericht wacht op zijn|berichten wachten op hun} volgende poging."
    ),
    "dest.try_now.button": "Wachtende berichten nu proberen",
    "dest.try_now.done": (
        "Voor {count} {count|wachtend bericht|wachtende berichten} is een poging gestart toen op "
        "de knop werd gedrukt; {count|de|hun} status toont de uitkomst."
    ),
    "dest.test": "Testbericht versturen",
    "dest.test.event": "Berichtsoort",
    "dest.test.send": "Testbericht versturen",
    "dest.test.even_if_paused": (
        "Toch versturen, hoewel deze bestemming gepauzeerd is (komt in de audittrail)"
    ),
    "dest.test.result": "Resultaat van het testbericht",
    "dest.test.outcome": "Uitkomst",
    "dest.test.ack_code": "ACK-code",
    "dest.test.version": "Berichtversie",
    "dest.test.control_id": "Berichtnummer (MSH-10)",
    "dest.test.round_trip": "Doorlooptijd",
    "once.again.test": (
        "Dit testbericht is al verstuurd op {at} door {by}; er is niets opnieuw verstuurd. "
        "Verstuur er nog een met het formulier hierboven."
    ),
    "dest.unchanged": "Er is niets veranderd: de bestemming is zoals ze was.",
    "dest.remove": "Deze bestemming verwijderen",
    "dest.remove.hint": (
        "Verwijdert het bestand, zodat er niets meer naartoe gaat. De volgende pagina zegt wat "
        "er gebeurt met de berichten die er nog op wachten, en vraagt je om een bevestiging."
    ),
    "dest.remove.start": "Deze bestemming verwijderen…",
    "dest.remove.title": "Bestemming {id} verwijderen?",
    "dest.remove.what": (
        "Het bestand wordt verwijderd: de engine verstuurt er niets meer naartoe en maakt er "
        "geen nieuwe berichten meer voor. Gebeurtenissen voor de zorgaanbieders ervan die geen "
        "andere bestemming bedient, wachten als gebeurtenissen zonder bestemming."
    ),
    "dest.remove.kept": (
        "De geschiedenis en de berichten blijven bewaard, en blijven bij het cluster van deze "
        "bestemming: de supportmedewerkers van dat cluster kunnen de berichten en onbestelbare "
        "berichten ervan blijven lezen. Terugzetten naar een van de revisies brengt de "
        "bestemming terug."
    ),
    "dashboard.removed_dead_letters": "Onbestelbare berichten van verwijderde bestemmingen:",
    "dashboard.removed_dead_letters_of": "{destination}: {count}",
    "messages.zd_unseen": (
        "Iets verwacht? Invoer met dit ZD-nummer kan bij ontvangst geweigerd zijn, of wachten "
        "omdat nog geen bestemming de zorgaanbieder bedient. Zulke invoer hoort bij geen "
        "cluster: mensen met toegang tot alle clusters kunnen die opzoeken (Geweigerde invoer, "
        "Gebeurtenissen zonder bestemming)."
    ),
    "events.rejected_one": (
        "Geen gebeurtenissen; 1 geweigerde invoer met dit ZD-nummer: de intake weigerde die."
    ),
    "events.rejected_many": (
        "Geen gebeurtenissen; {count} geweigerde invoer met dit ZD-nummer: de intake weigerde die."
    ),
    "event.lookup.title": "Welke gebeurtenis?",
    "event.lookup.ambiguous": (
        "Meerdere gebeurtenissen hebben een id dat zo begint. Kies er een, of geef meer tekens."
    ),
    "event.lookup.unknown": (
        "Geen gebeurtenis die je mag zien heeft dit id, of een id dat zo begint."
    ),
    "event.lookup.short": "Geef minstens {min} tekens van een gebeurtenis-id.",
    "dest.remove.waiting": (
        "Er {count|wacht|wachten} nu {count} {count|bericht|berichten} op deze bestemming (in "
        "de wachtrij, wachtend op een nieuwe poging of vastgehouden)."
    ),
    "dest.remove.none_waiting": "Er wachten nu geen berichten op deze bestemming.",
    "dest.remove.force": "De wachtende berichten onbestelbaar maken en toch verwijderen",
    "dest.remove.force_hint": (
        "Niet aangevinkt: er wordt niets verwijderd zolang er een bericht op deze bestemming "
        "wacht; laat die berichten eerst afleveren (hervat de bestemming als ze gepauzeerd is). "
        "Aangevinkt: de berichten die wachten op het moment dat je op de knop drukt, worden er "
        "nooit meer naartoe verstuurd. Het worden onbestelbare berichten, met jouw reden, en "
        "ze staan onder Onbestelbare berichten, waar supportmedewerkers ze naar een andere "
        "bestemming kunnen herzenden of kunnen afsluiten."
    ),
    "dest.remove.reason": "Reden om {id} te verwijderen",
    "dest.remove.button": "{id} verwijderen",
    "dest.remove.done_title": "Bestemming {id} verwijderd",
    "dest.remove.done": (
        "Bestemming {id} verwijderd, als revisie {revision}: het bestand is verwijderd, de "
        "geschiedenis bewaard."
    ),
    "dest.remove.dead_lettered": (
        "{count} {count|wachtend bericht is|wachtende berichten zijn} nu onbestelbaar, met "
        "jouw reden."
    ),
    "dest.remove.dead_letters_link": "Naar Onbestelbare berichten.",
    "dest.remove.none_dead_lettered": (
        "Er wachtte geen bericht, dus er is niets onbestelbaar geworden."
    ),
    "dest.remove.back_to_list": "Terug naar de bestemmingen",
    "once.again.remove": "Dit is al gedaan op {at} door {by}; er is niets opnieuw verwijderd.",
    "dest.gone.title": "Bestemming {id} is verwijderd",
    "dest.gone.removed": (
        "Bestemming {id} is verwijderd op {at} door {by} (revisie {revision}): het bestand is "
        "weg, dus er wordt niets meer naartoe gestuurd."
    ),
    "dest.gone.by_hand": (
        "Het bestand van bestemming {id} is met de hand verwijderd; de engine legde dat vast "
        "op {at} (revisie {revision}), en er wordt niets meer naartoe gestuurd."
    ),
    "dest.gone.nothing_done": (
        "Er is niets gedaan: bestemming {id} was al verwijderd toen je op de knop drukte."
    ),
    "dest.cert.cert_file": "Clientcertificaat (tls.cert_file)",
    "dest.cert.ca_file": "CA-certificaten (tls.ca_file)",
    "dest.cert.expires": "verloopt op {at} (over {days} {days|dag|dagen})",
    "dest.cert.expired": "verlopen op {at}",
    "dest.cert.soon": (
        "{file} verloopt op {at}, over {days} {days|dag|dagen}. Vervang het bestand op "
        "dezelfde plek, onder hetzelfde pad: de engine gebruikt het nieuwe bestand vanaf de "
        "volgende verbinding, zonder herstart. Is het verlopen, dan mislukt elke aflevering "
        "aan deze bestemming."
    ),
    "dest.cert.expired_warning": (
        "{file} is verlopen op {at}: elke aflevering aan deze bestemming mislukt tot het "
        "bestand op dezelfde plek, onder hetzelfde pad, is vervangen (de engine gebruikt het "
        "nieuwe bestand vanaf de volgende verbinding)."
    ),
    "dest.edit.title": "Bestemming {id} wijzigen",
    "dest.back": "Terug naar bestemming {id}",
    "dest.form.refused": "Niet opgeslagen: verbeter de velden hieronder.",
    "dest.form.id_hint": "a-z, 0-9 en '-'; later niet te wijzigen",
    "dest.form.providers_hint": "Ids van zorgaanbieders, gescheiden door komma's",
    "dest.form.duration_hint": "Zoals 500ms, 30s, 10m of 24h; leeg: de standaard",
    "dest.form.rate_hint": "Leeg: geen limiet",
    "dest.form.version": "Berichtversie voor {event_type}",
    "dest.form.no_version": "(niet verstuurd)",
    "dest.form.rest_hint": (
        "Instellingen voor opnieuw proberen en TLS blijven zoals ze zijn; wijzig die in het "
        "bestand of via de API."
    ),
    "dest.form.rest_hint_new": (
        "Instellingen voor opnieuw proberen en TLS krijgen hun standaard (opnieuw vanaf 2s, tot "
        "20 pogingen of 24h; geen TLS); wijzig die in het bestand of via de API."
    ),
    "dest.form.reason": "Reden (komt in de geschiedenis)",
    "dest.form.save": "Opslaan",
    "dest.form.changed": (
        "Niet opgeslagen: {id} is gewijzigd sinds je het formulier opende: revisie {revision} "
        "door {actor} op {at}, “{what}”."
    ),
    "dest.form.changed_keys": "Toen gewijzigd: {keys}.",
    "dest.form.changed_many": (
        "Niet opgeslagen: {id} is {count} keer gewijzigd sinds je het formulier opende "
        "(revisies {revisions}, door {actors}); de laatste: revisie {revision} door {actor} op "
        "{at}, “{what}”."
    ),
    "dest.form.changed_touched": "Wat er gewijzigd is: {keys}.",
    "dest.form.changed_key": "{key} in revisie {revisions} door {actors}",
    "dest.form.changed_next": (
        "Je wijzigingen staan hieronder, bovenop de bestemming zoals die nu is. Bekijk de "
        "wijziging en sla opnieuw op."
    ),
    "dest.form.changed_look": "Bekijk de wijziging in de geschiedenis",
    "dest.form.changed_by_hand": (
        "Niet opgeslagen: het bestand van {id} is met de hand bewerkt sinds je het formulier "
        "opende, en de engine heeft dat nog niet vastgelegd. Wacht even en sla opnieuw op."
    ),
    "dest.form.unheld": (
        "Niemand heeft toegang tot cluster {cluster}: de mensen van {previous} zien deze "
        "bestemming dan niet meer; de clusters in gebruik zijn: {in_use}."
    ),
    "dest.form.unheld_new": (
        "Niemand heeft toegang tot cluster {cluster}: alleen wie toegang tot alle clusters "
        "heeft, ziet deze bestemming dan; de clusters in gebruik zijn: {in_use}."
    ),
    "dest.form.unheld_confirm": "Toch in cluster {cluster} plaatsen",
    "dest.history.title": "Geschiedenis van {id}",
    "dest.history.empty": "Geen revisies vastgelegd.",
    "dest.history.revision": "Revisie {revision}",
    "dest.history.reason": "Reden: {reason}",
    "history.action.add": "toegevoegd",
    "history.action.update": "gewijzigd",
    "history.action.pause": "gepauzeerd",
    "history.action.resume": "hervat",
    "history.action.remove": "verwijderd",
    "history.action.file": "bestand met de hand gewijzigd",
    "history.action.rollback": "teruggezet naar revisie {revision}",
    "history.actor.file": "het bestand",
    "history.diff.before": "ervoor",
    "history.diff.after": "erna",
    "dest.rollback": "Terugzetten naar revisie {revision}",
    "dest.rollback.reason": "Reden om terug te zetten naar revisie {revision}",
    "dest.rollback.keeps_state": (
        "Terugzetten herstelt de definitie van een revisie, maar laat de bestemming gepauzeerd "
        "of actief zoals ze nu is: pauzeren en hervatten zijn eigen acties."
    ),
    "dest.rollback.confirm": (
        "Terugzetten naar revisie {revision}? Het geldt vanaf de volgende aflevering."
    ),
    "dest.rollback.changed_next": (
        "Er is niets teruggezet. Bekijk de wijziging en zet daarna opnieuw terug als je dat "
        "nog wilt."
    ),
    "versions.title": "Berichtversies",
    "versions.intro": (
        "Per versie de status van vandaag, de einddatum en opvolger, en jouw bestemmingen die "
        "de versie gebruiken."
    ),
    "versions.name": "Versie",
    "versions.event_type": "Soort",
    "versions.hl7": "HL7",
    "versions.status": "Status",
    "versions.status.current": "actueel",
    "versions.status.deprecated": "verouderd",
    "versions.status.retired": "buiten gebruik",
    "versions.sunset": "Einddatum",
    "versions.days_left": "nog {days} dagen",
    "versions.successor": "Opvolger",
    "versions.used_by": "Gebruikt door",
    "versions.deprecated_until": "verouderd, einddatum {sunset}, opvolger {successor}",
    "versions.retired_use": "buiten gebruik, gebruik {successor}",
    "versions.deprecated_warning": (
        "{version} is verouderd: vanaf {sunset} is ze buiten gebruik. Ga over op {successor}."
    ),
    "versions.retired_warning": (
        "{version} is buiten gebruik en kan niet gekozen worden; gebruik {successor}."
    ),
    "dead.title": "Onbestelbare berichten",
    "dead.intro": (
        "Berichten die de engine heeft opgegeven, gegroepeerd per bestemming en reden "
        "(hoogstens {shown})."
    ),
    "dead.empty": "Geen onbestelbare berichten die aandacht nodig hebben.",
    "dead.no_reason": "(geen reden vastgelegd)",
    "dead.count": "{count} {count|bericht|berichten}",
    "dead.count_shown": "{count} getoond",
    "dead.cut": (
        "{listed} van {total} getoond; beperk op bestemming of periode om de rest te zien."
    ),
    "dead.select": "Kiezen",
    "dead.select_one": "Bericht {id} kiezen",
    "dead.select_group": "Alles in deze groep kiezen",
    "dead.to_actions": "Naar de knoppen van deze groep",
    "dead.message": "Bericht",
    "dead.zd": "ZD-nummer",
    "dead.event_type": "Soort",
    "dead.attempts": "Pogingen",
    "dead.last_ack": "Laatste ACK",
    "dead.since": "Onbestelbaar sinds",
    "dead.died_since": "Onbestelbaar vanaf",
    "dead.died_until": "Onbestelbaar tot",
    "dead.show_period": "Tonen",
    "dead.period_shown": "Alleen de berichten die in deze periode onbestelbaar werden staan hier.",
    "dead.period_clear": "Alles tonen",
    "dead.destination_shown": "Alleen de onbestelbare berichten voor {destination} staan hier.",
    "dead.destination_clear": "Alle bestemmingen tonen",
    "dead.why": "Waarom onbestelbaar",
    "dead.confirm.period": (
        "Alleen de berichten die tussen {since} en {until} onbestelbaar werden, zoals de lijst ze "
        "toonde."
    ),
    "dead.state": "Afhandeling",
    "dead.state.open": "open",
    "dead.state.resending": "wordt herzonden",
    "dead.state.resolved": "opgelost",
    "dead.resend_selected": "Gekozen berichten herzenden…",
    "dead.discard_selected": "Gekozen berichten afsluiten…",
    "dead.confirm.resend": "Onbestelbare berichten herzenden",
    "dead.confirm.discard": "Onbestelbare berichten afsluiten",
    "dead.confirm.resend_count": (
        "{total} {total|bericht|berichten} gekozen; {going} {going|zou|zouden} herzonden worden."
    ),
    "dead.confirm.discard_count": (
        "{total} {total|bericht|berichten} gekozen; {going} {going|wordt|worden} afgesloten als "
        "geannuleerd, met {going|zijn herzendketen|hun herzendketens}. Wat open blijft, staat "
        "erbij met de reden."
    ),
    "dead.confirm.do_resend": "{count} {count|bericht|berichten} herzenden",
    "dead.confirm.nothing_to_resend": (
        "Geen van deze berichten zou herzonden worden; er is niets te bevestigen."
    ),
    "dead.confirm.nothing_to_discard": (
        "Geen van deze berichten staat nog open; er is niets te bevestigen."
    ),
    "dead.confirm.do_discard": "{count} {count|bericht|berichten} afsluiten",
    "dead.reason": "Reden (verplicht; komt in de audittrail)",
    "dead.cancel": "Annuleren, terug naar de onbestelbare berichten",
    "dead.outcome": "Uitkomst",
    "dead.outcome.would_resend": "zou herzonden worden",
    "dead.outcome.would_skip": "zou overgeslagen worden",
    "dead.outcome.resent": "herzonden",
    "dead.outcome.skipped": "overgeslagen",
    "dead.outcome.left_out": "weggelaten",
    "dead.outcome.discarded": "afgesloten",
    "dead.outcome.would_discard": "zou worden afgesloten",
    "dead.outcome.stays_open": "blijft open",
    "dead.note": "Toelichting",
    "dead.new_message": "Nieuw bericht",
    "dead.done.resend": "Herzonden",
    "dead.done.discard": "Afgesloten",
    "dead.done.none.resend": "Niets herzonden",
    "dead.done.none.discard": "Niets afgesloten",
    "dead.done.none_why.resend": (
        "Geen van de gekozen berichten is herzonden: bij elk staat waarom (een collega kan het "
        "hebben herzonden of afgesloten nadat de lijst getoond werd)."
    ),
    "dead.done.none_why.discard": (
        "Geen van de gekozen berichten is afgesloten: bij elk staat waarom (een collega kan het "
        "hebben afgesloten of herzonden nadat de lijst getoond werd)."
    ),
    "dead.back": "Terug naar de onbestelbare berichten",
    "batch.title": "De berichten van deze zoekopdracht herzenden",
    "batch.count": (
        "{total} {total|bericht|berichten} gevonden; {going} {going|zou|zouden} herzonden worden."
    ),
    "batch.do": "{count} {count|bericht|berichten} herzenden",
    "batch.already.delivered": (
        "{count} ervan {count|is|zijn} al afgeleverd (zie Status): herzenden verstuurt "
        "{count|het|ze} nog een keer."
    ),
    "batch.already.resent": (
        "{count} ervan {count|is|zijn} al herzonden (zie Eerder herzonden, nieuwste eerst): "
        "kijk eerst naar die herzendingen; herzenden maakt er van elk nog een."
    ),
    "batch.status": "Status",
    "batch.earlier": "Eerder herzonden",
    "batch.earlier.times": "{count} {count|keer|keer}",
    "batch.earlier.none": "nooit",
    "batch.earlier.none_seen": "geen die je mag zien",
    "batch.cancel": "Annuleren, terug naar de berichten",
    "batch.back": "Terug naar de berichten",
    "batch.tally.resent": "{count} herzonden",
    "batch.tally.discarded": "{count} afgesloten",
    "batch.tally.skipped": "{count} overgeslagen",
    "batch.tally.left_out": "{count} weggelaten",
    "batch.tally.stays_open": "{count} {count|blijft|blijven} open",
    "batch.tally.why": (
        "De {count} niet {count|behandelde bericht staat|behandelde berichten staan} bovenaan, "
        "{count|met de reden|elk met de reden}."
    ),
    "batch.now": "De nieuwe berichten nu:",
    "batch.now.each": "{count} {status}",
    "batch.now.reload": "Laad deze pagina opnieuw voor hun laatste status.",
    "batch.status_now": "Status nu",
    "batch.withheld.resend": (
        "Wat herzonden is, wordt niet getoond: het noemt berichten in clusters waarin je niet "
        "meer mag herzenden (er is je sindsdien een rol of cluster afgenomen). De audittrail "
        "bewaart wat er gedaan is."
    ),
    "batch.withheld.discard": (
        "Wat afgesloten is, wordt niet getoond: het noemt onbestelbare berichten in clusters "
        "waarin je niet meer mag afsluiten (er is je sindsdien een rol of cluster afgenomen). "
        "De audittrail bewaart wat er gedaan is."
    ),
    "batch.start": "Deze berichten herzenden…",
    "messages.total": "{first}–{last} van {total} gevonden {total|bericht|berichten}",
    "confirm.to_form": "Lijst overslaan: naar de reden en de knop",
    "batch.note": (
        "Je ziet eerst wat herzonden en wat overgeslagen wordt, en waarom; "
        "hoogstens {limit} tegelijk."
    ),
    "unrouted.title": "Gebeurtenissen zonder bestemming",
    "unrouted.intro": (
        "Gebeurtenissen die zijn opgeslagen terwijl geen bestemming hun zorgaanbieder bediende "
        "(hoogstens {shown}). Routeer ze zodra een bestemming die bedient."
    ),
    "unrouted.empty": "Geen gebeurtenissen zonder bestemming.",
    "unrouted.event": "Gebeurtenis",
    "unrouted.provider": "Zorgaanbieder",
    "unrouted.received": "Ontvangen",
    "unrouted.select_one": "Gebeurtenis {id} kiezen",
    "unrouted.forbidden": (
        "Een gebeurtenis zonder bestemming ligt in geen cluster, dus de pagina's ervan zijn "
        "alleen voor wie de bevoegdheid voor alle clusters heeft. Vraag een beheerder als je ze "
        "nodig hebt."
    ),
    "unrouted.providers": "Gebeurtenissen zonder bestemming, per zorgaanbieder",
    "unrouted.waiting": "Niet gerouteerd",
    "unrouted.serving": "Nu bediend door",
    "unrouted.route": "Routeren",
    "unrouted.served_by_none": (
        "nog geen bestemming bedient deze: routeren levert niets op. Een beheerder met de rol "
        "destinations voegt er een toe; tot dan wachten de gebeurtenissen hier"
    ),
    "unrouted.none_routable": (
        "Nog geen bestemming bedient de zorgaanbieders van deze gebeurtenissen, dus geen ervan "
        "kan gerouteerd worden. Vraag een beheerder met de rol destinations er een toe te "
        "voegen; tot dan wachten de gebeurtenissen hier, hoogstens de bewaartermijn van "
        "gebeurtenissen zonder bestemming (INTEGRATOR_RETAIN_UNROUTED_DAYS)."
    ),
    "unrouted.route_provider": "Alle gebeurtenissen van {provider} routeren…",
    "unrouted.only_provider": "Alleen zorgaanbieder {provider}.",
    "unrouted.show_all": "Alle zorgaanbieders tonen",
    "unrouted.gone": (
        "De zorgaanbieder van deze link heeft geen gebeurtenissen zonder bestemming meer "
        "(ze zijn inmiddels gerouteerd)."
    ),
    "unrouted.cut": (
        "{shown} van {total} getoond, nieuwste eerst. De CSV-export, "
        "`integrator events list --unrouted` of de API geven de andere."
    ),
    "unrouted.count": "{total} {total|gebeurtenis|gebeurtenissen} zonder bestemming.",
    "unrouted.confirm_title": "Alle gebeurtenissen zonder bestemming van {provider} routeren",
    "unrouted.confirm_count": (
        "{total} {total|gebeurtenis|gebeurtenissen} zonder bestemming van zorgaanbieder "
        "{provider}; {going} {going|zou|zouden} nu gerouteerd worden."
    ),
    "unrouted.destination": "Bestemming",
    "unrouted.messages_count": "Nieuwe berichten",
    "unrouted.would_skip": "Zou niet gerouteerd worden",
    "unrouted.confirm_do": "{count} {count|gebeurtenis|gebeurtenissen} routeren",
    "unrouted.cancel": "Annuleren, terug naar de gebeurtenissen zonder bestemming",
    "once.again.route": "Dit is al gedaan op {at} door {by}; er is niets opnieuw gerouteerd.",
    "unrouted.route_hint": "Hoogstens {max} gebeurtenissen tegelijk.",
    "unrouted.route_now": "Nu routeren",
    "unrouted.done": "Gerouteerd",
    "unrouted.done_none": "Niets gerouteerd",
    "unrouted.done_count": "{routed} van {total} {total|gebeurtenis|gebeurtenissen} gerouteerd.",
    "unrouted.messages": "Berichten gemaakt voor",
    "unrouted.back": "Terug naar de gebeurtenissen zonder bestemming",
    "unrouted.csv": "Exporteren als CSV",
    "unrouted.csv_note": (
        "Hoogstens {limit} gebeurtenissen, nieuwste eerst; alleen kenmerken, geen "
        "patiëntgegevens. De export wordt vastgelegd in de audittrail."
    ),
    "rejected.title": "Geweigerde invoer",
    "rejected.intro": (
        "Wat de intake weigerde (geen JSON, of een regel overtreden), bewaard zoals het "
        "binnenkwam, nieuwste eerst. De lijst noemt de overtreden regels, nooit de inhoud; open "
        "er een om meer te zien."
    ),
    "rejected.empty": "Geen geweigerde invoer.",
    "rejected.more": (
        "Alleen de nieuwste {shown} van {total} staan hier. "
        "`integrator rejected list --limit N` en GET /api/v1/rejected?limit=N tonen er meer."
    ),
    "rejected.count": "Gevonden: {total}",
    "rejected.since": "Ontvangen vanaf (datum, datum-tijd, of een periode tot nu, zoals 24u)",
    "rejected.until": "Ontvangen tot en met (datum, datum-tijd, of een periode tot nu, zoals 2u)",
    "rejected.zd_number": "ZD-nummer",
    "rejected.provider": "Zorgaanbieder",
    "rejected.bsn": "BSN",
    "rejected.any": "alle",
    "rejected.filter": "Filteren",
    "rejected.id": "Id",
    "rejected.open": "Geweigerde invoer {id} openen",
    "rejected.received": "Ontvangen",
    "rejected.source": "Bron",
    "rejected.caller": "Verstuurd door",
    "rejected.bytes": "Grootte (bytes)",
    "rejected.problems": "Overtreden regels",
    "rejected.one_title": "Geweigerde invoer {id}",
    "rejected.summary": "Samenvatting",
    "rejected.rules": "Overtreden regels",
    "rejected.field": "Veld",
    "rejected.rule": "Regel",
    "rejected.message": "Wat er mis is",
    "rejected.input": "De invoer zoals die binnenkwam",
    "rejected.reveal": "Toon de invoer",
    "rejected.reveal_hint": (
        "Die kan patiëntgegevens bevatten: het tonen wordt op jouw naam in de audittrail "
        "vastgelegd."
    ),
    "rejected.withheld": (
        "De invoer kan patiëntgegevens bevatten: alleen wie patiëntgegevens mag lezen voor "
        "alle clusters ziet die."
    ),
    "rejected.audited": "Dit bekijken van de invoer is op jouw naam in de audittrail vastgelegd.",
    "rejected.not_kept": (
        "Van de invoer is niets bewaard: die werd geweigerd voordat die gelezen werd (de "
        "overtreden regel zegt waarom, en hoe groot de invoer was), dus er is niets te tonen."
    ),
    "rejected.cut": (
        "Alleen de eerste {shown} tekens staan hier. `integrator rejected show {id}` op de "
        "server, of GET /api/v1/rejected/{id}, geeft alles."
    ),
    "rejected.back": "Terug naar de geweigerde invoer",
    "rejected.forbidden": (
        "Geweigerde invoer ligt in geen enkel cluster en is dus alleen voor wie berichten mag "
        "lezen voor alle clusters. Vraag een beheerder als je het nodig hebt."
    ),
    "rejected.body_forbidden": (
        "De invoer zoals die binnenkwam kan patiëntgegevens bevatten en ligt in geen enkel "
        "cluster: alleen wie patiëntgegevens mag lezen voor alle clusters, mag die zien. Er is "
        "niets getoond of vastgelegd."
    ),
    "rejected.not_found": (
        "Er is geen geweigerde invoer met dit id. Geweigerde invoer wordt na de bewaartermijn "
        "verwijderd (INTEGRATOR_RETAIN_REJECTED_DAYS)."
    ),
    "rejected.bad_id": (
        "Dit is geen id van geweigerde invoer: gebruik de link in de lijst, of de eerste 4 of "
        "meer hexadecimale tekens, waarmee geen ander id begint."
    ),
    "audit.title": "Audittrail",
    "audit.actor": "Wie",
    "audit.action": "Handeling",
    "audit.message": "Bericht-id",
    "audit.destination": "Bestemming",
    "audit.target": "Onderwerp",
    "audit.since": "Vanaf (datum, datum-tijd, of een periode tot nu, zoals 24u)",
    "audit.until": "Tot en met (datum, datum-tijd, of een periode tot nu, zoals 2u)",
    "audit.search": "Zoeken",
    "audit.by_patient": "Zoeken op patiënt",
    "audit.bsn": "BSN van de patiënt",
    "audit.search_patient": "Zoeken op BSN",
    "audit.searched_by_bsn": (
        "Gezocht op BSN; deze zoekopdracht staat één keer in de audittrail. Het BSN staat in "
        "geen enkel adres: de pagina's van deze zoekopdracht gebruiken een code die alleen "
        "voor jou werkt, {minutes} minuten lang."
    ),
    "audit.csv": "Deze regels exporteren als CSV",
    "audit.empty": "Geen regels gevonden.",
    "audit.total": "{first}–{last} van {total} gevonden {total|regel|regels}",
    "audit.total_beyond": "{first}–{last} van meer dan {total} gevonden regels",
    "audit.at": "Wanneer",
    "audit.reason": "Reden",
    "audit.details": "Details",
    "audit.origin": "Waarvandaan",
    "audit.origin.command_line": "opdrachtregel (op de server)",
    "audit.origin.token": "API-token {name}",
    "audit.origin.engine": "de engine zelf",
    "audit.yes": "ja",
    "audit.no": "nee",
    "audit.more": "Oudere regels",
    "audit.to_summary": (
        "Overzicht: wie patiëntgegevens bekeek of lijsten exporteerde (de controle volgens "
        "NEN 7513)"
    ),
    "audit.summary.title": "Overzicht van de audittrail",
    "audit.summary.to_trail": "Terug naar de audittrail",
    "audit.summary.intro": (
        "Wie in een periode patiëntgegevens bekeek of lijsten exporteerde, per persoon, "
        "API-token of gebruiker van de opdrachtregel: de controle van de toegangslog die NEN "
        "7513 vraagt. Een export bevat alleen patiëntgegevens als die op BSN is gemaakt; de "
        "andere worden meegeteld zodat elke lijst die de engine verlaat verantwoord is. "
        "Patiënten worden onderscheiden met de gesleutelde hash van hun BSN; er wordt geen "
        "BSN getoond. Elk overzicht wordt zelf vastgelegd in de audittrail (audit.summary)."
    ),
    "audit.summary.views_and_exports": "Bekijken van patiëntgegevens en exporteren",
    "audit.summary.make": "Overzicht maken",
    "audit.summary.default": (
        "Zonder ‘Vanaf’ telt het overzicht de {days} dagen vóór ‘Tot en met’, of vóór nu. "
        "Zonder handeling: {actions}."
    ),
    "audit.summary.period": "Van {since} tot {until} (niet inbegrepen)",
    "audit.summary.counted": "Geteld: {actions}",
    "audit.summary.empty": "Geen regels van deze handelingen in deze periode.",
    "audit.summary.views": "Bekeken",
    "audit.summary.patients": "Verschillende patiënten",
    "audit.summary.without_reason": "Zonder reden",
    "audit.summary.first": "Eerste",
    "audit.summary.last": "Laatste",
    "audit.summary.views_of": "{count} keer bekeken door {actor}, in de audittrail",
    "audit.summary.total": "Totaal ({count} {count|gebruiker|gebruikers})",
    "people.title": "Personen",
    "people.name": "Naam",
    "people.email": "E-mailadres",
    "people.status": "Status",
    "people.status.invited": "uitgenodigd",
    "people.status.reset": "opnieuw uitgenodigd (tweede factor gereset)",
    "people.status.active": "actief",
    "people.status.deactivated": "gedeactiveerd",
    "people.locked": "geblokkeerd",
    "people.grants": "Rollen",
    "people.grants_hint": "Een rol per regel; laat het cluster leeg voor alle clusters.",
    "people.role_n": "Rol {n}",
    "people.cluster_n": "Cluster {n}",
    "people.all_clusters": "alle clusters",
    "grants.only_in": "{role}: alleen voor {clusters}",
    "grants.not_offered": "{role} wordt niet aangeboden: {why}",
    "people.invite": "Persoon uitnodigen",
    "people.invite_send": "Uitnodigen",
    "people.invite_refused": "Er is niemand uitgenodigd: zie waarom bij de velden hieronder.",
    "people.link.title": "Uitnodiging gemaakt",
    "people.link.intro": "Geef deze link door aan {email}; hij werkt één keer, tot {expires}.",
    "people.link.label": "Uitnodigingslink",
    "people.link.sent": (
        "De uitnodiging is per e-mail naar {email} gestuurd; de link werkt één keer, tot {expires}."
    ),
    "people.link.once": "De link wordt alleen nu getoond en niet bewaard.",
    "people.back": "Terug naar personen",
    "people.inactive": "Ingetrokken rollen",
    "people.deactivate_role": "Deze rol intrekken",
    "people.deactivate_role_named": "Deze rol intrekken: {grant}",
    "people.drop_reason": "Reden om {grant} in te trekken",
    "people.grants_reason": "Reden om de rollen te wijzigen",
    "people.change_grants": "Rollen wijzigen",
    "people.save_grants": "Rollen opslaan",
    "people.invitation": "Uitnodiging",
    "people.reinvite": "Uitnodiging opnieuw sturen",
    "people.invitation_until": (
        "De link werkt één keer, tot {at}. Opnieuw sturen maakt een nieuwe link; de link die "
        "is doorgegeven werkt dan niet meer."
    ),
    "people.invitation_expired": (
        "De link is verlopen op {at}: die werkt niet meer. Stuur de uitnodiging opnieuw voor "
        "een nieuwe."
    ),
    "people.link_expired": "link verlopen",
    "people.reinvited.title": "Uitnodiging opnieuw gestuurd",
    "people.reinvited.again": (
        "Dit is al gedaan op {at} door {by}; er is geen nieuwe link gemaakt."
    ),
    "people.reinvited.shown_once": (
        "De link is één keer getoond, op de pagina die antwoordde, en wordt niet bewaard. Hij "
        "werkt nog als hij is doorgegeven; is hij kwijt, stuur de uitnodiging dan opnieuw voor "
        "een nieuwe."
    ),
    "people.reinvited.sent": "De link is per e-mail naar {email} gestuurd.",
    "people.reinvited.failed": (
        "Die eerste poging is niet afgerond; zie de audittrail. Er is verder niets gedaan."
    ),
    "people.reinvited.back": "Terug naar de persoon",
    "people.account_elsewhere": (
        "Deze persoon heeft ook een rol buiten jouw clusters: alleen een beheerder daarvan mag "
        "de tweede factor resetten of het account deactiveren."
    ),
    "people.deactivate": "Account deactiveren",
    "people.deactivate.hint": (
        "Voor wie is vertrokken: inloggen, sessies en API-tokens stoppen voorgoed."
    ),
    "people.deactivate.start": "Account deactiveren…",
    "people.deactivate.what": "Het account van {email} deactiveren doet meteen het volgende:",
    "people.deactivate.ends": (
        "Alle sessies van dit account eindigen, de open uitnodigingslinks en de eigen "
        "API-tokens werken niet meer, en inloggen kan niet meer."
    ),
    "people.deactivate.final": (
        "Dit kan niet ongedaan worden gemaakt: heractiveren bestaat niet, en dit adres kan niet "
        "opnieuw worden uitgenodigd. Voor wie een tijd weg is: trek liever de rollen in."
    ),
    "people.deactivated_roles": (
        "De rollen die dit account had toen het werd gedeactiveerd, ter informatie: geen ervan "
        "is nog van kracht, dus er is niets in te trekken."
    ),
    "people.deactivated_final": (
        "Dit account is gedeactiveerd, en dat kan niet ongedaan worden gemaakt: heractiveren "
        "bestaat niet, en dit adres kan niet opnieuw worden uitgenodigd. Er valt niets aan te "
        "wijzigen; wie weer toegang nodig heeft, wordt met een ander adres uitgenodigd."
    ),
    "people.deactivate.do": "Account deactiveren",
    "people.deactivate.cancel": "Annuleren",
    "people.deactivate.kept_title": "Machinetokens die deze persoon heeft gemaakt",
    "people.deactivate.kept": (
        "{email} heeft {count} {count|machinetoken|machinetokens} gemaakt. "
        "{count|Het blijft|Ze blijven} werken nadat het account is gedeactiveerd, zodat een "
        "aanleverend systeem niet stopt omdat wie het token maakte weg is. Trek "
        "{count|het in als het moet|de tokens in die moeten} stoppen:"
    ),
    "people.deactivate.kept_none": "{email} heeft geen machinetoken gemaakt dat nu werkt.",
    "people.deactivate.kept_revoke": "Trek ze in op de pagina API-tokens",
    "people.deactivate.loses": "Verliest: {grants} (leest patiëntgegevens)",
    "people.deactivate.loses_note": (
        "Een gedeactiveerde persoon heeft geen rollen meer, dus deze tokens verliezen de rollen "
        "die patiëntgegevens lezen: een token dat in de console of via de API is gemaakt, "
        "heeft zo'n rol alleen waar wie het maakte die rol heeft. Hun andere rollen blijven."
    ),
    "people.tokens_title": "API-tokens die deze persoon heeft gemaakt",
    "people.tokens_intro": (
        "Een rol die patiëntgegevens leest werkt op deze tokens alleen waar {email} die rol nu "
        "heeft; een rol die {email} kwijtraakt is op deze tokens ook opgeschort, en werkt weer "
        "als de rol wordt teruggegeven."
    ),
    "people.tokens_none": "{email} heeft geen token gemaakt dat nu werkt.",
    "people.own": (
        "Dit zijn je eigen rollen: een andere beheerder, of de CLI op de server (integrator "
        "users), wijzigt ze of deactiveert je account."
    ),
    "people.reset.title": "Tweede factor resetten",
    "people.reset.hint": (
        "Voor wie de telefoon kwijt is, of wiens authenticator niet meer werkt, en geen "
        "herstelcodes meer heeft."
    ),
    "people.reset.start": "Tweede factor resetten…",
    "people.reset.what": "De tweede factor van {email} resetten doet meteen het volgende:",
    "people.reset.ends": (
        "De authenticator-app, de herstelcodes en het wachtwoord van dit account werken niet "
        "meer, en alle sessies ervan in de console worden beëindigd."
    ),
    "people.reset.link": (
        "Deze persoon krijgt een nieuwe instellink (7 dagen geldig, per e-mail als er een "
        "mailserver is ingesteld, anders aan jou getoond) om een nieuw wachtwoord te kiezen, "
        "een nieuwe authenticator in te stellen en nieuwe herstelcodes te krijgen. Tot dan "
        "staat het account als uitgenodigd."
    ),
    "people.reset.keeps": (
        "De rollen en API-tokens van dit account blijven (trek tokens zo nodig apart in)."
    ),
    "people.reset.do": "Tweede factor resetten",
    "people.reset.cancel": "Annuleren",
    "people.reset_link.title": "Tweede factor gereset",
    "people.reset_link.done": (
        "De tweede factor van {email} is gereset: de authenticator, de herstelcodes, het "
        "wachtwoord en de sessies van dit account werken niet meer."
    ),
    "people.reset_link.label": "Instellink",
    "people.reset_link.sent": (
        "De instellink is per e-mail naar {email} gestuurd; hij werkt één keer, tot {expires}."
    ),
    "tokens.title": "API-tokens",
    "tokens.own_intro": (
        "Je eigen tokens, voor de integrator-opdrachten die via de draaiende engine gaan (zet "
        "INTEGRATOR_TOKEN) of een eigen script. Een token heeft hoogstens je eigen rollen en "
        "clusters en stopt zodra je die kwijtraakt. Houd het geheim: wat ermee gebeurt, wordt "
        "onder zijn naam vastgelegd."
    ),
    "tokens.empty": "Geen tokens.",
    "tokens.name": "Naam",
    "tokens.prefix": "Begint met",
    "tokens.status.active": "actief",
    "tokens.status.expired": "verlopen",
    "tokens.status.revoked": "ingetrokken",
    "tokens.status.stopped": "gestopt (het token dat het maakte, werkt niet meer)",
    "tokens.suspended": "{grant} opgeschort: {why}",
    "tokens.expires": "Verloopt",
    "tokens.last_used": "Laatst gebruikt",
    "tokens.revoke": "Intrekken",
    "tokens.revoke_named": "{name} intrekken",
    "tokens.revoke_reason": "Reden om {name} in te trekken",
    "tokens.create_reason": "Reden voor het nieuwe token",
    "tokens.create": "Token aanmaken",
    "tokens.refused": "Er is geen token aangemaakt: zie waarom bij de velden hieronder.",
    "tokens.days": "Geldig (dagen; leeg: {days})",
    "tokens.created": "Token aangemaakt",
    "tokens.created_intro": "Token {name}, geldig tot {expires}.",
    "tokens.secret": "Token",
    "tokens.once": "Kopieer het nu: het wordt alleen nu getoond en is daarna niet meer te lezen.",
    "tokens.back": "Terug naar de tokens",
    "tokens.made_already.title": "Het token is bij je eerste klik gemaakt",
    "tokens.made_already.again": (
        "Token {name} is om {at} gemaakt, bij de eerste klik op Token aanmaken; deze tweede "
        "klik heeft niets gemaakt."
    ),
    "tokens.made_already.secret_gone": (
        "Het geheim is alleen getoond als antwoord op die eerste klik, dat de browser door "
        "deze pagina heeft vervangen. Het is nergens bewaard en niet opnieuw te tonen: trek "
        "dit token in en maak een nieuw, waarvan het geheim wel wordt getoond."
    ),
    "tokens.made_already.failed": (
        "De eerste klik op Token aanmaken, om {at}, is mislukt; deze tweede klik heeft niets "
        "gemaakt. Kijk in de lijst of er toch een token is gemaakt voordat je het opnieuw maakt."
    ),
    "tokens.made_already.at_work": (
        "De eerste klik op Token aanmaken, om {at}, is nog bezig; deze tweede klik heeft niets "
        "gemaakt. Kijk zo in de lijst: van een token dat die klik maakte is het geheim niet "
        "opnieuw te tonen, dus trek het in en maak een nieuw."
    ),
}
