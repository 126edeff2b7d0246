"""The audit trail counted per actor, in the store (``Store.count_audit_by_actor``).

A review of the access log (NEN 7513: who looked at patient data, how often, how many distinct
patients) reads a period's entries of a few actions; a busy engine writes tens of thousands
of them a month. So the store groups and counts them, in one statement, and hands back one row
an actor and one for all of them together: the entries are never read into Python, and the
two parts, read in one statement, count the same entries.

A patient is told by the keyed hash of their BSN as the entry holds it (``bsn_hash`` in its
details, a view's; under ``terms`` for an export by BSN: ``integrator.exports``), never by the
BSN, which the trail does not hold: read out of the details' JSON text (``patient_of``). The
same reading tells, per action, the entries that name a patient from those that name none
(``ActorCounts.naming_patient``): an export made by BSN holds that patient's data, one of a
listing without a BSN term identifiers only, and a review asks who took which.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, null, select, union_all

from integrator.store.tables import audit_log

_KEY = '"bsn_hash":"'
"""Where a patient's keyed hash starts in an entry's details (``dump_json``: compact JSON)."""
HASH_LENGTH = 64
"""A keyed BSN hash: 64 lower-case hex digits (``store.keyed.bsn_hash``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ActorCounts:
    """One actor's entries of a period: how many of each action counted (``actions``, every
    one asked for, 0 where none), how many distinct patients they name, and when the first and
    the last were written. ``actor`` None: every actor together, whose ``patients`` are
    counted across them all (a patient two people looked at is one patient), not summed."""

    actor: str | None
    actions: dict[str, int]
    patients: int
    first: datetime
    last: datetime
    unexplained: int = 0
    """Of the entries counted, those that say no why (``reason`` NULL): views and exports
    nobody gave a reason for (``integrator.stated_reason``)."""
    naming_patient: dict[str, int] = dataclasses.field(default_factory=dict)
    """Of each action's entries (every one asked for, 0 where none), those that name a
    patient (``patient_of``): of an export's, those made by BSN, which hold patient data; the
    others hold none, and a count of them all would not tell the two apart."""

    @property
    def entries(self) -> int:
        return sum(self.actions.values())


def patient_of(dialect: str) -> ColumnElement[Any]:
    """The keyed BSN hash an entry names (a view's own, else an export's term), or NULL.

    Read from the details' text as ``dump_json`` writes it (compact: ``"bsn_hash":"`` and the
    hash's 64 hex digits), as the store's search by BSN matches it (``_details_have``): a
    quote inside a JSON string is escaped, so only a key can read so, and a JSON parse of
    every entry took twice as long as the whole count without it."""
    details = audit_log.c.details
    find = func.strpos if dialect == "postgresql" else func.instr
    at = find(details, _KEY)
    return case((at > 0, func.substr(details, at + len(_KEY), HASH_LENGTH)), else_=null())


def counts_statement(
    dialect: str,
    actions: Sequence[str],
    since: datetime | None,
    until: datetime | None,
) -> Any:
    """Per actor, then (actor NULL) all together: a count per action (``n0``…) and of those
    naming a patient (``p0``…), the distinct patients, the first and last time, how many say
    no why; of the entries of ``actions`` from ``since`` (inclusive) to ``until``
    (exclusive). Bounds are aware datetimes (the caller checks)."""
    terms: list[ColumnElement[bool]] = [audit_log.c.action.in_(list(actions))]
    if since is not None:
        terms.append(audit_log.c.at >= since)
    if until is not None:
        terms.append(audit_log.c.at < until)
    # First per actor and patient (a hash aggregate of narrow rows, the details left behind),
    # then per actor and all together from that: one patient is one row of an actor's.
    patient = patient_of(dialect).label("patient")
    pairs = (
        select(
            audit_log.c.actor,
            patient,
            *(
                func.sum(case((audit_log.c.action == action, 1), else_=0)).label(f"n{number}")
                for number, action in enumerate(actions)
            ),
            func.min(audit_log.c.at).label("first"),
            func.max(audit_log.c.at).label("last"),
            func.sum(case((audit_log.c.reason.is_(None), 1), else_=0)).label("unexplained"),
        )
        .where(*terms)
        .group_by(audit_log.c.actor, patient)
        .cte("pairs")
    )

    def measures(patients: Any) -> list[Any]:
        return [
            *(func.sum(pairs.c[f"n{n}"]).label(f"n{n}") for n in range(len(actions))),
            # A pair names its patient or (NULL) none: the test is read once per entry, in
            # ``pairs``, and here only its groups are added up.
            *(
                func.sum(case((pairs.c.patient.is_not(None), pairs.c[f"n{n}"]), else_=0)).label(
                    f"p{n}"
                )
                for n in range(len(actions))
            ),
            patients.label("patients"),
            func.min(pairs.c.first).label("first"),
            func.max(pairs.c.last).label("last"),
            func.sum(pairs.c.unexplained).label("unexplained"),
        ]

    per_actor = select(pairs.c.actor, *measures(func.count(pairs.c.patient))).group_by(
        pairs.c.actor
    )
    together = select(
        cast(null(), String(128)).label("actor"),
        *measures(func.count(func.distinct(pairs.c.patient))),
    )
    return union_all(per_actor, together)


def read_counts(
    rows: Sequence[Any], actions: Sequence[str]
) -> tuple[list[ActorCounts], ActorCounts | None]:
    """The statement's rows as each actor's counts and all of theirs together (None: the
    period holds no entry of these actions)."""
    actors: list[ActorCounts] = []
    together: ActorCounts | None = None
    for row in rows:
        if row.first is None:  # the aggregate of no entries at all
            continue
        counts = ActorCounts(
            actor=row.actor,
            actions={action: int(row[1 + n] or 0) for n, action in enumerate(actions)},
            patients=int(row.patients),
            first=row.first,
            last=row.last,
            unexplained=int(row.unexplained or 0),
            naming_patient={
                action: int(row._mapping[f"p{n}"] or 0) for n, action in enumerate(actions)
            },
        )
        if counts.actor is None:
            together = counts
        else:
            actors.append(counts)
    return actors, together
