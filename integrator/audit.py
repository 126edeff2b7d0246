"""The audit trail for people: search terms checked as a message search checks them, CSV export.

The BSN is hashed here with the search key (``Settings.bsn_hash``), like ``integrator.search``
does, so the store is only ever asked for the hash. The chain itself (``hash``, ``prev_hash``)
is the store's business: ``Store.verify_audit``.

The CLI, the API and the console all check a search with ``build_audit_filter`` and then, with
the store at hand, ``check_audit_destination``: the one rule for a destination term, so that no
front door answers a typo with an empty trail while another refuses it. A BSN typed into a
free-text term (actor, action, target, message, destination) is refused there too, naming the
term (``search.misplaced_bsn``), as the message and rejected-input searches refuse it: a
patient is searched by BSN only, so the number never goes into an address, a redirect, a page
or the audit entry of an export.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final

from integrator.audit_actions import ACTIONS, is_action
from integrator.csv_cells import csv_text
from integrator.exports import ExportPage, record_export
from integrator.ids import stored_id
from integrator.message_reads import configured_destinations
from integrator.presenters import audit_view
from integrator.search import BadSearch, build_filter, given_term, misplaced_bsn, whole_id
from integrator.settings import Settings
from integrator.store import AuditCheck, AuditFilter, AuditRecord, Store
from integrator.store.codec import dump_json

if TYPE_CHECKING:
    from integrator.clusters import ClusterScope
    from integrator.engine import Engine

CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "target",
    "reason",
    "details",
    "hash",
    "origin",
    "origin_name",
    "prev_hash",
)
"""The export's columns: ``origin`` and ``origin_name`` (``AuditOrigin``) came last, after the
others, so a report reading the earlier ones by position reads them as before; ``prev_hash``
after them for the same reason. With it and ``details`` as stored, one row's ``hash`` can be
recomputed from the file alone (docs/access.md, "Checking an exported entry")."""

ACTOR_KINDS: Final = ("person", "token", "local", "engine")
"""The kinds of actor the engine records as ``kind:<name>``."""
BARE_ACTORS: Final = frozenset({"system", "file"})
"""The engine's own entries without a kind: data-key checks, destination files read."""
ACTOR_FORMS: Final = (
    "give person:<email>, token:<name>, local:<user> or engine:<job> "
    "(or system or file, the engine's own entries)"
)

NO_DESTINATION: Final = "no destination has that id, and no audit entry or stored message names one"

ENGINE_ACTOR_KINDS: Final = frozenset({"engine"})
"""Actor kinds of the engine's own work (``engine:<job>``), beside ``BARE_ACTORS``."""


@dataclasses.dataclass(frozen=True, slots=True)
class AuditOrigin:
    """Where an entry's action came from, as the trail records it.

    ``kind`` is ``address`` (``name`` the client's address, ``details.source``),
    ``command_line`` (the server's CLI, ``local:<user>``: it records no address),
    ``token`` (an API token, ``name`` its name, when no address was recorded), ``engine``
    (its own work: ``system``, ``file``, ``engine:<job>``) or ``unknown`` (nothing recorded
    says, e.g. an entry written before sources were).
    """

    kind: str
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        """As the API and ``--json`` give it: ``name`` null for a kind that has none."""
        return {"kind": self.kind, "name": self.name or None}


def audit_origin(entry: AuditRecord) -> AuditOrigin:
    """From where ``entry`` was done: the recorded ``details.source`` first, else what its
    actor's kind tells. One rule, so no front door reads ``source=None`` as "nowhere"."""
    source = entry.details.get("source")
    if isinstance(source, str) and source.strip():
        return AuditOrigin("address", source)
    kind, colon, name = entry.actor.partition(":")
    if entry.actor in BARE_ACTORS or (colon and kind in ENGINE_ACTOR_KINDS):
        return AuditOrigin("engine")
    if colon and kind == "local":
        return AuditOrigin("command_line")
    if colon and kind == "token" and name:
        return AuditOrigin("token", name)
    return AuditOrigin("unknown")


