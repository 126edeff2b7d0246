"""Destination management for operators: the one model behind the CLI and the HTTP API.

The files in ``INTEGRATOR_DESTINATIONS_DIR`` are authoritative. Every change made here validates
the new definition exactly as the engine would (file format, known and not-retired versions),
writes the file atomically, and records a revision in the store (who, when, why, the diff and
the whole definition, so any revision can be rolled back). A running engine picks the file up
at once when the change came through its API, and within seconds otherwise (it watches the
directory; SIGHUP forces a reload). Hand edits of the files (and files deleted by hand) are
recorded as revisions by the engine when it loads them, with actor ``file``, and audited with
them (``integrator.file_audit``).

A change is written into the file's own text (``destinations.document``), so the comments and
layout people gave it stay; a change that changes nothing writes nothing and records nothing.

Changes made at the same moment, in one engine or in several processes on several hosts (two
CLIs, a CLI and an engine's API or console), are ordered by the store, the one thing all of them
certainly share (the destinations directory may be a network file system, where file locks are
not to be relied on). A change is made to a revision, N: the one the caller expects
(``expected_revision``) or else the last one recorded, read before the file. It takes revision
N + 1 in the store first, writes the file while holding it, and commits it after
(``Store.recording_destination_revision``: the unique (destination, revision) index lets one
change have N + 1, a second waits for it and fails). A change that does not get N + 1, or that
finds the file changed since it read it, writes nothing: with an expected revision it is refused
(``DestinationChanged``), without one it is made again, to what overtook it. So the check and
the write are one step, a winner's change is never written over, and file and history agree.
The asyncio lock (the engine's, when made through one) is no part of that: it keeps the
engine's own reloads out of the middle of a change made through it.

A destination whose file is refused (*broken*) stays visible and workable: the tools run on its
last good definition, the last recorded revision, as the engine does. A change to it is made to
that definition and rewrites the refused file from it (keeping the file's comments if it is YAML
at all); the refused edit is gone then, and the change says so. A refused file that already says
the definition (refused for a TLS file gone, not for its text) is left as it is.

The TLS files a change brings in must lie in the directory of the destination's cluster in the
TLS directory (``INTEGRATOR_TLS_DIR``, ``destinations.tls_dir``), refused outside it before
anything looks at them: checking them (there, readable, loads) told the API's and the console's
callers, who are not the server's administrators, which files the server holds, and one
directory for all let a manager of one cluster give its destination another cluster's client
identity. The paths the definition in service names are kept wherever they are while it stays
in its cluster, and the command line is not held to it (``trusting_tls_paths``). A change that
would put a destination in a cluster not the caller's is refused before anything in it is
checked, so no cluster's files are looked at for someone who may not use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import difflib
import os
import secrets
import stat
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from deadletter.letters import count_open_dead_letters
from destinations.ack import classify_ack
from destinations.cert_expiry import certificate_expiries
from destinations.config import (
    EVENT_TYPES,
    DestinationConfig,
    DestinationFileError,
    RetrySettings,
    TlsSettings,
    definition_of,
    destination_from_mapping,
    destination_from_yaml,
    directory_problem,
    dump_destination,
    entry_kind,
    file_destination_id,
    is_text_key,
    load_destination_file,
    load_value,
    parse_yaml,
)
from destinations.document import render_onto
from destinations.errors import DeliveryError
from destinations.file_reads import TLS_FILES, FileReads
from destinations.tls_dir import TlsDirectory
from destinations.worker import FAILED, MessageAnswers, answer_codes
from integrator import file_audit, history_actions
from integrator.access.errors import AccessDenied
from integrator.audit_actions import DESTINATION_CHANGES
from integrator.catalog import (
    Broken,
    Catalog,
    build_catalog,
    refusals_by_destination,
    shared_providers,
    version_problems,
    version_warnings,
)
from integrator.change_intents import Intent, drop_intent, keep_intent, read_intent
from integrator.clusters import cluster_of
from integrator.counting import counted
from integrator.delivery import mllp_client
from integrator.deprecation import resolve_version
from integrator.destination_dir import files_of
from integrator.errors import ConfigurationError, PermanentError, StateConflict
from integrator.file_paths import file_as_seen, problem_as_seen
from integrator.ids import new_control_id
from integrator.intake import mapping_context
from integrator.last_attempt import LastAttempt, last_attempt, last_attempts
from integrator.no_destination_files import CHANGING, refuse_without_files
from integrator.presenters import destination_pause_view, iso_time, shown_time
from integrator.reasons import bounded
from integrator.refused_edits import RefusedCopy, edited_keys, kept_copies, refused_copy_path
from integrator.removed_destinations import Removal, elsewhere_than_removed, removal_of
from integrator.settings import Settings
from integrator.store import (
    AuditRecord,
    Conflict,
    DestinationRevision,
    MessageFilter,
    MessageRecord,
    MessageStatus,
    RevisionAudit,
    RevisionTaken,
    Store,
    StoreError,
)
from integrator.store.destination_history import MessagesWaiting, WaitingDeadLettered
from integrator.testmessage import synthetic_event
from mappings import MappingError, map_event
from shapes import NUMBER, TEXT, Shape, shell_word

if TYPE_CHECKING:
    from integrator.stray_files import StrayFile  # it imports this module (``problem_view``)

PENDING = ("queued", "sending", "retrying", "held")

# The last error of the messages a removed destination was still to deliver (``shapes``):
# who removed it, and why in their own words.
# The command's provider is quoted for a shell (``shell_word``): a destinations manager names
# providers, and whoever copies the command must run nothing one holds (``x$(...)``).
UNROUTED_WAITING = Shape(
    "notice.unrouted_waiting",
    "{count} unrouted event(s) wait for provider {provider!r}, now served by this destination: "
    'route them with `integrator events route --provider {provider_word} --reason "..."`',
    count=NUMBER,
    provider=TEXT,
    provider_word=shell_word("provider"),
)
"""A change that serves a provider whose events wait unrouted: they are not routed by it."""
UNROUTED_STILL_WAITING = Shape(
    "notice.unrouted_still_waiting",
    "{count} unrouted event(s) still wait for provider {provider!r}, which this destination "
    'serves: route them with `integrator events route --provider {provider_word} --reason "..."`',
    count=NUMBER,
    provider=TEXT,
    provider_word=shell_word("provider"),
)
"""The same reminder at a later change (a pause, a port, a rollback), which did not make the
destination serve them: "now served" claimed what no change had brought."""
NO_PROVIDERS = Shape(
    "notice.no_providers",
    "destination {id!r} serves no providers: it receives nothing",
    id=r"[A-Za-z0-9][A-Za-z0-9._-]*",
)
REMOVED = Shape("destination.removed", "destination removed by {actor}", actor=r"\S+")
REMOVED_BECAUSE = Shape(
    "destination.removed_because",
    "destination removed by {actor}: {reason}",
    actor=r"\S+",
    reason=TEXT,
)


class UnknownDestination(PermanentError):
    """No destination has this id. ``configured``: the ids there are, listed so that a typo
    can be put right (as a refused ``--destination`` lists them); None where the asker may
    not see them all (the API answers one outside the caller's clusters as unknown)."""

    exit_code = 2

    def __init__(self, destination_id: str, configured: Iterable[str] | None = None) -> None:
        from integrator.search import holds_bsn

        known = (
            "" if configured is None else f"; configured: {', '.join(sorted(configured)) or 'none'}"
        )
        # A typo is said back to be put right; a BSN pasted as the id never is (it would stay
        # in a terminal's scrollback, a script's log, the API's answer).
        named = (
            "the id given (not repeated here: it looks like a BSN)"
            if holds_bsn(destination_id)
            else f"id {destination_id!r}"
        )
        super().__init__(f"no destination with {named}{known}")


def stranded_said(destination_id: str, waiting: int) -> str:
    """What to do for messages that wait for a destination no file defines any more (its file
    deleted by hand): nothing sends them, and nothing else says so."""
    one = waiting == 1
    them = "it" if one else "them"
    return (
        f"{counted(waiting, 'message')} {'waits' if one else 'wait'} for {destination_id}, "
        "which no file defines any more (its file was deleted by hand), and "
        f"{'is' if one else 'are'} not sent: bring it back with integrator "
        f"destinations rollback {destination_id} REVISION (integrator destinations history "
        f"{destination_id} lists them) to send {them}; to dead-letter {them} instead, first bring "
        f"it back so, then remove it with integrator destinations remove {destination_id} "
        "--force"
    )


class StrandedMessages(ConfigurationError):
    """Removing a destination whose file is gone while messages still wait for it: said with
    what to do (``stranded_said``), not as an unknown id."""

    exit_code = 2

    def __init__(self, destination_id: str, waiting: int) -> None:
        super().__init__(stranded_said(destination_id, waiting))


class DestinationBusy(StateConflict):
    """Removal refused while messages wait for the destination: a state conflict (exit 1, the
    API's 409), not bad input; the same removal goes through once they are delivered.

    The service does not know which front door asked, so its message says "force the removal";
    the CLI and the API each name their own way of forcing it with ``explain``.
    """

    def __init__(self, destination_id: str, waiting: int) -> None:
        self.destination_id = destination_id
        self.waiting = waiting
        super().__init__(self.explain("force the removal"))

    def explain(self, how_to_force: str) -> str:
        them = "it" if self.waiting == 1 else "them"
        return (
            f"destination {self.destination_id!r} still has "
            f"{counted(self.waiting, 'message')} waiting; deliver {them} first, or "
            f"{how_to_force} to dead-letter {them}"
        )


class ReasonRefused(ConfigurationError):
    """A change's reason the history and the audit trail do not take: one longer than
    ``reasons.MAX_REASON`` characters (``reasons.bounded``, coded ``reason.too_long``),
    refused before anything is written or recorded.

    As for ``DestinationBusy``, the service does not know which front door asked: its text
    names the API's field (``reason: at most 1000 characters``; the API refuses a longer
    ``X-Integrator-Reason`` header before this is reached) and the command line names its own
    option with ``explain("--reason")``. Never the reason itself: it may be anything pasted.
    """

    def __init__(self, rule: str) -> None:
        self.rule = rule
        super().__init__(self.explain("reason"))

    def explain(self, field: str) -> str:
        return f"{field}: {self.rule}"


def _bounded_reason(reason: str | None) -> str | None:
    """A change's reason as given (it may have none), ``ReasonRefused`` when it is longer
    than ``reasons.MAX_REASON``: checked first, by every change, as the API and the console
    check it at their doors, so the command line cannot record what they refuse."""
    return bounded(reason, ReasonRefused)


class DestinationPaused(StateConflict):
    """A test message for a paused destination, asked without saying so: refused.

    Pausing stops a destination's traffic on purpose (receiver maintenance, a wrong address),
    so a test message, which goes out on a connection of its own and not through the paused
    queue, must not slip past that by default. With ``even_if_paused`` it goes, and the audit
    entry says it went to a paused destination. A ``StateConflict`` (exit 1, the API's 409):
    the input is right; the destination's state forbids it. As for ``DestinationBusy``, the
    CLI and the API each name their own override with ``explain``.
    """

    def __init__(self, destination_id: str) -> None:
        self.destination_id = destination_id
        super().__init__(self.explain("say that it may go even though it is paused"))
        self.coded("destination.paused_test", destination=destination_id)

    def explain(self, how_to_override: str) -> str:
        return (
            f"destination {self.destination_id!r} is paused (enabled: false): its traffic was "
            "stopped on purpose, so no test message was sent; resume it first, or "
            f"{how_to_override} (recorded in the audit log)"
        )


class MissingKeys(ConfigurationError):
    """A whole definition that leaves keys out: replacing would silently reset them."""

    def __init__(self, source: str, keys: Sequence[str]) -> None:
        self.keys = tuple(keys)
        super().__init__(
            f"{source}: {', '.join(keys)}: required (a whole definition names every key, "
            "null where a key is unset)"
        )


class DefinitionRefused(ConfigurationError):
    """A definition the engine would refuse; ``problems`` names each key and rule as data, so a
    form can show every one beside its field without reading the message text. The text names
    every one too (``FILE: KEY: RULE; KEY: RULE``), as the engine's log does: the command line
    and the API say it, and an operator fixes all of them in one go."""

    def __init__(self, error: DestinationFileError, *, said: str | None = None) -> None:
        self.problems = error.problems
        self.file = error.file
        rules = "; ".join(f"{problem.key}: {problem.rule}" for problem in error.problems)
        super().__init__(said or f"{error.file}: {rules}")

    def told_by_file_name(self) -> str:
        """The text with the file named by its name alone (``noord.yaml: port: …``): what the
        HTTP API says, whose callers need not learn where the engine keeps its files; the
        command line, run on the server, names the whole path."""
        text = str(self)
        if self.file and text.startswith(f"{self.file}: "):
            return Path(self.file).name + text[len(self.file) :]
        return text

    def named_by_option(self, option: str, keys: Sequence[str]) -> DefinitionRefused:
        """The same refusal said about what people typed, not about a file they never named:
        ``--set rate_limit: must be …`` for a key they set (or a key within it), and ``ordering
        (not in --set): …`` for one they left as it was that a key set now breaks."""
        said = "; ".join(
            f"{option} {p.key}: {p.rule}"
            if _given(p.key, keys)
            else f"{p.key} (not in {option}): {p.rule}"
            for p in self.problems
        )
        return DefinitionRefused(self.problems[0], said=said)

    def named_in_body(self, keys: Collection[str]) -> DefinitionRefused:
        """The same refusal said about a request's body (the API's ``PUT`` and ``PATCH``), not
        about the destination's file, which the caller never named and which was left as it
        was: ``port: must be …`` for a key the body holds, ``ordering (not in the body): …``
        for one it left as it was that a key in it now breaks."""
        said = "; ".join(
            f"{p.key}: {p.rule}" if _given(p.key, keys) else f"{p.key} (not in the body): {p.rule}"
            for p in self.problems
        )
        return DefinitionRefused(self.problems[0], said=said)


def _given(key: str, keys: Collection[str]) -> bool:
    """Whether ``key`` (``retry.initial``) is one of ``keys`` given, or lies within or around
    one: ``retry.initial`` set by ``retry.initial=…`` or by ``retry=…``; ``foo.bar`` given
    where there is no ``foo`` key."""
    return any(
        key == given
        or key.startswith((f"{given}.", f"{given}["))
        or given.startswith((f"{key}.", f"{key}["))
        for given in keys
    )


@dataclass(frozen=True)
class KeyTouched:
    """One top-level key changed by some of the revisions since the one a change was made to:
    which revisions, by whom (in their order, each actor once). Names only, never values."""

    key: str
    revisions: tuple[int, ...]
    actors: tuple[str, ...]

    def said(self) -> str:
        """``port (2, 7 by local:root)``."""
        return f"{self.key} ({_runs(self.revisions)} by {', '.join(self.actors)})"


class DestinationChanged(StateConflict):
    """A change made to a definition read at ``expected`` that someone changed since: refused,
    nothing written (optimistic concurrency, as a form or an API client asks for with the
    revision it read). Two people editing one destination otherwise undo each other silently:
    a save from a form opened before a colleague's pause would make it active again.

    ``latest`` is the last recorded revision (None: the file was edited by hand and the engine
    has not recorded that yet); ``changed_keys`` the top-level keys that differ from
    ``expected``'s definition, so the person knows what to look at. ``between`` holds every
    revision recorded after ``expected`` and ``touched`` which of them changed which key: when
    several came in between, naming only the latest would blame it for all of them (a pause
    "changing port" that someone else made earlier). A ``StateConflict`` (exit 1, the API's
    409): nothing done, nothing wrong with what was asked.
    """

    def __init__(
        self,
        destination_id: str,
        expected: int,
        latest: DestinationRevision | None,
        changed_keys: Sequence[str] = (),
        zone: tzinfo | None = None,
        between: Sequence[DestinationRevision] = (),
        touched: Sequence[KeyTouched] = (),
    ) -> None:
        """``zone``: the time zone the revision's time is told in (the engine's, as the tools
        show times)."""
        self.destination_id = destination_id
        self._zone = zone
        self.expected = expected
        self.latest = latest
        self.changed_keys = tuple(changed_keys)
        self.between = tuple(between)
        self.touched = tuple(touched)
        super().__init__(self._text())

    @property
    def current(self) -> int | None:
        """The revision to try again with (None: none recorded for what is in service yet)."""
        return self.latest.revision if self.latest is not None else None

    @property
    def actors(self) -> tuple[str, ...]:
        """Who made the revisions in between, each once, in the order they acted."""
        return tuple(dict.fromkeys(r.actor for r in self.between))

    @property
    def revisions_between(self) -> str:
        """``2-8``: the numbers of the revisions in between, runs shortened."""
        return _runs([r.revision for r in self.between])

    def told_in(self, zone: tzinfo) -> str:
        """The refusal with the revision's time in ``zone``: the API's is UTC, as every time
        of its JSON is; ``str()`` tells it in the engine's zone, as the console and CLI show
        times."""
        return self._text(zone)

    def _text(self, zone: tzinfo | None = None) -> str:
        zone = zone if zone is not None else self._zone
        since = f"destination {self.destination_id!r} changed since revision {self.expected}"
        if self.latest is None:
            return (
                f"{since}: its file was edited by hand and that is not recorded yet; nothing "
                "was saved: look at the file and try again once it is (a running engine records "
                "it within a second; with none running, a change made without an expected "
                "revision records it first)"
            )
        r = self.latest
        why = f" ({r.reason!r})" if r.reason else ""
        latest = f"{history_actions.told(r.action, r.actor, shown_time(r.at, zone))}{why}"
        again = f"nothing was saved: look at the change and try again with revision {r.revision}"
        if len(self.between) <= 1:
            keys = f", changing {', '.join(self.changed_keys)}" if self.changed_keys else ""
            return f"{since}: revision {r.revision} is {latest}{keys}; {again}"
        touched = ", changing " + ", ".join(t.said() for t in self.touched) if self.touched else ""
        return (
            f"{since}: {len(self.between)} revisions in between ({self.revisions_between}, by "
            f"{', '.join(self.actors)}){touched}; the latest, {r.revision}, is {latest}; "
            f"{again.replace('the change', 'the changes')}"
        )


class UnheldCluster(ConfigurationError):
    """A destination put in a cluster that no other destination is in and no person or token
    is granted: most likely a typo (``CRAD`` for ``CARD``), and the support staff of its old
    cluster would lose it, its messages and its dashboard tile without anyone noticing.

    Raised only when the caller asked for a refusal (the console, until the person confirms);
    otherwise the same words are a warning of the change (the CLI, the API).
    """

    def __init__(
        self, destination_id: str, cluster: str, previous: str | None, in_use: Sequence[str]
    ) -> None:
        self.destination_id = destination_id
        self.cluster = cluster
        self.previous = previous
        self.in_use = tuple(in_use)
        who = (
            f"the people of {previous} will no longer see this destination"
            if previous is not None
            else "only those who hold all clusters will see this destination"
        )
        super().__init__(
            f"no one holds cluster {cluster}: {who}; the clusters in use are: "
            f"{', '.join(self.in_use) or 'none'}"
        )


UnheldClusters = Literal["warn", "refuse"]
"""What a change into a cluster nobody holds does: add a warning to the change, or refuse
(``UnheldCluster``) so that the caller can ask the person to confirm."""


@dataclass(frozen=True)
class Change:
    destination_id: str
    action: str
    revision: int | None  # None: the change changed nothing, so nothing was recorded
    config: DestinationConfig | None
    warnings: tuple[str, ...] = ()
    diff: str = ""
    rewrote_refused_file: str | None = None  # a broken destination's file, rewritten
    dead_lettered: int = 0  # a forced remove: the waiting messages it made dead letters

    @property
    def changed(self) -> bool:
        return self.revision is not None

    def to_json(self) -> dict[str, Any]:
        """The change as the CLI's ``--json`` and the API answer it (one shape for both)."""
        return {
            "destination": self.destination_id,
            "action": self.action,
            "changed": self.changed,
            "revision": self.revision,
            "rewrote_refused_file": self.rewrote_refused_file,
            "dead_lettered": self.dead_lettered,
            "warnings": list(self.warnings),
            "diff": self.diff,
        }


State = Literal["active", "paused", "broken"]


@dataclass(frozen=True)
class DestinationView:
    """A destination as the tools show it: its file, the definition in service, its refusal."""

    id: str
    file: str
    config: DestinationConfig | None  # a broken one's last good definition; None: none known
    broken: Broken | None
    revision: int | None = None
    """The recorded revision in service: a broken one's last good one; another's last one when
    its file says the same (a hand edit the engine has not recorded yet has none)."""

    @property
    def state(self) -> State:
        if self.broken is not None:
            return "broken"
        return "active" if self.config is not None and self.config.enabled else "paused"


@dataclass(frozen=True)
class TestResult:
    destination_id: str
    version: str
    control_id: str
    round_trip_ms: float
    ack_code: str | None
    outcome: str
    ack: str | None
    error: str | None


def _revision_in_service(
    now: dict[str, Any], last: DestinationRevision | None
) -> tuple[int | None, Mapping[str, str]]:
    """The last recorded revision (``last``), when the file's definition (``now``, as
    ``definition_of`` gives it) says the same; and that revision's message versions, by event
    type. A hand edit of other keys (a pause, a port), or of another event type's version, is
    no switch to a version retired since: it loads, as the same change made with the CLI or
    the API does (``_validate``'s ``current``)."""
    if last is None or last.config is None:
        return None, {}
    messages = last.config.get("messages")
    versions = (
        {str(k): str(v) for k, v in messages.items()} if isinstance(messages, Mapping) else {}
    )
    return (last.revision if last.config == now else None), versions


class DestinationAdmin:
    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        today: Callable[[], date],
        now: Callable[[], datetime],
        applied: Callable[[], Awaitable[object]] | None = None,
        lock: asyncio.Lock | None = None,
        in_service: Callable[[], Catalog | None] | None = None,
        stop_delivering: Callable[[str], Awaitable[None]] | None = None,
        stop_routing: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """``applied`` makes a running engine apply a change at once; ``lock`` is the one its
        reloads hold, so a reload never records as a hand edit a file it read just before a
        change made here rewrote it; ``in_service``, the running engine's catalog, is what
        ``catalog`` answers while the directory is gone; ``stop_delivering``, called under
        ``lock``, has the running engine stop delivering to a destination, its attempts on the
        wire finished and recorded (a removal that dead-letters what waits); ``stop_routing``,
        called under ``lock`` too, has its intake route no more events to a destination, those
        routed before being in the store on return (a removal, before it counts what waits)."""
        self._store = store
        self._settings = settings
        self._dir = settings.destinations_dir
        self._today = today
        self._now = now
        self._applied = applied
        self._lock = lock or asyncio.Lock()
        self._in_service = in_service
        self._stop_delivering = stop_delivering
        self._stop_routing = stop_routing
        self._allows: Callable[[str | None], bool] | None = None
        self._source: str | None = None
        # Where the TLS files a change brings in must lie (``destinations.tls_dir``): held to
        # it unless made for the command line (``trusting_tls_paths``).
        self._tls_dir: TlsDirectory | None = TlsDirectory(settings.tls_directory)
        # What each file said when last read (``destinations.file_reads``), shared with the
        # copies ``within`` and ``from_address`` make: a listing reads every file, and
        # parsing 200 unchanged ones again was most of its time.
        self._reads = FileReads()

    @property
    def store(self) -> Store:
        """The store it records in; for a command that needs it beside the catalog."""
        return self._store

    def within(self, allows: Callable[[str | None], bool]) -> DestinationAdmin:
        """This admin for someone who may change destinations only in the clusters ``allows``
        says yes to: a change that would put a destination in another cluster is refused
        (``AccessDenied``). Who may touch the destination as it is, the caller checks."""
        scoped = copy.copy(self)
        scoped._allows = allows
        return scoped

    @property
    def _limited(self) -> bool:
        """Whether the caller may change destinations only in some clusters. ``allows(None)``
        asks for every cluster (a destination in no cluster is only for grants for all
        clusters), so it says no exactly to a caller held to some."""
        return self._allows is not None and not self._allows(None)

    def _yours(self, cluster: str | None) -> bool:
        """Whether a destination in ``cluster`` lies within the caller's clusters."""
        return self._allows is None or self._allows(cluster)

    def trusting_tls_paths(self) -> DestinationAdmin:
        """This admin for the command line: its changes may name TLS files anywhere. It runs
        on the server as whoever has its shell, who can read the files anyway; the API and
        the console, used by people who are not the server's administrators, are held to the
        TLS directory, so their refusals tell nothing about files elsewhere."""
        trusting = copy.copy(self)
        trusting._tls_dir = None
        return trusting

    def from_address(self, source: str | None) -> DestinationAdmin:
        """This admin for a caller at ``source`` (the client's address): its changes' audit
        entries record it as ``details.source``, the "from where" of docs/product.md §8."""
        located = copy.copy(self)
        located._source = source
        return located

    def _where(self) -> dict[str, str]:
        return {"source": self._source} if self._source is not None else {}

    # -- reading -----------------------------------------------------------------------------
    async def catalog(self) -> Catalog:
        """The destination files, checked; definitions already in service may be past sunset.

        A destination whose own file is refused is in it on its last good definition (its last
        recorded revision), so the engine, after a restart too, and every tool work on the same
        definition; ``Catalog.broken`` says which and why. Its version notices are that
        definition's, among ``Catalog.warnings``: a deprecated or retired version it runs on is
        warned of at start as a good file's is (it went unsaid while the file stayed refused).
        """
        with files_of(self._dir, "read"):  # not listable: one clear error, not a traceback
            loaded, errors = self._reads.load(self._dir)  # each file read; unchanged, not parsed
        # Every last revision the read needs, the refused files' destinations' too, from one
        # statement: one read a destination was 200 round trips for 200 destinations.
        refused = refusals_by_destination(errors)
        lasts = await self._store.last_destination_revisions(
            sorted({config.id for _, config in loaded} | set(refused))
        )
        loaded = await self._removed_ids_kept(loaded, errors, lasts)
        errors = self._every_mistake(errors, lasts)
        revisions = {}
        keeping: dict[str, Mapping[str, str]] = {}  # versions in service, by destination
        for _, config in loaded:
            revision, versions = _revision_in_service(
                self._reads.definition_of(config), lasts.get(config.id)
            )
            if revision is not None:
                revisions[config.id] = revision
            keeping[config.id] = versions
        files = build_catalog(loaded, today=self._today(), errors=errors, in_service=keeping)
        destinations = dict(files.destinations)
        sources = dict(files.sources)
        warnings = list(files.warnings)
        broken: dict[str, Broken] = {}
        for dest_id, (file, problems) in refusals_by_destination(files.errors).items():
            last_good = self._last_good(dest_id, lasts.get(dest_id))
            revision = None
            if last_good is not None:
                revision, destinations[dest_id], notices = last_good
                warnings += notices
            sources[dest_id] = file
            broken[dest_id] = Broken(file, problems, revision)
        read = Catalog(
            {key: destinations[key] for key in sorted(destinations)},
            files.errors,
            tuple(warnings),
            {key: sources[key] for key in sorted(sources)},
            broken,
            revisions,
            # Who may read a removed destination's messages: those of the cluster it was in.
            await self._store.last_clusters_outside(destinations),
        )
        gone = read.directory_problem
        if gone is None or self._in_service is None:
            return read
        # The directory is gone or no directory: the engine keeps what it had in service
        # (``Engine._directory_unusable``), and its tools list that, not "none", with the
        # directory's refusal beside it.
        kept = self._in_service()
        return read if kept is None else dataclasses.replace(kept, errors=(*kept.errors, gone))

    async def _removed_ids_kept(
        self,
        loaded: list[tuple[str, DestinationConfig]],
        errors: list[DestinationFileError],
        lasts: Mapping[str, DestinationRevision],
    ) -> list[tuple[str, DestinationConfig]]:
        """``loaded`` without the files that define a removed destination again in another
        cluster than it was removed from, each refused into ``errors`` instead
        (``removed_destinations.elsewhere_than_removed``): its file is broken with no good
        definition, so it stays out of service and its messages stay where they lay. Only a
        file whose id's last revision is a removal is looked at again (seldom any)."""
        kept = []
        for source, config in loaded:
            last = lasts.get(config.id)
            if last is not None and last.config is None:
                removal = await removal_of(self._store, config.id)
                refusal = elsewhere_than_removed(removal, config.cluster, source)
                if refusal is not None:
                    errors.append(refusal)
                    continue
            kept.append((source, config))
        return kept

    def _every_mistake(
        self, errors: list[DestinationFileError], lasts: Mapping[str, DestinationRevision]
    ) -> list[DestinationFileError]:
        """``errors`` with, after each refused file's own, the version rules that file breaks
        too (``version_problems_beside``): the engine, ``destinations list`` and ``show``
        named a misspelt key only, and an unknown version only once the key was mended, one
        round per mistake, where ``destinations add FILE`` told both. A version the file's
        destination runs on (its last revision's) is judged as in service, as for a good file.
        Worked out at each read from what the reads kept, never added to it: a file refused
        again and again is told each mistake once."""
        told: dict[str, list[DestinationFileError]] = {}
        for error in errors:  # each file's problems together, the files in the order read
            told.setdefault(error.file, []).append(error)
        for file, problems in told.items():
            definition = self._reads.parsed(file)
            if definition is None:
                continue  # no YAML, or not read as text: nothing more to tell
            dest_id = file_destination_id(file)
            last = lasts.get(dest_id) if dest_id is not None else None
            _, in_service = _revision_in_service({}, last)
            problems += version_problems_beside(
                problems, definition, source=file, in_service=in_service, today=self._today()
            )
        return [problem for problems in told.values() for problem in problems]

    def _last_good(
        self, destination_id: str, last: DestinationRevision | None
    ) -> tuple[int, DestinationConfig, list[str]] | None:
        """The last recorded revision (``last``), its definition and that definition's version
        notices (in service: one past its sunset is held or upgraded, not refused)."""
        if last is None or last.config is None:
            return None  # never recorded, or its last revision removed it
        source = f"revision {last.revision} of {destination_id!r}"
        try:
            # Its TLS files are not looked at again: one gone or changed since is no reason
            # to take the destination out of service (its events unrouted, the tools unable
            # to pause it). Delivery meets it at each attempt, fails it saying why, retries.
            config = destination_from_mapping(last.config, source=source, check_files=False)
            notices = version_warnings(config, today=self._today(), source=source, in_service=True)
        except DestinationFileError:
            return None  # recorded by a release whose rules were other: nothing to run on
        return last.revision, config, notices

    async def stranded(self, catalog: Catalog) -> dict[str, int]:
        """The destinations no file defines (its file deleted by hand) for which messages wait,
        with how many: nothing sends them, and a listing of what the files define does not
        show them, so the tools say them beside it (``stranded_said``)."""
        waiting: dict[str, int] = {}
        for row in await self._store.backlog():
            if row.status in PENDING and row.destination_id not in catalog.sources:
                waiting[row.destination_id] = waiting.get(row.destination_id, 0) + row.count
        return dict(sorted(waiting.items()))

    async def waiting_for(self, destination_id: str) -> int:
        """How many messages wait for ``destination_id`` (queued, sending, retrying, held)."""
        counts = await self._store.count_by_status(destination_id)
        return sum(counts.get(status, 0) for status in PENDING)

    async def view(self, destination_id: str) -> DestinationView:
        """One destination, broken or not; ``UnknownDestination`` if there is no such one."""
        return self._view(await self.catalog(), destination_id)

    def _view(self, catalog: Catalog, destination_id: str) -> DestinationView:
        if destination_id not in catalog.sources:
            raise UnknownDestination(destination_id, catalog.sources)
        broken = catalog.broken.get(destination_id)
        return DestinationView(
            destination_id,
            catalog.sources[destination_id],
            catalog.destinations.get(destination_id),
            broken,
            broken.revision if broken is not None else catalog.revisions.get(destination_id),
        )

    async def get(self, destination_id: str) -> tuple[DestinationConfig, str]:
        """The definition in service and its file; a broken one's last good definition."""
        view = await self.view(destination_id)
        return _usable(view), view.file

    async def definition_at(self, destination_id: str, revision: int | None) -> DestinationConfig:
        """The definition of ``revision`` (None: the one in service): what a form filled at that
        revision showed, so an edit can tell what the person changed.

        The one in service when ``revision`` is unknown or no longer loads (a TLS file it names
        is gone): then every field the form shows differently counts as changed, which is no
        worse than a form without a revision.
        """
        if revision is not None:
            entry = await self._store.get_destination_revision(destination_id, revision)
            if entry is not None and entry.config is not None:
                try:
                    return destination_from_mapping(
                        entry.config, source=f"revision {revision}", check_files=False
                    )
                except DestinationFileError:
                    pass
        config, _ = await self.get(destination_id)
        return config

    async def listing(
        self,
        sees: Callable[[str | None], bool],
        *,
        in_service: Catalog | None = None,
        catalog: Catalog | None = None,
        paths: Callable[[str], bool] = lambda destination_id: True,
        reads_messages: Callable[[str | None], bool],
        zone: tzinfo | None = None,
    ) -> tuple[list[dict[str, Any]], list[StrayFile]]:
        """The destinations (``summaries``) and the refused files no destination owns
        (``integrator.stray_files``) that one who ``sees`` these clusters may see, from one read
        of the files (``catalog``, else read now): what ``destinations list``, the API's listing
        and the console's destinations page show.

        A destination is judged by its cluster in ``in_service`` (the engine's catalog: a file
        edited by hand since counts once the engine took it in), else in the read; one outside
        ``sees`` is skipped before its messages are counted. ``paths``: as for ``summaries``.

        Each row's ``last_attempt`` (``LastAttempt.to_json``, null before any, its ``at`` in
        ``zone``, as the ``kept_at`` of its refused copies): the last attempts of all the rows
        are one read, and its ``reason`` is as ``LastAttempt.reason_for`` says to one who
        ``reads_messages`` of its cluster or not."""
        from integrator.stray_files import stray_files

        read = catalog or await self.catalog()
        judged = in_service or read
        rows = await self.summaries(
            read,
            paths=paths,
            shown=lambda destination_id: sees(cluster_of(judged, destination_id)),
            zone=zone,
        )
        attempts = await last_attempts(self._store, [row["id"] for row in rows])
        for row in rows:
            attempt = attempts.get(row["id"])
            reads = reads_messages(cluster_of(judged, row["id"]))
            row["last_attempt"] = (
                attempt.to_json(reads_messages=reads, zone=zone) if attempt is not None else None
            )
        return rows, stray_files(read, sees)

    async def summaries(
        self,
        catalog: Catalog | None = None,
        *,
        paths: Callable[[str], bool] = lambda destination_id: True,
        shown: Callable[[str], bool] = lambda destination_id: True,
        counted: Collection[MessageStatus] | None = None,
        dead_letters: Mapping[str, int] | None = None,
        zone: tzinfo | None = None,
    ) -> list[dict[str, Any]]:
        """Every destination ``shown`` says yes to (all by default), broken ones included, as
        ``list --json`` and the API show them.

        ``paths``: whether the reader is shown the server's path of a destination's file, in
        its ``file`` and refusals; else its name (``integrator.file_paths``). The CLI, on the
        server, is shown every path.

        ``counts``: the messages in each status; ``counts.dead`` counts those in status
        ``dead``, the ones a delivered resend resolved too (they stay dead: their history is
        true). ``dead_letters``: the open dead letters
        (``deadletter.count_open_dead_letters``, what the dead letters page and the metric
        ``integrator_dead_letters`` count): what support still has to act on, so what a list,
        a tile or a script that watches for work should read. Each counted once for all
        rows (``Store.counts_by_status``: one statement, not one a destination).

        ``counted``: the statuses ``counts`` holds, all by default; the dashboard asks for
        those it shows, so its poll reads no delivered history. ``dead_letters``: the open
        dead letters by destination when the caller has counted them already (the dashboard
        counts those of removed destinations too), so they are counted once. ``zone``: the
        one the refused copies' times are told in (``refused_copies``)."""
        catalog = catalog or await self.catalog()
        kept = kept_copies(self._dir)
        if dead_letters is None:
            dead_letters = await count_open_dead_letters(self._store)
        listed = [dest_id for dest_id in catalog.sources if shown(dest_id)]
        # Not the reader's: its messages are not counted. The rest in one statement.
        counts = await self._store.counts_by_status(listed, counted)
        rows = []
        for dest_id in listed:
            view = self._view(catalog, dest_id)
            config = view.config
            whole = paths(dest_id)
            rows.append(
                {
                    "id": dest_id,
                    "name": config.name if config else None,
                    "cluster": config.cluster if config else None,
                    "providers": list(config.providers) if config else [],
                    "address": f"{config.host}:{config.port}" if config else None,
                    "messages": dict(config.messages) if config else {},
                    "enabled": config.enabled if config else None,
                    "state": view.state,
                    "problem": problem_view(view.broken.problem, paths=whole)
                    if view.broken
                    else None,
                    "problems": [problem_view(p, paths=whole) for p in view.broken.problems]
                    if view.broken
                    else [],
                    "revision": view.revision,
                    "file": file_as_seen(view.file, paths=whole),
                    # Refused hand edits kept beside the file (``refused_edits``): never
                    # deleted by the engine, so named until an operator deletes them.
                    "refused_copies": self.refused_copies(view, kept, zone=zone),
                    "counts": counts[dest_id],
                    "dead_letters": dead_letters.get(dest_id, 0),
                }
            )
        return rows

    def version_notices(self, view: DestinationView) -> list[str]:
        """What ``view``'s message versions warn of today (deprecated, its sunset and
        successor; retired, its messages held or upgraded): said by the API, the console and
        ``destinations show`` alike. The definition in service is judged with its versions as
        running, so one retired since is a notice, not a refusal."""
        if view.config is None:
            return []
        return version_warnings(view.config, today=self._today(), source=view.file, in_service=True)

    def certificate_expiries(self, view: DestinationView) -> dict[str, datetime]:
        """When each certificate file ``view``'s TLS settings name stops being valid (the
        earliest ``notAfter`` in it), by key (``cert_file``, ``ca_file``); a file that cannot
        be read is left out (the destination's file is refused for it). What the scrape's
        gauge says, for ``destinations show`` and the API's and the console's destination
        pages (a warning within ``cert_expiry.SOON_DAYS``): an expired client certificate
        failed every attempt, and nothing said beforehand."""
        return certificate_expiries(view.config.tls if view.config is not None else None)

    def refused_copies(
        self,
        view: DestinationView,
        kept: Mapping[str, list[RefusedCopy]] | None = None,
        *,
        zone: tzinfo | None = None,
    ) -> list[dict[str, Any]]:
        """The refused hand edits kept beside ``view``'s file, oldest first (``file``,
        ``kept_at``, ``age_seconds``): what the list, ``show``, the API and the console's
        pages name, from one call. ``kept``: the directory already read (``summaries`` reads it
        once for every destination). ``zone``: the CLI's, in which it tells every time (the
        ``at`` beside it too); else UTC, as the API's JSON."""
        found = kept_copies(self._dir) if kept is None else kept
        now = self._now()
        return [c.to_json(now, zone) for c in found.get(Path(view.file).name, [])]

    def orphaned_refused_copies(self, catalog: Catalog) -> list[RefusedCopy]:
        """Refused copies of files that are no destination's any more (removed or renamed
        since): no row of ``summaries`` names them, so they are named on their own."""
        listed = {Path(file).name for file in catalog.sources.values()}
        return [
            one
            for base, copies in sorted(kept_copies(self._dir).items())
            if base not in listed
            for one in copies
        ]

    async def history(
        self, destination_id: str, zone: tzinfo | None = None, *, last: int | None = None
    ) -> list[dict[str, Any]]:
        """Every revision, oldest first, or only the newest ``last`` of them (a destination
        paused and resumed daily gains two a day); ``at`` in ``zone`` (the CLI's local time, as
        every time it prints) or, without one, as stored (UTC: the API's times)."""
        revisions = await self._store.list_destination_revisions(destination_id)
        sources = (await self.catalog()).sources
        if not revisions and destination_id not in sources:
            raise UnknownDestination(destination_id, sources)
        if last is not None:
            revisions = revisions[-last:]
        return [
            {
                "revision": r.revision,
                "at": iso_time(r.at, zone),
                "actor": r.actor,
                "action": r.action,
                "reason": r.reason,
                "diff": r.diff,
            }
            for r in revisions
        ]

    async def removal(self, destination_id: str) -> Removal | None:
        """When, by whom and why ``destination_id`` was removed, if no file defines it now and
        its history ends in its removal (``removed_destinations``); None otherwise: a pages'
        "removed" for what was, a "not found" for an id never known."""
        if destination_id in (await self.catalog()).sources:
            return None
        return await removal_of(self._store, destination_id)

    async def pause_times(self, destination_id: str, zone: tzinfo | None = None) -> dict[str, Any]:
        """When the destination was paused (only while it still is) and last resumed, as the
        engine saw it, and who paused it and why (``destination_pause_view``); read only when a
        destination is shown."""
        revisions = await self._store.newest_destination_revisions_while(destination_id, _paused)
        return destination_pause_view(
            await self._store.destination_pause(destination_id), zone, pausing_revision(revisions)
        )

    async def last_attempt(self, destination_id: str) -> LastAttempt | None:
        """Its last delivery attempt (``integrator.last_attempt``): why it is not delivering,
        if it is not; what its page, ``destinations show`` and the API's answer about it say,
        the reason to who may read its cluster's messages."""
        return await last_attempt(self._store, destination_id)

    # -- changing ----------------------------------------------------------------------------
    async def add(
        self,
        definition: str | Mapping[str, Any],
        *,
        actor: str,
        reason: str | None = None,
        source: str = "(new destination)",
        unheld_cluster: UnheldClusters = "warn",
    ) -> Change:
        """Add a destination; ``source`` names the definition in refusals (the CLI: its file)."""
        reason = _bounded_reason(reason)
        config = self._validate(definition, source=source)

        async def made_after(base: int) -> Change:
            catalog = await self.catalog()
            await self._refuse_id_of_another(config.id, catalog)
            if config.id in catalog.sources:
                raise ConfigurationError(
                    f"destination {config.id!r} exists already; use update to change it"
                ).coded("destination.exists", id=config.id)
            path = self._dir / f"{config.id}.yaml"
            if path.exists():
                raise ConfigurationError(f"{path}: a file with that name exists already").coded(
                    "destination.file_exists", id=config.id
                )
            return await self._write(
                config,
                path,
                None,
                base=base,
                actor=actor,
                action=history_actions.ADD,
                reason=reason,
                unheld_cluster=unheld_cluster,
                source=source,
            )

        return await self._changing(config.id, None, made_after)

    async def update(
        self,
        destination_id: str,
        assignments: Sequence[str],
        *,
        actor: str,
        reason: str | None = None,
        action: str = history_actions.UPDATE,
        expected_revision: int | None = None,
        unheld_cluster: UnheldClusters = "warn",
        option: str | None = "--set",
    ) -> Change:
        """Set keys (``--set KEY=VALUE``); with ``expected_revision``, only if the destination
        is still at that revision (else ``DestinationChanged``, nothing written).

        A refused value is named as the option people typed (``--set rate_limit: must be …``),
        not as the destination's file: they named no file, and the file is not what was
        refused. ``option=None`` (a pause, a resume: no key was typed) names the file."""
        reason = _bounded_reason(reason)

        def edit(view: DestinationView) -> tuple[DestinationConfig, DestinationConfig | None]:
            current = _usable(view)
            data = definition_of(current)
            keys = []
            for assignment in assignments:
                key, value = _parse_assignment(assignment)
                if key == "id":
                    raise ConfigurationError("id: cannot be changed; add a new destination instead")
                if key in keys:  # the last one silently won: which was meant cannot be told
                    raise ConfigurationError(f"--set {key}: given twice; set each key once")
                _assign(data, key, value)
                keys.append(key)
            try:
                return self._validate(data, source=view.file, current=current), current
            except DefinitionRefused as refused:
                if option is None:
                    raise
                raise refused.named_by_option(option, keys) from None

        return await self._change_in_service(
            destination_id,
            expected_revision,
            edit,
            actor=actor,
            action=action,
            reason=reason,
            unheld_cluster=unheld_cluster,
        )

    async def replace(
        self,
        destination_id: str,
        definition: Mapping[str, Any],
        *,
        actor: str,
        reason: str | None = None,
        expected_revision: int | None = None,
        unheld_cluster: UnheldClusters = "warn",
    ) -> Change:
        """Replace the whole definition (HTTP PUT); the id in it must match.

        Every key must be given (``null`` where unset), as ``GET`` shows them: a key left out
        would otherwise fall back to its default unnoticed, such as MSH-5/6 going blank. This
        also works on a broken destination that has no good definition: it needs none.
        """
        reason = _bounded_reason(reason)

        def edit(view: DestinationView) -> tuple[DestinationConfig, DestinationConfig | None]:
            missing = _missing_keys(definition)
            if missing:
                raise MissingKeys(view.file, missing)
            if definition.get("id") != destination_id:
                raise ConfigurationError("id: cannot be changed; add a new destination instead")
            try:
                config = self._validate(definition, source=view.file, current=view.config)
            except DefinitionRefused as refused:
                raise refused.named_in_body(definition.keys()) from None
            return config, view.config

        return await self._change_in_service(
            destination_id,
            expected_revision,
            edit,
            actor=actor,
            action=history_actions.UPDATE,
            reason=reason,
            unheld_cluster=unheld_cluster,
        )

    async def patch(
        self,
        destination_id: str,
        changes: Mapping[str, Any],
        *,
        actor: str,
        reason: str | None = None,
        expected_revision: int | None = None,
        unheld_cluster: UnheldClusters = "warn",
    ) -> Change:
        """Change some keys (HTTP PATCH), as a JSON merge patch (RFC 7386).

        A key set to ``null`` is taken out, so it takes its default (``tls: null`` turns TLS
        off, ``retry: {max_attempts: null}`` restores 20); a section given as an object is
        merged key by key. Checked exactly like ``update``, ``expected_revision`` too.
        """
        reason = _bounded_reason(reason)

        def edit(view: DestinationView) -> tuple[DestinationConfig, DestinationConfig | None]:
            current = _usable(view)
            if "id" in changes and changes["id"] != destination_id:
                raise ConfigurationError("id: cannot be changed; add a new destination instead")
            data = _merge_patch(definition_of(current), changes)
            try:
                return self._validate(data, source=view.file, current=current), current
            except DefinitionRefused as refused:
                raise refused.named_in_body(changes.keys()) from None

        return await self._change_in_service(
            destination_id,
            expected_revision,
            edit,
            actor=actor,
            action=history_actions.UPDATE,
            reason=reason,
            unheld_cluster=unheld_cluster,
        )

    async def set_enabled(
        self, destination_id: str, enabled: bool, *, actor: str, reason: str | None = None
    ) -> Change:
        return await self.update(
            destination_id,
            [f"enabled={'true' if enabled else 'false'}"],
            actor=actor,
            reason=reason,
            action=history_actions.RESUME if enabled else history_actions.PAUSE,
            option=None,
        )

    async def remove(
        self, destination_id: str, *, actor: str, force: bool = False, reason: str | None = None
    ) -> Change:
        reason = _bounded_reason(reason)
        try:
            return await self._changing(
                destination_id,
                None,
                lambda base: self._remove(
                    destination_id, base, actor=actor, force=force, reason=reason
                ),
            )
        except UnknownDestination:
            # No file defines it: messages still waiting for it are said, with what to do.
            waiting = await self.waiting_for(destination_id)
            if waiting:
                raise StrandedMessages(destination_id, waiting) from None
            raise

    async def _remove(
        self, destination_id: str, base: int, *, actor: str, force: bool, reason: str | None
    ) -> Change:
        view = await self.view(destination_id)
        waiting = await self._pending_of(destination_id)
        if waiting and not force:
            raise DestinationBusy(destination_id, len(waiting))
        why = REMOVED_BECAUSE(actor=actor, reason=reason) if reason else REMOVED(actor=actor)
        diff = _diff(_dumped(view.config), "")
        path = Path(view.file)
        before = _file_as_read(path, view.config, view.broken)
        stopped = False
        try:
            async with self._lock:
                if self._stop_routing is not None:
                    # The engine's intake routes by its catalog, which loses the destination
                    # only when the removal is applied: an event taken in meanwhile would be
                    # queued for a destination no file defines, sent by nothing. So routing
                    # stops first, and what waits is counted again below.
                    stopped = True
                    await self._stop_routing(destination_id)
                    waiting = await self._pending_of(destination_id)
                    if waiting and not force:
                        raise DestinationBusy(destination_id, len(waiting))
                if force and self._stop_delivering is not None:
                    # An attempt on the wire finishes and is recorded first: its outcome must
                    # not overwrite a dead letter the removal makes (a delivered one stays so).
                    # Also when nothing waited when counted: a resend committed until the
                    # removal's own count is dead-lettered by it.
                    stopped = True
                    await self._stop_delivering(destination_id)
                # What waits is counted again, and becomes dead letters with the audit entry
                # that says why, in the transaction that records the removal: a resend
                # committed before that count is counted, one after it is skipped (it sees the
                # removal). Counted before, a resend committed in between was stranded.
                dead = WaitingDeadLettered(
                    statuses=PENDING,
                    last_error=why,
                    force=force,
                    actor=actor,
                    action=DESTINATION_CHANGES[history_actions.REMOVE],
                    reason=reason,
                    details=self._where(),
                )
                recording = self._store.recording_destination_revision(
                    destination_id,
                    after=base,
                    actor=actor,
                    action=history_actions.REMOVE,
                    config=None,
                    diff=diff,
                    reason=reason,
                    waiting=dead,
                )
                try:
                    revision = await _under_revision(recording, path, before, path.unlink)
                except MessagesWaiting as busy:
                    raise DestinationBusy(destination_id, busy.count) from None
        except BaseException:
            if stopped:  # not removed after all: the engine routes to and delivers it again
                await self._notify()
            raise
        await self._notify()
        return Change(
            destination_id,
            history_actions.REMOVE,
            revision,
            None,
            diff=diff,
            dead_lettered=dead.dead_lettered,
        )

    async def _pending_of(self, destination_id: str) -> list[MessageRecord]:
        return [
            m
            for status in PENDING
            for m in await self._store.list_messages(
                MessageFilter(destination_id=destination_id, status=status), limit=1_000_000
            )
        ]

    async def rollback(
        self,
        destination_id: str,
        revision: int,
        *,
        actor: str,
        reason: str | None = None,
        expected_revision: int | None = None,
    ) -> Change:
        """Restore ``revision`` of a destination (also one removed since: its history stays).

        Whether the destination is paused is not part of what is restored: pausing and resuming
        are actions of their own, with their own reason in the history, so a rollback keeps the
        destination as paused or active as it is now (a rollback to the revision before a pause
        for maintenance does not send to the receiver under maintenance). A destination removed
        since comes back as its revision says.

        With ``expected_revision`` (the newest revision the person saw), only if the destination
        is still at it: else ``DestinationChanged``, as an edit. An id with neither a file nor a
        history is ``UnknownDestination``, listing the ids there are like every other change
        does; a revision it does not have is refused naming the ones it has, so the number can
        be put right without a second command.
        """
        reason = _bounded_reason(reason)
        return await self._changing(
            destination_id,
            expected_revision,
            lambda base: self._rollback(
                destination_id,
                revision,
                base,
                actor=actor,
                reason=reason,
                expected=expected_revision,
            ),
        )

    async def _rollback(
        self,
        destination_id: str,
        revision: int,
        base: int,
        *,
        actor: str,
        reason: str | None,
        expected: int | None,
    ) -> Change:
        revisions = await self._store.list_destination_revisions(destination_id)
        entry = next((r for r in revisions if r.revision == revision), None)
        if entry is None:
            if not revisions:
                sources = (await self.catalog()).sources
                if destination_id not in sources:
                    # Someone held to some clusters is not shown the ids of the others.
                    shown = sources if self._allows is None else None
                    raise UnknownDestination(destination_id, shown)
            raise ConfigurationError(
                f"destination {destination_id!r} has no revision {revision}; "
                + _revisions_there_are([r.revision for r in revisions])
            ).coded("destination.no_revision", id=destination_id, revision=revision)
        if entry.config is None:
            raise ConfigurationError(
                f"revision {revision} of {destination_id!r} is its removal; pick another"
            ).coded("destination.revision_removal", id=destination_id, revision=revision)
        existing = await self.catalog()
        view = self._view(existing, destination_id) if destination_id in existing.sources else None
        if view is not None:
            await self._expect(view, expected)
        definition = dict(entry.config)
        if view is not None and view.config is not None:
            definition["enabled"] = view.config.enabled  # paused stays paused, active active
        # Going back to a revision with the versions in service is no switch to a retired one
        # (the way to throw a refused hand edit away, after a sunset too).
        config = self._validate(
            definition,
            source=f"revision {revision}",
            current=view.config if view is not None else None,
        )
        return await self._write(
            config,
            Path(view.file) if view else self._dir / f"{destination_id}.yaml",
            view.config if view else None,
            base=base,
            broken=view.broken if view else None,
            actor=actor,
            action=history_actions.rollback_to(revision),
            reason=reason,
        )

    async def record_file_changes(self, catalog: Catalog) -> int:
        """Record what the files changed by hand as revisions, and audit it (actor ``file``).

        A definition that differs from its last revision (an edit, a new file) is recorded, and
        so is a file deleted by hand: its destination left service. Each with its audit entry
        in the same transaction (``integrator.file_audit``), so several engines reading the
        same directory record and audit it once. A refused file, and a refused file put back
        to the definition in service, are audited without a revision, once each; so is a
        refused file that is no destination's own (``Catalog.stray_files``). Returns how many
        revisions were recorded.
        """
        recorded = 0
        # Running on a recorded definition, not on its file: a broken one is left out.
        read = [dest_id for dest_id in catalog.destinations if dest_id not in catalog.broken]
        # Every destination's last revision in one statement: asked one by one, a reload read
        # each destination's whole history (bench/bench_file_changes.py).
        lasts = await self._store.last_destination_revisions(read)
        # And what the trail last said of each file, for telling a repair from a reload.
        said = await self._store.newest_audit_about_each(
            list(lasts), file_audit.STATE_ACTIONS, concerning=file_audit.own_file
        )
        for dest_id in read:
            config = catalog.destinations[dest_id]
            found = lasts.get(dest_id)
            last = found.config if found is not None else None
            now = self._reads.definition_of(config)  # worked out by ``catalog`` already
            if last == now:
                if found is not None and not file_audit.repeats_restored(said.get(dest_id)):
                    await self._audit_restored(config.id, catalog.sources.get(config.id))
                continue
            if not _file_still_says(catalog.sources.get(config.id), now):
                continue  # rewritten since it was read: the reload that follows records it
            if await self._record_by_hand(config.id, last, now, catalog.sources.get(config.id)):
                recorded += 1
        for dest_id, last in (await self._store.last_destination_definitions()).items():
            if dest_id in catalog.sources or _has_file(self._dir, dest_id) is not False:
                continue  # its file is there (written since the catalog was read), or may be
            if await self._record_by_hand(dest_id, last, None, None):
                recorded += 1
        for dest_id, broken in catalog.broken.items():
            await self._audit_refused(dest_id, broken)
        for file, problems in catalog.stray_files.items():
            await self._audit_stray(catalog, file, problems)
        return recorded

    async def _record_by_hand(
        self,
        destination_id: str,
        last: dict[str, Any] | None,
        now: dict[str, Any] | None,
        file: str | None,
    ) -> bool:
        """Record ``now`` (None: the file was deleted) as the revision after ``last``, with its
        audit entry; False when another engine recorded it first.

        A file a tool's change wrote before its process stopped, its revision not committed,
        says what the change's intent says: recorded as that change, by its actor, with its
        reason (``integrator.change_intents``); an intent the file does not say is stale."""
        before = dump_destination(_recorded(last)) if last else ""
        after = dump_destination(_recorded(now)) if now else ""
        details = file_audit.changes(last, now)
        if file is not None:
            details["file"] = Path(file).name
        intent = read_intent(self._dir, destination_id)
        if intent is not None and now is not None and intent.definition == now:
            verb = DESTINATION_CHANGES[history_actions.read_action(intent.action)[0]]
            actor, action, reason = intent.actor, intent.action, intent.reason
            audit = RevisionAudit(actor, verb, {"recorded": RECORDED_LATE})
        else:
            actor, action, reason = history_actions.FILE_ACTOR, history_actions.FILE, None
            audit = RevisionAudit(history_actions.FILE_ACTOR, file_audit.EDIT, details)
        try:
            number = await self._store.add_destination_revision_if_changed(
                destination_id,
                actor=actor,
                action=action,
                config=now,
                diff=_diff(before, after),
                audit=audit,
                reason=reason,
            )
        except Conflict:
            # Another engine read the same file at the same moment and recorded it first.
            return False
        if intent is not None:
            drop_intent(self._dir, destination_id)
        return number is not None

    async def _audit_refused(self, destination_id: str, broken: Broken) -> None:
        """Audit a refused file once: not again at the next reload, nor by another engine."""
        text = _refused_text(broken.file)
        good = None
        if broken.revision is not None:
            entry = await self._store.get_destination_revision(destination_id, broken.revision)
            good = entry.config if entry is not None else None
        details = file_audit.refusal(text, broken.problems, good, broken.revision)
        await self._audit_refusal(
            destination_id,
            {**details, "file": Path(broken.file).name},
            among=file_audit.STATE_ACTIONS,
            concerning=file_audit.own_file(destination_id),
        )

    async def _audit_stray(
        self, catalog: Catalog, file: str, problems: tuple[DestinationFileError, ...]
    ) -> None:
        """Audit a refused file that is no destination's own, once per text refused. Its
        ``keys`` are those it says otherwise than the destination whose id it claims (what was
        meant to change, in the wrong file); ``revision`` is that destination's in service."""
        target = file_audit.stray_target(file, problems)
        config = catalog.destinations.get(target)
        good = definition_of(config) if config is not None else None
        broken = catalog.broken.get(target)
        revision = broken.revision if broken is not None else catalog.revisions.get(target)
        details = file_audit.refusal(_refused_text(file), problems, good, revision)
        if good is not None:
            details["keys"] = _keys_differing(file, good, details["keys"])
        name = Path(file).name
        await self._audit_refusal(
            target,
            {**details, "file": name},
            among=(file_audit.REFUSED,),
            concerning=file_audit.this_file(name),
        )

    async def _audit_refusal(
        self,
        target: str,
        details: dict[str, Any],
        *,
        among: tuple[str, ...],
        concerning: Callable[[AuditRecord], bool],
    ) -> None:
        """Write a ``destination.file_refused`` entry unless the trail's last word on that
        file already says it: not again at the next reload, nor by another engine."""
        repeats = file_audit.repeats_refusal(details)
        if repeats(await self._store.newest_audit_about(target, among, concerning)):
            return  # the usual case at a reload: a read, not a write turn
        await self._store.add_audit_unless_repeated(
            history_actions.FILE_ACTOR,
            file_audit.REFUSED,
            target,
            details=details,
            among=among,
            repeats=repeats,
            concerning=concerning,
        )

    async def _audit_restored(self, destination_id: str, file: str | None) -> None:
        """Audit a refused file put back to the definition in service (no revision: nothing in
        service changes), once. Called only where ``record_file_changes``'s read of the trail
        shows a refusal last, so a reload of a directory without refusals writes nothing; the
        append checks that again in its own transaction (another engine may have written it)."""
        own = file_audit.own_file(destination_id)
        await self._store.add_audit_unless_repeated(
            history_actions.FILE_ACTOR,
            file_audit.RESTORED,
            destination_id,
            details={"file": Path(file).name if file else None},
            among=file_audit.STATE_ACTIONS,
            repeats=file_audit.repeats_restored,
            concerning=own,
        )

    # -- testing -----------------------------------------------------------------------------
    async def test(
        self,
        destination_id: str,
        event_type: str | None = None,
        *,
        actor: str = "integrator",
        even_if_paused: bool = False,
    ) -> TestResult:
        """Send one test message (MSH-11 ``T``) on its own connection; the queue is untouched.

        A paused destination is refused (``DestinationPaused``) unless ``even_if_paused``: its
        traffic was stopped on purpose. Audited (``destination.test``) under ``actor``; the
        entry's ``details.paused`` says when it went to a paused destination anyway."""
        config, _ = await self.get(destination_id)
        if not config.enabled and not even_if_paused:
            raise DestinationPaused(destination_id)
        kind = event_type or next(iter(config.messages))
        version = config.messages.get(kind)  # type: ignore[call-overload]
        if version is None:
            taken = ", ".join(config.messages)
            raise ConfigurationError(
                f"destination {destination_id!r} takes no {kind} messages; it takes: {taken}"
            ).coded(
                "destination.event_type_not_taken",
                destination=destination_id,
                event_type=kind,
                taken=taken,
            )
        # In the version the engine sends: a retired one's successor with auto_upgrade (which
        # it delivers in already); one it would hold is refused below, saying why.
        resolved = resolve_version(version, auto_upgrade=config.auto_upgrade, today=self._today())
        if resolved.version is None:
            raise ConfigurationError(
                f"cannot build a {version} test message: the engine holds messages in it now "
                "(retired, without an auto_upgrade it can make); give the destination a "
                "supported version"
            ).coded("destination.test_held", version=version)
        version = resolved.version
        control_id = new_control_id()
        now = self._now()
        context = mapping_context(self._settings, config, control_id, now, processing_id="T")
        try:
            # Made in the engine's zone, as a GP's referral is: RF1-7 and ORC-9 said in UTC
            # beside MSH-7's local time, unlike receivers.md's example of it.
            made = now.astimezone(self._settings.zone)
            mapped = map_event(version, synthetic_event(kind, made), context)
        except MappingError as exc:
            raise ConfigurationError(f"cannot build a {version} test message: {exc}") from None
        started = time.perf_counter()
        ack_code = ack_text = error = None
        client = None
        # Read as a delivery reads it: an application ACK awaited after a ``CA`` where MSH-16
        # asks for one, a late answer or a message sent unasked skipped.
        read = MessageAnswers(mapped.data, control_id, destination_id)
        try:
            # In the try: TLS files that do not load (gone, or replaced since the definition
            # was accepted) fail the test, saying why, as they fail a delivery attempt.
            client = mllp_client(config)
            answers = await client.exchange(mapped.data, read)
            ack_text = read.received(answers).decode("utf-8", "replace")
            ack, ack_code = read.deciding(answers)
            outcome = classify_ack(
                ack, control_id, on_error=config.retry.on_error, on_reject=config.retry.on_reject
            ).name.lower()
        except DeliveryError as exc:
            outcome, error = "failed", FAILED(kind=type(exc).__name__, cause=exc)
            if exc.answers:  # what did come (a CA, then no application ACK), as an attempt keeps it
                ack_code = answer_codes(exc.answers)
                ack_text = read.received(list(exc.answers)).decode("utf-8", "replace")
        finally:
            if client is not None:
                await client.close()
        elapsed = (time.perf_counter() - started) * 1000
        await self._store.add_audit(
            actor,
            "destination.test",
            destination_id,
            details={
                "control_id": control_id,
                "outcome": outcome,
                "ack_code": ack_code,
                **({} if config.enabled else {"paused": True, "even_if_paused": True}),
                **self._where(),
            },
        )
        return TestResult(
            destination_id, version, control_id, elapsed, ack_code, outcome, ack_text, error
        )

    # -- internals ---------------------------------------------------------------------------
    def _validate(
        self,
        definition: str | Mapping[str, Any],
        *,
        source: str,
        current: DestinationConfig | None = None,
    ) -> DestinationConfig:
        """Validate as the engine would; keeping the versions of ``current`` is not a switch,
        and keeping its ``tls`` settings needs no look at their files: a pause must not be
        refused because a certificate went missing (its attempts fail, saying so). Keeping its
        cluster keeps its name as recorded too, one from before the name's rule included
        (``CLUSTER_NAME_RULE``); a changed cluster is held to the rule. A TLS file path it
        brings in (one ``current`` does not name under that key, or every one when it changes
        the cluster) must lie in the directory of its cluster in the TLS directory, unless this
        admin is the command line's. A definition the file's rules refuse is told its version
        problems with theirs, all in one refusal.

        A definition in a cluster not the caller's is refused first (``AccessDenied``, as
        ``_write`` would), before anything in it is checked: its TLS files are held to the
        directory of the cluster it names, and checking them would tell someone who may not
        use that cluster what its directory holds."""
        if self._allows is not None:
            named = _cluster_named(definition, source)
            if (named is None or isinstance(named, str)) and not self._allows(named):
                raise _cluster_denied(named)
        # Judged per event type: a version retired since that the destination keeps does not
        # stop another event type moving; one it newly takes is refused.
        in_service = {} if current is None else {str(k): v for k, v in current.messages.items()}
        tls_dir = self._tls_dir_keeping(current)
        try:
            config = _parsed(definition, source, check_files=current is None, tls_dir=tls_dir)
            if current is not None and (
                config.tls != current.tls or config.cluster != current.cluster
            ):
                config = _parsed(
                    definition,
                    source,
                    check_files=config.tls != current.tls,
                    recorded=False,
                    tls_dir=tls_dir,
                )
        except DestinationFileError as exc:
            refused = _with_version_problems(exc, definition, in_service, self._today())
            raise DefinitionRefused(refused) from None
        try:
            version_warnings(config, today=self._today(), source=source, in_service=in_service)
        except DestinationFileError as exc:
            raise DefinitionRefused(exc) from None
        return config

    def _tls_dir_keeping(self, current: DestinationConfig | None) -> TlsDirectory | None:
        """The TLS directory a change to ``current`` is held to, keeping the files ``current``
        names wherever they are (a file written by hand may name any) while it stays in
        ``current``'s cluster; None at the shell."""
        if self._tls_dir is None:
            return None
        tls = current.tls if current is not None else None
        kept = {} if tls is None else {key: getattr(tls, key) for key in TLS_FILES}
        return self._tls_dir.keeping(kept, current.cluster if current is not None else None)

    async def _write(
        self,
        config: DestinationConfig,
        path: Path,
        current: DestinationConfig | None,
        *,
        base: int,
        broken: Broken | None = None,
        actor: str,
        action: str,
        reason: str | None,
        unheld_cluster: UnheldClusters = "warn",
        source: str | None = None,
    ) -> Change:
        """Write ``config`` into ``path`` and record it as the revision after ``base`` (the one
        ``current`` is); nothing at all if nothing changes. ``_Overtaken`` if another change
        was recorded or written since ``current`` was read (``_changing`` decides what then).
        ``source`` names the definition in a refusal (the CLI's file, ``(new destination)``);
        ``path`` by default.

        Without ``current`` (an add, a removed destination rolled back, a broken one without a
        good definition replaced) the id comes back into service: if its history ends in its
        removal, only in the cluster it was removed from (``_refuse_elsewhere_than_removed``).

        A broken file is rewritten (that is what a change to a broken destination is for), but
        records a revision only if the definition differs from the last good one. One whose
        text already says the definition (refused for a TLS file gone, not for its text) is
        left as it is: rewriting it would change no byte, and said "rewritten" all the same.
        """
        if self._allows is not None and not self._allows(config.cluster):
            raise _cluster_denied(config.cluster)
        if current is None:
            await self._refuse_elsewhere_than_removed(config, source or str(path))
        catalog = await self.catalog()
        elsewhere = self._provider_elsewhere(config, current, catalog)
        if elsewhere is not None:
            raise elsewhere
        unchanged = current is not None and definition_of(config) == definition_of(current)
        if unchanged and broken is None:
            return Change(config.id, action, None, config)
        unheld = await self._unheld_cluster(config, current)
        if unheld is not None and unheld_cluster == "refuse":
            raise unheld
        if entry_kind(path) == "directory":
            # The change would replace the destination's file, and a directory of its name
            # cannot be replaced by one: say so before anything is recorded.
            raise ConfigurationError(
                f"{path.name} is a directory, not a file; nothing was changed: move it out of "
                "the destinations directory, then make the change again"
            ).coded("destination.file_is_directory", id=config.id, file=path.name)
        before = _file_as_read(path, current, broken)
        text = render_onto(before, config)
        warnings = tuple(
            version_warnings(config, today=self._today(), source=str(path), in_service=True)
        )
        rewrites = text != before
        if unchanged and not rewrites and broken is not None:
            return Change(config.id, action, None, config, (_still_refused(broken),))
        refused_copy: Path | None = None
        if broken is not None and rewrites:
            if before is not None:
                refused_copy = refused_copy_path(path, self._now())
            edited = edited_keys(before, definition_of(current) if current is not None else None)
            # Dropped: what the edit changed that the new definition does not say too (a hand
            # pause refused for a typo elsewhere, then paused with the CLI, is not dropped).
            kept = set(edited_keys(before, definition_of(config)))
            dropped = tuple(key for key in edited if key in kept)
            warnings += (_repair_notice(broken, dropped, refused_copy),)
        elif broken is not None:
            warnings += (_still_refused(broken),)
        if unheld is not None:
            warnings += (str(unheld),)
        if not config.providers:
            warnings += (NO_PROVIDERS(id=config.id),)
        warnings += tuple(shared_providers(config, catalog, shown=lambda d: self._yours(d.cluster)))
        waiting, new = await self._unrouted_waiting(config, current)
        warnings += tuple(
            (UNROUTED_WAITING if provider in new else UNROUTED_STILL_WAITING)(
                count=count, provider=provider
            )
            for provider, count in sorted(waiting.items())
        )
        diff = "" if unchanged else _diff(_dumped(current), dump_destination(config))
        async with self._lock:
            with files_of(self._dir, "write"):
                self._dir.mkdir(parents=True, exist_ok=True)
            recording = self._store.recording_destination_revision(
                config.id,
                after=base,
                actor=actor,
                action=action,
                config=definition_of(config),
                diff=diff,
                reason=reason,
                keep=not unchanged,
            )
            # Kept until the revision is committed: a process stopped in between leaves the
            # next load who made the change and why (``integrator.change_intents``).
            intent = not unchanged and rewrites
            if intent:
                with files_of(self._dir, "write"):  # a directory it may not write: said so
                    keep_intent(
                        self._dir, config.id, Intent(actor, action, reason, definition_of(config))
                    )
            try:
                number = await _under_revision(
                    recording,
                    path,
                    before,
                    lambda: _rewrite(path, text, refused_copy, before) if rewrites else None,
                )
            finally:
                if intent:
                    drop_intent(self._dir, config.id)
            revision = None if unchanged else number
            details: dict[str, Any] = {"revision": revision, **self._where()}
            if broken is not None and rewrites:
                details["rewrote_refused_file"] = str(path)
                details["refused_copy"] = str(refused_copy) if refused_copy else None
            await self._store.add_audit(
                actor,
                DESTINATION_CHANGES[history_actions.read_action(action)[0]],
                config.id,
                reason=reason,
                details=details,
            )
        await self._notify()
        rewrote = str(path) if broken is not None and rewrites else None
        return Change(config.id, action, revision, config, warnings, diff, rewrote)

    async def _change_in_service(
        self,
        destination_id: str,
        expected_revision: int | None,
        edit: Callable[[DestinationView], tuple[DestinationConfig, DestinationConfig | None]],
        *,
        actor: str,
        action: str,
        reason: str | None,
        unheld_cluster: UnheldClusters,
    ) -> Change:
        """Change a destination there is: read it, check the revision the change was made to,
        have ``edit`` make the new definition from it (and name the one it replaces), write it.
        Each try of ``_changing`` reads the destination afresh, so a change made again after
        being overtaken is made to what overtook it."""

        async def made_after(base: int) -> Change:
            view = await self.view(destination_id)
            await self._expect(view, expected_revision)
            config, current = edit(view)
            return await self._write(
                config,
                Path(view.file),
                current,
                base=base,
                broken=view.broken,
                actor=actor,
                action=action,
                reason=reason,
                unheld_cluster=unheld_cluster,
            )

        await self._refuse_without_directory()
        if expected_revision is None:  # with one, the edit is the change it did not expect
            await self._record_waiting_edit(destination_id)
        return await self._changing(destination_id, expected_revision, made_after)

    async def _record_waiting_edit(self, destination_id: str) -> None:
        """A hand edit of the file not yet recorded (no engine read it since) is recorded as
        the engine would (its revision by ``file``, its ``destination.file`` audit entry)
        before a change is made on top of it: else the edit went into the change's revision,
        missing from the history's diffs and audit, and credited to whoever made the change."""
        view = await self.view(destination_id)
        if view.broken is not None or view.config is None:
            return  # refused: the change is made to the last good definition, not the file
        revisions = await self._store.list_destination_revisions(destination_id)
        last = revisions[-1].config if revisions else None
        now = definition_of(view.config)
        if last is not None and last != now and _file_still_says(view.file, now):
            await self._record_by_hand(destination_id, last, now, view.file)

    async def _changing(
        self,
        destination_id: str,
        expected: int | None,
        made_after: Callable[[int], Awaitable[Change]],
    ) -> Change:
        """Make a change with ``made_after(base)``, which reads the destination, makes the
        change to it and writes it (``_write``) as the revision after ``base``.

        With ``expected`` the base is that revision, and a change overtaken on its way to the
        file (another change recorded since, by any process, or the file edited) is refused:
        ``DestinationChanged``, nothing written. Without, the base is the last revision
        recorded, read before the file is (so the file read is never older than it), and an
        overtaken change is made again, to what overtook it: the other change stays, the two
        get consecutive revisions and the file says what the last one does.
        """
        await self._refuse_without_directory()
        base = expected
        for _ in range(_ATTEMPTS):
            if expected is None:
                base = await self._store.last_destination_revision(destination_id)
            assert base is not None
            try:
                return await made_after(base)
            except _Overtaken:
                if expected is not None:
                    break
        assert base is not None
        raise await self._changed_since(destination_id, base)

    async def _refuse_without_directory(self) -> None:
        """Refuse any change while the destinations directory is unusable (gone, a file, not
        listable) and the store has destinations: a directory made here would hold the one file
        written, and the engine, reading it, would take every other destination out of service
        (a rollback did so: ``mkdir`` and a new directory with one file). A volume not mounted,
        a command run from another directory: the store says which, and nothing is written.
        A new store's first destination makes the directory. A look at the directory, not a
        reading of its files: it comes before every change."""
        await self.refuse_without_directory(
            "nothing is changed: put the directory back (a volume not mounted?), or, for a "
            "command run elsewhere, run it where the engine runs or set the setting to its "
            "directory"
        )
        # An empty one (a volume's mount point) alike: the engine keeps its destinations then
        # (``integrator.no_destination_files``), and one file written there would end that.
        await refuse_without_files(self._store, self._dir, CHANGING)

    async def refuse_without_directory(self, consequence: str) -> None:
        """``ConfigurationError`` when the destinations directory is gone (or a file) while the
        store has destinations, saying ``consequence``: the one rule for a change (above) and
        for an engine's start (``Engine.start``), which would otherwise take events in with no
        destination and store every one of them unrouted."""
        gone = directory_problem(self._dir)
        if gone is not None and await self._store.has_destination_history():
            raise ConfigurationError(
                f"destinations directory unusable: {self._dir} (INTEGRATOR_DESTINATIONS_DIR) "
                f"{gone.rule}; this store has destinations, so {consequence}"
            ).coded("destination.directory_unusable", directory=str(self._dir))

    async def _expect(self, view: DestinationView, expected: int | None) -> None:
        """Refuse (``DestinationChanged``) unless the definition in service is ``expected``.

        Compared with the revision in service, not merely the last one recorded: a hand edit
        the engine has not recorded yet is a change too. This is the early answer, before
        anything is done; the one that holds against changes made at the same moment is the
        revision's record (``Store.recording_destination_revision``).
        """
        if expected is None or view.revision == expected:
            return
        now = definition_of(view.config) if view.config is not None else None
        if view.revision is None:
            # A file no recorded revision says: an edit by hand, or another process's change
            # between its file write and its commit, which is named once it has committed.
            raise await self._changed_since(view.id, expected, unrecorded=now)
        revisions = await self._store.list_destination_revisions(view.id)
        latest = revisions[-1] if revisions else None
        raise self._refusal(view.id, expected, latest, revisions, now)

    async def _changed_since(
        self, destination_id: str, expected: int, *, unrecorded: dict[str, Any] | None = None
    ) -> DestinationChanged:
        """The refusal of a change made to ``expected`` that was overtaken on its way to the
        file: by the revision recorded since, or (none recorded) by an edit of the file, whose
        definition ``unrecorded`` is when it could be read."""
        await self._settled(destination_id, expected)
        revisions = await self._store.list_destination_revisions(destination_id)
        latest = revisions[-1] if revisions and revisions[-1].revision != expected else None
        now = latest.config if latest is not None else unrecorded
        return self._refusal(destination_id, expected, latest, revisions, now)

    def _refusal(
        self,
        destination_id: str,
        expected: int,
        latest: DestinationRevision | None,
        revisions: Sequence[DestinationRevision],
        now: Mapping[str, Any] | None,
    ) -> DestinationChanged:
        """``DestinationChanged`` with what changed since ``expected``, as a whole and by
        which revision."""
        between = [r for r in revisions if r.revision > expected] if latest is not None else []
        return DestinationChanged(
            destination_id,
            expected,
            latest,
            _changed_keys(revisions, expected, now),
            self._settings.zone,
            between=between,
            touched=_keys_touched(revisions, expected),
        )

    async def _settled(self, destination_id: str, after: int) -> None:
        """Return once no other change to the revision after ``after`` is being recorded.

        Another process's change writes its file while its revision is uncommitted; a change
        that reads the file in that moment sees what looks like an edit by hand. Taking the
        same revision (and never keeping it) waits for that change's commit, so a refusal names
        the change that won, not a hand edit. Only on the way to a refusal: nothing else waits.
        """
        recording = self._store.recording_destination_revision(
            destination_id, after=after, actor="", action="", config=None, diff="", keep=False
        )
        with contextlib.suppress(RevisionTaken):
            async with recording:
                pass

    def _provider_elsewhere(
        self, config: DestinationConfig, current: DestinationConfig | None, catalog: Catalog
    ) -> AccessDenied | None:
        """The refusal of a change by a caller held to some clusters that makes ``config``
        serve a provider which a destination outside those clusters serves; None if none.

        An event goes to every destination that serves its provider, whatever its cluster. A
        destination is the caller's to point at any host, so letting them add another
        cluster's provider would send that cluster's referrals, patients and all, wherever
        they like, and show them those messages: something done outside their clusters.
        Only providers the change adds count (all of them for a new destination, or one
        restored from history): a provider the destination serves already was given to it by
        someone who may, and pausing it or moving its port must stay possible. Taking one
        away is always allowed. The refusal names the provider only, never the other
        destination or its cluster. A caller with all clusters is never refused here.
        """
        if not self._limited:
            return None
        served = set(current.providers) if current is not None else set()
        for provider in config.providers:
            if provider in served:
                continue
            others = [d for d in catalog.serving(provider) if d.id != config.id]
            if any(not self._yours(d.cluster) for d in others):
                return AccessDenied(
                    f"providers: provider {provider!r} is served by a destination outside your "
                    "clusters; ask someone with access to all clusters"
                ).coded("destination.provider_elsewhere", provider=provider)
        return None

    async def _refuse_id_of_another(self, destination_id: str, catalog: Catalog) -> None:
        """Refuse (``AccessDenied``) a caller held to some clusters a new destination under an
        id that is another cluster's: a destination in service outside their clusters, or one
        removed whose last definition was outside them.

        Ids are global (the file is ``<id>.yaml``), so any refusal of a free-looking id tells
        that it is taken; there is no answer that hides that short of taking the id, which
        would mean writing over another cluster's file or continuing its history. What it
        must not tell is more: not whether that destination is in service or removed, nor its
        cluster, nor its file. So both cases get the same 403 and the same words, as ``GET``
        answers an id outside the caller's clusters as unknown whether it exists or not. A
        removed one counts because adding under its id continues its history, which its new
        cluster's people could then read. An id the caller sees (in their clusters) keeps its
        own answer: it exists already.
        """
        if not self._limited:
            return
        if destination_id in catalog.sources:
            config = catalog.destinations.get(destination_id)
            theirs = self._yours(config.cluster if config is not None else None)
        else:
            kept = [
                r.config
                for r in await self._store.list_destination_revisions(destination_id)
                if r.config is not None
            ]
            theirs = not kept or self._yours(kept[-1].get("cluster"))
        if not theirs:
            raise _id_denied(destination_id)

    async def _refuse_elsewhere_than_removed(self, config: DestinationConfig, source: str) -> None:
        """Refuse bringing a removed destination's id back in another cluster than it was
        removed from (``removed_destinations.elsewhere_than_removed``): its messages lie in
        that cluster, and would go with the id to the other's people. Who may change
        destinations in every cluster is refused too, naming the cluster to add it in; someone
        held to some clusters who could not see that one is answered as for an id of another
        cluster, without it (the add's own check says so first)."""
        removal = await removal_of(self._store, config.id)
        refusal = elsewhere_than_removed(removal, config.cluster, source)
        if refusal is None:
            return
        if removal is not None and not self._yours(removal.cluster):
            raise _id_denied(config.id)
        raise DefinitionRefused(refusal)

    async def _unheld_cluster(
        self, config: DestinationConfig, current: DestinationConfig | None
    ) -> UnheldCluster | None:
        """``UnheldCluster`` when ``config`` moves into (or is added in) a cluster that no other
        destination is in and no person or token holds a grant for: who should see it then?

        A grant counts while it is active and its holder can still use it (a person not
        deactivated, a token neither revoked nor expired); a grant for all clusters does not
        count, as its holders see every cluster anyway.
        """
        cluster = config.cluster
        if cluster is None or (current is not None and current.cluster == cluster):
            return None
        destinations = (await self.catalog()).destinations
        if any(d.cluster == cluster for d in destinations.values() if d.id != config.id):
            return None
        now = self._now()
        people = [p.grants for p in await self._store.list_people() if p.status != "deactivated"]
        tokens = [
            t.grants
            for t in await self._store.list_tokens()
            if t.revoked_at is None and t.expires_at > now
        ]
        if any(g.active and g.cluster == cluster for held in people + tokens for g in held):
            return None
        in_use = sorted({d.cluster for d in destinations.values() if d.cluster is not None})
        return UnheldCluster(config.id, cluster, current.cluster if current else None, in_use)

    async def _unrouted_waiting(
        self, changed: DestinationConfig, current: DestinationConfig | None
    ) -> tuple[dict[str, int], frozenset[str]]:
        """Per provider this destination serves: the unrouted events of the types it takes;
        and the providers whose waiting ones the change made it serve (a new provider, a new
        event type, a new destination), to be told apart from a reminder at a later change.

        Those were stored while no destination served them, and nothing sends them by itself
        (``integrator.events_routing``): the operator who made the change is told to route them.
        """
        if not changed.providers or not changed.messages:
            return {}, frozenset()
        waiting = await self._store.count_unrouted_events(
            provider_ids=list(changed.providers), event_types=list(changed.messages)
        )
        if current is None:
            return waiting, frozenset(waiting)
        served_before = [p for p in changed.providers if p in current.providers]
        types_before = [t for t in changed.messages if t in current.messages]
        before = (
            await self._store.count_unrouted_events(
                provider_ids=served_before, event_types=types_before
            )
            if served_before and types_before
            else {}
        )
        return waiting, frozenset(p for p, n in waiting.items() if n > before.get(p, 0))

    async def _notify(self) -> None:
        if self._applied is not None:
            await self._applied()


def _id_denied(destination_id: str) -> AccessDenied:
    """The refusal of an id that is, or was, a destination outside the caller's clusters: the
    same words either way, never its cluster (``DestinationAdmin._refuse_id_of_another``)."""
    return AccessDenied(
        f"id: you may not use the id {destination_id!r}: it is, or was, a destination outside "
        "your clusters; choose another id, or ask someone with access to all clusters"
    ).coded("destination.id_not_yours", id=destination_id)


def _cluster_denied(cluster: str | None) -> AccessDenied:
    """The refusal of a change that would put a destination in ``cluster``, not the caller's."""
    if cluster:
        return AccessDenied(f"cluster: you may not put a destination in cluster {cluster}").coded(
            "destination.cluster_not_yours", cluster=cluster
        )
    return AccessDenied(
        "cluster: you may not put a destination in no cluster (that needs the role for all "
        "clusters)"
    ).coded("destination.no_cluster")


def _cluster_named(definition: str | Mapping[str, Any], source: str) -> object:
    """The ``cluster`` a definition names, unchecked: None where it names none, ``...`` where
    it is no mapping at all (its validation says why)."""
    if isinstance(definition, str):
        try:
            definition = parse_yaml(definition, source)
        except DestinationFileError:
            return ...
    return definition.get("cluster") if isinstance(definition, Mapping) else ...


def _parsed(
    definition: str | Mapping[str, Any],
    source: str,
    *,
    check_files: bool,
    recorded: bool | None = None,
    tls_dir: TlsDirectory | None = None,
) -> DestinationConfig:
    if isinstance(definition, str):
        return destination_from_yaml(
            definition, source=source, check_files=check_files, recorded=recorded, tls_dir=tls_dir
        )
    return destination_from_mapping(
        definition, source=source, check_files=check_files, recorded=recorded, tls_dir=tls_dir
    )


def _with_version_problems(
    refused: DestinationFileError,
    definition: str | Mapping[str, Any],
    in_service: Mapping[str, str],
    today: date,
) -> DestinationFileError:
    """``refused`` (the file's rules) with the version rules the definition breaks too, for the
    keys it does not refuse already: every mistake in one answer, not the versions' only once
    the rest is right. A definition given as text (``destinations add FILE``) is read as its
    file is; one that is no YAML mapping is left as refused."""
    if isinstance(definition, str):
        try:
            definition = parse_yaml(definition, refused.file)
        except DestinationFileError:
            return refused
    more = version_problems_beside(
        refused.problems, definition, source=refused.file, in_service=in_service, today=today
    )
    if more:
        refused.problems = (*refused.problems, *more)
    return refused


def version_problems_beside(
    refused: Sequence[DestinationFileError],
    definition: object,
    *,
    source: str,
    in_service: Mapping[str, str],
    today: date,
) -> list[DestinationFileError]:
    """The version rules (``catalog.version_problems``) that ``definition``, as parsed, breaks
    beside the problems it is ``refused`` for already, for the keys those do not name: what a
    refusal by the file's rules leaves untold. Nothing for a definition that is no mapping or
    whose ``messages`` as a whole is refused. ``in_service``: the versions its destination
    runs on, by event type (a retired one it keeps is no mistake). Changes nothing given."""
    messages = definition.get("messages") if isinstance(definition, Mapping) else None
    if not isinstance(messages, Mapping):
        return []
    named = {problem.key for problem in refused}
    if "messages" in named:  # the versions as a whole are refused: nothing to add
        return []
    sent = {k: v for k, v in messages.items() if k in EVENT_TYPES}
    return [
        problem
        for problem in version_problems(sent, today=today, source=source, in_service=in_service)
        if not any(key.startswith(problem.key) for key in named)
    ]


def _recorded(definition: Mapping[str, Any]) -> DestinationConfig:
    """A definition as the store recorded it, to write it out: its files are not looked at."""
    return destination_from_mapping(definition, source="", check_files=False)


def problem_view(problem: DestinationFileError, *, paths: bool = True) -> dict[str, str | None]:
    """A refusal as plain data: which file, which key, which rule (its code, as the audit
    entry of a refused file names it, and its English text); without ``paths``, every file
    by its name only (``integrator.file_paths``: the server's paths are for who may change
    the destination files)."""
    problem = problem_as_seen(problem, paths=paths)
    return {
        "file": problem.file,
        "key": problem.key,
        "code": problem.code or problem.type,
        "rule": problem.rule,
    }


def _changed_keys(
    revisions: Sequence[DestinationRevision], since: int, now: Mapping[str, Any] | None
) -> list[str]:
    """The top-level keys whose value differs between revision ``since`` and the definition
    ``now``, in the file's key order; none when either is unknown."""
    then = next((r.config for r in revisions if r.revision == since), None)
    if then is None or now is None:
        return []
    return [key for key in DestinationConfig.model_fields if now.get(key) != then.get(key)]


def _keys_touched(revisions: Sequence[DestinationRevision], since: int) -> list[KeyTouched]:
    """Which revisions after ``since`` changed which top-level key (each compared with the one
    before it), in the file's key order. A revision without a definition (a removal) or whose
    predecessor has none touches no key here: its action says what it did."""
    by_key: dict[str, list[DestinationRevision]] = {}
    before = next((r.config for r in revisions if r.revision == since), None)
    for r in (r for r in revisions if r.revision > since):
        if before is not None and r.config is not None:
            for key in DestinationConfig.model_fields:
                if r.config.get(key) != before.get(key):
                    by_key.setdefault(key, []).append(r)
        before = r.config
    return [
        KeyTouched(
            key,
            tuple(r.revision for r in by_key[key]),
            tuple(dict.fromkeys(r.actor for r in by_key[key])),
        )
        for key in DestinationConfig.model_fields
        if key in by_key
    ]


def _revisions_there_are(numbers: Sequence[int]) -> str:
    """``its revisions: 1-4, 6`` (runs of consecutive numbers shortened): a long history stays
    one line."""
    if not numbers:
        return "it has none recorded yet"
    return "its revisions: " + _runs(numbers)


def _runs(numbers: Sequence[int]) -> str:
    """``1-4, 6``: numbers with runs of consecutive ones shortened."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def _usable(view: DestinationView) -> DestinationConfig:
    """The definition to work on; refuses clearly for a broken one that has none."""
    if view.config is not None:
        return view.config
    problem = view.broken.problem if view.broken else "no definition"
    raise ConfigurationError(
        f"destination {view.id!r} is broken and has no good definition to work on "
        f"({problem}); fix its file"
    ).coded("destination.broken", id=view.id)


def _repair_notice(broken: Broken, edited: Sequence[str], copy: Path | None) -> str:
    """What became of the refused file: rewritten, what its edit had changed, where it is."""
    refused = f"{broken.file} was refused ({broken.problem.key}: {broken.problem.rule})"
    if broken.revision is not None:
        done = (
            f"{refused}; this change was made to its last good definition (revision "
            f"{broken.revision}) and the file was rewritten from it"
        )
        if edited:
            done += f", dropping the refused edit's changes to {', '.join(edited)}"
    else:
        done = f"{refused}; it was replaced by this definition"
    if copy is not None:
        done += f"; the refused file is kept as {copy}: put back from it what was meant"
    return done


def _still_refused(broken: Broken) -> str:
    """A broken destination's file left as it was: it already says the definition, and is
    refused for something outside its text (a TLS file it names is gone, say)."""
    return (
        f"{broken.file} is still refused ({broken.problem.key}: {broken.problem.rule}); it "
        "already says this definition, so it was left as it is: put right what it is refused for"
    )


def _rewrite(path: Path, text: str, refused_copy: Path | None, refused: str | None) -> None:
    """Keep the refused text beside the file (``refused_edits``), then write the change."""
    if refused_copy is not None and refused is not None:
        refused_copy.write_text(refused, encoding="utf-8")
    _replace_text(path, text)


def _has_file(directory: Path, destination_id: str) -> bool | None:
    """Whether the destination's file is there; None when the directory itself cannot be
    read (a network mount gone, say): then no file is known to be deleted."""
    if not directory.is_dir():
        return None
    # Anything so named (a directory, a link to nothing) is a refused file, not a deleted one.
    return os.path.lexists(directory / f"{destination_id}.yaml")


def _keys_differing(file: str, good: Mapping[str, Any], keys: list[str]) -> list[str]:
    """The top-level keys a second file claiming an id says otherwise than that destination's
    definition: it loads (only its name is wrong), so it is compared definition to definition
    (a copy that leaves a default out, or spells ``10m`` as ``600s``, changes nothing);
    ``keys`` when it no longer loads."""
    try:
        copy = definition_of(load_destination_file(file))
    except DestinationFileError:
        return keys
    return sorted(key for key in copy.keys() | good.keys() if copy.get(key) != good.get(key))


def _refused_text(file: str) -> str | None:
    """The text of a refused file, to tell one refused edit from the next; None if unreadable
    or no file (a pipe is never opened: reading it would wait for ever)."""
    if entry_kind(Path(file)) != "file":
        return None
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _file_still_says(file: str | None, definition: dict[str, Any]) -> bool:
    if file is None:
        return True
    try:
        return definition_of(load_destination_file(file)) == definition
    except DestinationFileError:
        return False


class _Overtaken(Exception):
    """A change was overtaken on its way to the file: another change was recorded since the
    revision it was made to, or the file no longer says what it was made to."""


_ATTEMPTS = 5
"""How often a change made without an expected revision is made again when overtaken, before
it is refused like one made with it (``DestinationChanged``); each try is a few milliseconds."""


def _file_as_read(
    path: Path, current: DestinationConfig | None, broken: Broken | None
) -> str | None:
    """The file's text, to write the change into and to compare at the write: ``_Overtaken``
    already if it does not say ``current`` (None: there is no file) any more, as it did when the
    destination was read. A broken one's file is not a definition: its text is compared only."""
    text = _read_text(path)
    if broken is not None:
        return text
    if current is None:
        if text is not None:
            raise _Overtaken
        return text
    try:
        says = text is not None and definition_of(
            destination_from_yaml(text, source=str(path), check_files=False)
        ) == definition_of(current)
    except DestinationFileError:
        says = False
    if not says:
        raise _Overtaken
    return text


RECORDED_LATE = (
    "at the next load of its file: the process making the change stopped after writing the "
    "file and before recording it"
)
"""Said in the audit entry of a change recorded from its intent (``integrator.change_intents``)."""


async def _under_revision(
    recording: AbstractAsyncContextManager[int],
    path: Path,
    before: str | None,
    write: Callable[[], object],
) -> int:
    """Change the file (``write``) while its revision is being recorded; the revision's number.

    The record is taken first and commits after the file is written; taken by another change
    already, or the file changed since it read ``before``, the change is ``_Overtaken`` and
    writes nothing. Should the record fail to commit after the file was written, the file gets
    ``before`` back, so that file and history still agree.
    """
    written = False
    try:
        async with recording as number:
            if _read_text(path) != before:
                raise _Overtaken
            with files_of(path.parent, "write"):  # the destinations directory
                write()
            written = True
    except RevisionTaken:
        raise _Overtaken from None
    except StoreError:
        if written:
            _put_back(path, before)
        raise
    return number


def _replace_text(path: Path, text: str) -> None:
    """Write ``text`` into ``path`` atomically: a reader sees the old file or the new one whole.

    The temporary file is the writer's own (hidden, so neither the engine's loader nor its
    watcher reads it): two processes writing one destination never share one. A symbolic link
    to a file is written through, into the file it names, and stays a link; the file keeps its
    permissions. Replaced, the link of a checkout that a configuration tool keeps became a
    plain copy, its later edits to the checkout ignored without a word, and a file kept
    ``0640`` came back ``0644``. A link to nothing is replaced by the file (docs/operators.md).
    """
    target = path
    if path.is_symlink() and path.resolve().is_file():
        target = path.resolve()
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        with contextlib.suppress(OSError):  # a new file: the umask's permissions
            os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _put_back(path: Path, text: str | None) -> None:
    with contextlib.suppress(OSError):
        if text is None:
            path.unlink(missing_ok=True)
        else:
            _replace_text(path, text)


def _dumped(config: DestinationConfig | None) -> str:
    return dump_destination(config) if config is not None else ""


def _read_text(path: Path) -> str | None:
    """The file's text to write the change into; None if there is none worth keeping (nor
    any to read: a directory or a pipe so named is no file)."""
    if entry_kind(path) != "file":
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _missing_keys(definition: Mapping[str, Any]) -> list[str]:
    missing = [key for key in DestinationConfig.model_fields if key not in definition]
    for section, model in (("retry", RetrySettings), ("tls", TlsSettings)):
        value = definition.get(section)
        if isinstance(value, Mapping):
            missing += [f"{section}.{key}" for key in model.model_fields if key not in value]
    return missing


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, ``null`` takes a key out, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _diff(before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=history_actions.DIFF_BEFORE,
            tofile=history_actions.DIFF_AFTER,
        )
    )


