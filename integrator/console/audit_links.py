"""Links in the audit trail, where its reader may open them: the person an entry names (actor or
target, ``person:<email>``), the destination a ``destination.*`` entry is about, the message a
``message.*`` or ``patient_data.view`` entry is about.

Each by the check its page makes, so no link leads to a 403 or a 404: a person's page for who
manages that person (``AccessService.list_people`` lists exactly them), a destination's by
``links.opens_destination``, a message's for who may read messages in its cluster (its
destination's, as ``message_service.visible_message`` decides it). An entry about something gone
since (a deleted message, a person no longer listed) is shown without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from integrator.access.errors import AccessDenied, BadAccessInput
from integrator.access.permissions import Permission
from integrator.clusters import cluster_of
from integrator.console.links import opens_destination
from integrator.console.visitor import Visitor
from integrator.engine import Engine
from integrator.store import AuditRecord

P = Permission
PERSON: Final = "person:"
MESSAGE_ACTIONS: Final = ("message.", "patient_data.view")


@dataclass(frozen=True, slots=True)
class EntryLinks:
    """Where an entry's actor and target lead, or None."""

    actor: str | None = None
    target: str | None = None


async def audit_links(
    engine: Engine, visitor: Visitor, entries: Iterable[AuditRecord]
) -> dict[int, EntryLinks]:
    """Each entry's links (by its id), for the entries that have any."""
    listed = list(entries)
    people = await _people(engine, visitor, listed)
    messages = await _messages(engine, visitor, listed)
    links: dict[int, EntryLinks] = {}
    for entry in listed:
        target: str | None = None
        if entry.action.startswith("destination.") and opens_destination(
            engine.catalog, visitor, entry.target
        ):
            target = f"/destinations/{quote(entry.target, safe='')}"
        elif entry.target in messages and entry.action.startswith(MESSAGE_ACTIONS):
            target = f"/messages/{entry.target}"
        elif entry.target in people:
            target = people[entry.target]
        actor = people.get(entry.actor)
        if actor or target:
            links[entry.id] = EntryLinks(actor=actor, target=target)
    return links


async def _people(
    engine: Engine, visitor: Visitor, entries: list[AuditRecord]
) -> Mapping[str, str]:
    """``person:<email>`` → their page, for the people this reader manages."""
    named = {e.actor for e in entries} | {e.target for e in entries}
    if not visitor.may_somewhere(P.PEOPLE_MANAGE) or not any(n.startswith(PERSON) for n in named):
        return {}
    try:
        managed = await engine.access.list_people(visitor.signed_in)
    except (AccessDenied, BadAccessInput):  # may manage nobody after all: no links
        return {}
    return {
        f"{PERSON}{person.email}": f"/people/{quote(person.id, safe='')}"
        for person in managed
        if f"{PERSON}{person.email}" in named
    }


async def _messages(engine: Engine, visitor: Visitor, entries: list[AuditRecord]) -> set[str]:
    """The messages the entries are about that this reader may open."""
    ids = sorted({e.target for e in entries if e.action.startswith(MESSAGE_ACTIONS)})
    if not ids or not visitor.may_somewhere(P.MESSAGES_READ):
        return set()
    found = await engine.store.get_messages(ids, payloads=False)
    return {
        m.id
        for m in found
        if visitor.may(P.MESSAGES_READ, cluster_of(engine.catalog, m.destination_id))
    }