def audit_entry_view(entry: AuditRecord, zone: tzinfo | None = None) -> dict[str, Any]:
    """An entry as the API, ``audit list --json`` and the CSV give it: the stored fields
    (``presenters.audit_view``) and its ``origin`` as ``audit_origin`` reads it, so a client
    need not read ``details.source`` and the actor's kind by the same rule itself; and its
    ``prev_hash``, without which whoever is handed an export (an auditor, the inspectorate)
    could not recompute any entry's ``hash``, only the server (``audit verify``)."""
    return {
        **audit_view(entry, zone),
        "origin": audit_origin(entry).to_json(),
        "prev_hash": entry.prev_hash,
    }


def build_audit_filter(
    settings: Settings,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    message: str | None = None,
    destination: str | None = None,
    bsn: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
) -> AuditFilter:
    """The store filter for these terms; a bad BSN, period or actor, a term given empty, or a
    BSN in another term (``misplaced_terms``), is a ``BadSearch`` naming the term (never its
    value). ``until`` given as a date includes that day."""
    action, target, message, destination = (
        given_term(name, value)
        for name, value in (
            ("action", action),
            ("target", target),
            ("message", message),
            ("destination", destination),
        )
    )
    free = {
        "actor": actor,
        "action": action,
        "target": target,
        "message": message,
        "destination": destination,
    }
    if (pasted := misplaced_terms(free)) is not None:
        raise pasted
    checked = build_filter(settings, bsn=bsn, since=since, until=until)
    return AuditFilter(
        actor=checked_actor(actor),
        action=checked_action(action),
        target=(stored_id(target) or target.strip()) if target is not None else None,
        message=message,
        destination=destination,
        bsn_hash=checked.bsn_hash,
        since=checked.since,
        until=checked.until,
    )


def misplaced_terms(terms: dict[str, str | None]) -> BadSearch | None:
    """The refusal of the first free-text term that holds a BSN (``search.misplaced_bsn``),
    or None. An id (a UUID, as the engine makes them, typed in any case, with or without its
    dashes: ``ids.stored_id``) is not typed patient data, whatever digits it happens to hold,
    so a target or message term that is one is never refused for them: the hex of about one
    id in a hundred holds nine digits that pass the eleven-test."""
    return misplaced_bsn(
        {name: value for name, value in terms.items() if stored_id(value or "") is None}
    )


def checked_action(action: str | None) -> str | None:
    """``action`` as the store records it, or a ``BadSearch`` listing the actions there are.

    Actions are written in lower case (``message.resend``): ``Message.Resend `` is looked up
    as that. One the engine never writes (``audit_actions``: a typo, ``resend`` for
    ``message.resend``) can match no entry, and an empty answer would read as "nobody did
    that"; it is refused, the one given not repeated (it may be a BSN pasted in the wrong
    field), as a message search refuses a status that is none."""
    if action is None:
        return None
    stored = action.strip().lower()
    if not is_action(stored):
        raise BadSearch("action", f"not an audit action; one of {', '.join(ACTIONS)}").coded(
            "audit.action", actions=ACTIONS
        )
    return stored


def checked_actor(actor: str | None) -> str | None:
    """``actor`` as the store records it, or a ``BadSearch`` when it cannot match.

    Entries name their actor with its kind (``person:anna@example.nl``, ``token:lab-desk``);
    a bare e-mail address or token name would match nothing, and an empty answer would read as
    "nobody did anything". Guessing the kind is not safe (a token may be named like an
    address), so the term is refused with the forms that do match.

    A person's address is stored lower-cased (``access.service.normalise_email``), so
    ``person:Anna@Example.nl`` is looked up as that person, not answered with an empty trail.
    Token names are unique as written (``Ops`` and ``ops`` may be two tokens), and logins and
    jobs are the system's, so those are matched exactly.
    """
    actor = given_term("actor", actor)
    if actor is None:
        return None
    kind, colon, name = actor.partition(":")
    if kind == "person":
        name = name.strip().lower()
        actor = f"{kind}:{name}"
    if actor in BARE_ACTORS or (colon and kind in ACTOR_KINDS and name):
        return actor
    raise BadSearch("actor", ACTOR_FORMS).coded("audit.actor")