def _parse_assignment(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigurationError(f"--set {text!r}: write KEY=VALUE, e.g. port=2576")
    try:
        value = load_value(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise ConfigurationError(f"--set {key}: the value is not valid YAML") from None
    if is_text_key(key.strip()) and not isinstance(value, str | None):
        # receiving_application=NO is the text NO, not YAML's false; facility=0123 is 0123
        value = raw.strip()
    return key.strip(), value


def _assign(data: dict[str, Any], dotted: str, value: Any) -> None:
    """``retry.max_attempts=5`` sets a nested key; ``null`` takes the key out, so it is back at
    its default (``tls=null`` clears a section, ``retry.max_attempts=null`` is 20 again), as
    the API's ``PATCH`` with ``null`` does."""
    *parents, last = dotted.split(".")
    target = data
    for part in parents:
        child = target.get(part)
        if child is None:
            child = target[part] = {}
        if not isinstance(child, dict):
            raise ConfigurationError(f"--set {dotted}: {part} is not a section")
        target = child
    if value is None:
        target.pop(last, None)
    else:
        target[last] = value


def pausing_revision(revisions: Sequence[DestinationRevision]) -> DestinationRevision | None:
    """The revision that paused the destination, while its last revision has it paused: the
    first of the paused ones at the end of its history (a pause, an update or a hand edit
    setting ``enabled: false``, or the addition of a destination paused from the start).

    Support seeing a paused destination asks who paused it and why; the history holds it, a
    page away and among other changes."""
    pausing = None
    for revision in reversed(revisions):
        if not _paused(revision):
            break
        pausing = revision
    return pausing


def _paused(revision: DestinationRevision) -> bool:
    """Whether ``revision`` leaves its destination there and paused."""
    return revision.config is not None and not revision.config.get("enabled", True)
