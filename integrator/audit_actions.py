"""Every action the audit trail records: the one list a search by action is checked against.

An entry's action is a closed set of the engine's own words (``message.resend``,
``person.invite``), written in many places: the access service, the store's transactions,
destination changes, exports, data lifecycle. A search by an action the engine never writes
(``--action mesage.resend``, ``?action=resend``) can find nothing, and answered with an empty
trail it reads as "nobody did that"; so the CLI, the API and the console refuse it
(``audit.build_audit_filter``), naming the term and listing these.

``tests/audit/test_audit_actions.py`` reads every place an entry is written and fails when one
writes an action that is not here, or when one here is written nowhere: a new action cannot be
forgotten. The trail outlives the code (five years by default): an action a later version stops
writing moves to ``NO_LONGER_WRITTEN``, so its entries can still be found.

Only the standard library and ``history_actions`` are imported: the CLI checks a term before
it opens the store.
"""

from __future__ import annotations

from typing import Final

from integrator import history_actions

DESTINATION_CHANGES: Final = {
    kind: f"destination.{kind}" for kind in history_actions.ACTIONS if kind != history_actions.FILE
}
"""A change made through the CLI, the API or the console, by the kind of revision it records
(``history_actions``; a rollback's ``rollback to N`` is ``rollback``). A hand edit of the file
is ``destination.file`` (``file_audit``)."""

ACCESS: Final = (
    "person.create_admin",
    "person.invite",
    "person.reinvite",
    "person.reset_second_factor",
    "invitation.open",
    "person.accept",
    "person.grants",
    "person.role_deactivate",
    "person.deactivate",
    "login.success",
    "login.failure",
    "login.locked",
    "login.throttled",
    "logout",
    "token.create",
    "token.revoke",
)
"""People, their sign-ins and API tokens (``access.service``)."""

DESTINATIONS: Final = (
    *DESTINATION_CHANGES.values(),
    "destination.file",
    "destination.file_refused",
    "destination.file_restored",
    "destination.test",
    "destination.try_now",
)
"""Destinations changed, their files read by the engine, tested, their retries made due."""

MESSAGES: Final = (
    "message.resend",
    "message.try_now",
    "deadletter.discard",
    "event.route",
    "patient_data.view",
)
"""What was done to messages and events, and patient data seen."""

EXPORTS: Final = ("messages.export", "events.export", "audit.export", "export.cut")
"""CSV exports (``exports``), and one that ended before its last row (``export_stream``)."""

AUDIT: Final = ("audit.summary",)
"""The audit trail itself reviewed: who viewed patient data or exported listings, per actor
(``audit_reads.summarise_audit``)."""

DATA: Final = (
    "data.prune_start",
    "data.prune",
    "data.prune_audit",
    "data.backup",
    "data.backup_failed",
    "datakey.register",
    "datakey.rotate",
    "datakey.retire",
)
"""The data's lifecycle: retention, backups, the keys that seal it."""

NO_LONGER_WRITTEN: Final[tuple[str, ...]] = ()
"""Actions an earlier version wrote and this one does not: entries of them may still be in
the trail, so they stay searchable."""

ACTIONS: Final = tuple(
    sorted({*ACCESS, *DESTINATIONS, *MESSAGES, *EXPORTS, *AUDIT, *DATA, *NO_LONGER_WRITTEN})
)
"""Every action, sorted: the list a refused search names."""


def is_action(action: str) -> bool:
    """Whether the engine writes ``action`` (as stored: lower case)."""
    return action in _KNOWN


_KNOWN: Final = frozenset(ACTIONS)