async def check_audit_destination(
    store: Store,
    settings: Settings,
    flt: AuditFilter,
    configured: Collection[str] | None = None,
    visible: frozenset[str] | None = None,
) -> None:
    """Refuse a destination term that names no destination the trail can hold entries about.

    An empty trail must mean "nothing was recorded", so a typo is a ``BadSearch`` naming the
    term, the rule and the destinations configured (never the value typed), as a message
    search refuses one (``message_reads.check_destination``). The trail outlives the
    configuration, though: a destination removed since is still known while an audit entry or
    a stored message names it (``Store.destination_on_record``: indexed lookups, ``LIMIT 1``,
    so a refusal costs no scan of the trail).

    ``configured``: the ids in service (the engine's catalog); None reads the destination files
    as the engine would (the CLI). ``visible``: the destinations of the caller's clusters
    (``ClusterScope.destination_ids``), None for all of them. A destination outside them is
    refused as one that does not exist, and the store is not asked about it, so the answer
    never tells that it does; a removed destination lies in no cluster and is known only to
    who may see all of them (``integrator.clusters``).
    """
    wanted = flt.destination
    if wanted is None:
        return
    if configured is None:
        configured = await configured_destinations(store, settings)
    known = sorted(d for d in configured if visible is None or d in visible)
    if wanted in known:
        return
    if visible is None and await store.destination_on_record(wanted):
        return
    raise BadSearch(
        "destination", f"{NO_DESTINATION}; configured: {', '.join(known) or 'none'}"
    ).coded("audit.destination", known=tuple(known))


async def checked_audit_filter(
    engine: Engine, scope: ClusterScope, **terms: str | None
) -> AuditFilter:
    """``build_audit_filter`` and then ``check_audit_destination`` within ``scope``'s
    clusters, against the engine's catalog: what the API and the console search with. They
    take a ``message`` id whole (``search.whole_id``), as a message search takes an event id;
    the CLI looks up a start of one (``--message``) before it filters."""
    flt = build_audit_filter(engine.settings, **terms)
    flt = dataclasses.replace(flt, message=whole_id("message", flt.message, "message"))
    await check_audit_destination(
        engine.store,
        engine.settings,
        flt,
        engine.catalog.destinations,
        scope.destination_ids(engine.catalog),
    )
    return flt


def audit_csv(entries: Iterable[AuditRecord], zone: tzinfo | None = None) -> str:
    """Entries as CSV (details as compact JSON: the text stored, which the hash covers); cells
    that a spreadsheet would run as a formula get a leading apostrophe (``csv_cells.csv_text``,
    the rule of every export)."""

    return csv_text(CSV_COLUMNS, audit_cells(entries, zone))


def audit_cells(
    entries: Iterable[AuditRecord], zone: tzinfo | None = None
) -> Iterator[list[object]]:
    """The cells of ``audit_csv``'s rows: one rule for the whole file and for an export
    written page by page (``integrator.export_stream``)."""
    for entry in entries:
        view = audit_entry_view(entry, zone)
        # ``codec.dump_json``'s form, in which every entry's details are stored: parsed and
        # written again they are the same text, the one the entry's hash covers.
        view["details"] = dump_json(view["details"])
        origin = view.pop("origin")
        view["origin"], view["origin_name"] = origin["kind"], origin["name"] or ""
        yield [view[column] for column in CSV_COLUMNS]


async def export_audit(
    store: Store,
    flt: AuditFilter,
    *,
    actor: str,
    terms: dict[str, str | None],
    limit: int,
    zone: tzinfo,
    offset: int = 0,
    source: str | None = None,
    after: int | None = None,
) -> ExportPage:
    """The entries ``flt`` finds as CSV, times in ``zone``; the export itself is audited
    (``audit.export``, with its terms and how many entries it held), whichever front door asked
    for it.

    One page: ``offset`` entries on, or those older than the entry
    ``after`` (checked by ``audit_reads.checked_after``), both recorded."""
    entries = await store.list_audit(flt, limit=limit, offset=offset, before_id=after)
    await record_export(
        store,
        actor,
        "audit",
        terms,
        bsn_hash=None,
        limit=limit,
        rows=len(entries),
        offset=offset,
        source=source,
        after=after,
    )
    return ExportPage(audit_csv(entries, zone), tuple(entry.id for entry in entries))


def check_view(check: AuditCheck) -> dict[str, Any]:
    return {
        "intact": check.intact,
        "checked": check.checked,
        "last_id": check.last_id,
        "last_hash": check.last_hash,
        "broken_id": check.broken_id,
        "problem": check.problem,
        # Entries up to this one were pruned (retention); the chain was checked from there.
        "starts_after": None if check.starts_after is None else check.starts_after.to_json(),
    }
