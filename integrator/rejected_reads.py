"""Rejected input: what arrived, failed validation and was kept, for support to look at.

Intake keeps every refused body byte for byte with why (``Store.reject_event``), and its
answer names the id (``kept as rejected event …``); over RabbitMQ that id is only in the
engine's log. A listing shows when, from where and from whom, how large, its ZD number and
which rules it broke (field paths and rules, never values), and holds no patient data. One
body in full may (it is what a GP's system sent), so reading it is recorded as a view of
patient data (``patient_data.view``, view ``rejected``) before it is returned, as a message or
event in full is. The view has no BSN hash: the body failed validation, so its BSN may be
missing or malformed.

A listing is found by what intake could read from each body (``integrator.rejected_keys``): its
ZD number, provider and BSN (its keyed hash). A search by BSN tells whether a patient's referral
was refused, so it is patient data as a message search by BSN is: it needs ``BODY`` and is
recorded (``patient_data.view``, view ``rejected.search``, with the hash and how many it found)
before the rows are returned. ``rejected_for_zd`` lets an empty message or event search by ZD
number say that intake refused that referral, with one indexed count; ``rejected_for_bsn`` the
same for an empty message search by BSN.

Who may: rejected input never reached a destination, so it lies in no cluster, and every
function here needs its permission for all clusters: ``messages.read`` for the listing and for
one piece's broken rules (``LISTING``), ``patient_data.read`` for a body (``BODY``). The checks
are here, not in a front door, so the API (whose route table says the same), the console and
the server's CLI (trusted with every cluster) cannot disagree; a front door asks ``may_list`` /
``may_read_body`` only to decide what to offer, and says a ``NeedsEveryCluster`` its own way.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from integrator.access.permissions import Identity, Permission
from integrator.kept_searches import KeptSearch, searched_bsn
from integrator.patient_views import record_search, record_view
from integrator.search import BadSearch, build_filter, given_term
from integrator.settings import Settings
from integrator.store import NotFound, Store
from integrator.store.idprefix import AmbiguousIdPrefix, BadIdPrefix
from integrator.store.records import (
    EventSource,
    RejectedEventRecord,
    RejectedFilter,
    RejectedSummary,
)
from schemas.rules import message_for
from schemas.translate import withhold_stored_keys

LISTING: Final = Permission.MESSAGES_READ
"""For all clusters: the listing, and one piece's broken rules without its body."""
BODY: Final = Permission.PATIENT_DATA_READ
"""For all clusters: one body as it arrived."""

SOURCES: Final = tuple(s.value for s in EventSource)
"""How rejected input can have arrived, as a listing's ``source`` term names it."""
SEARCH_VIEW: Final = "rejected.search"
"""The ``view`` a search of rejected input by BSN is recorded under (``patient_data.view``)."""
LATELY: Final = "24h"
"""The period the console's dashboard counts, as a listing's ``since`` term reads it, so its
link (``/rejected?since=24h``) lists the pieces it counted."""

_ID_TEXT: Final = re.compile(r"[0-9a-fA-F-]{1,36}")
"""What a rejected input's id (a UUID) or a start of it can look like, before the store looks."""


class NeedsEveryCluster(PermissionError):
    """The identity lacks ``permission`` in at least one cluster; rejected input lies in none."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        super().__init__(
            f"this needs the {permission.value} permission for all clusters "
            "(rejected input lies in no cluster)"
        )


GONE_AFTER_RETENTION: Final = (
    "rejected input is deleted after its retention period (INTEGRATOR_RETAIN_REJECTED_DAYS)"
)
"""Said with every answer that finds no rejected input by an id, by the CLI, the API and the
console alike: unlike a message, whose row outlives its payload, rejected input is deleted
whole, so an id support was given weeks ago names nothing, and the bare 'no rejected input'
read as a wrong id."""


class RejectedNotFound(LookupError):
    """No rejected input has that id: never, or deleted after its retention period."""

    def __init__(self) -> None:
        super().__init__(f"no rejected input with that id; {GONE_AFTER_RETENTION}")


class BadRejectedId(ValueError):
    """What was given cannot name one piece of rejected input. The text never repeats it (an id
    field is where a BSN gets pasted by mistake)."""


def may_list(identity: Identity) -> bool:
    """Whether ``identity`` may list rejected input and read which rules each broke."""
    return identity.may(LISTING)


def may_read_body(identity: Identity) -> bool:
    """Whether ``identity`` may read a body of rejected input (audited when it does)."""
    return identity.may(BODY)


def _require(identity: Identity, permission: Permission) -> None:
    if not identity.may(permission):  # cluster None: for all clusters
        raise NeedsEveryCluster(permission)


def rejected_summary(record: RejectedSummary | RejectedEventRecord) -> dict[str, Any]:
    """What a listing shows of rejected input: no byte of the body itself. ``caller`` is who
    sent it as the front door established it (``Intake.keep_rejected``), so support knows
    whom to call; None for input kept before the store recorded it (revision 0020)."""
    size = record.size if isinstance(record, RejectedSummary) else len(record.raw)
    kept = _reason(record)
    return {
        "id": record.id,
        "received_at": record.received_at,
        "source": record.source,
        "caller": record.caller,
        "zd_number": record.zd_number,
        "provider_id": record.provider_id,
        "bytes": size,
        "problems": [f"{r['path']}: {r.get('rule', '?')}" for r in kept],
        "reason": [_rule(r) for r in kept],
    }


def _rule(kept: dict[str, Any]) -> dict[str, str]:
    """One broken rule as a listing gives it: its path, its code and its message, the words one
    piece's ``reason`` has, so a script reading the listing words it without a request per row
    (``problems``, ``path: rule``, has no words). The message is the rule's sentence as intake
    kept it, which never quotes a value (``schemas.errors``); one kept without a message, the
    rule's own sentence."""
    rule = kept.get("rule", "?")
    return {"path": kept["path"], "rule": rule, "message": kept.get("message") or message_for(rule)}


def _reason(record: RejectedSummary | RejectedEventRecord) -> list[dict[str, Any]]:
    """The broken rules as kept, each path shown as intake shows one now
    (``schemas.translate.withhold_stored_keys``): input kept before keys were judged as they
    are now (``schemas.keys``) may name data sent as a key (``patient.name.van der Berg``,
    ``patient.name.jansen``), and this listing is read without ``patient_data.read``."""
    return [{**r, "path": withhold_stored_keys(r.get("path") or "$")} for r in record.reason]


def build_rejected_filter(
    settings: Settings,
    *,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    source: str | None = None,
    zd_number: str | None = None,
    provider: str | None = None,
    bsn: str | None = None,
) -> RejectedFilter:
    """The store filter for a listing's terms, read as every other listing reads them.

    A period is what messages, events and the audit trail take (``search.build_filter``: a
    date, a date-time as listings show it, or back from now like ``2h``; ``until`` given as a
    date includes that day), so an operator types the same thing everywhere. A ``source`` is
    one of ``SOURCES`` (case aside): anything else is refused naming them, as an empty
    listing would read as "that system sent nothing broken". A ZD number and a BSN are read
    and refused as in a message search (``ZD`` and nine digits, lower case too; a BSN that
    passes the eleven-test, hashed here); a provider is an id as events list it. Refusals are
    ``BadSearch``, naming the term and the rule, never what was typed.
    """
    given = build_filter(settings, since=since, until=until, zd_number=zd_number, bsn=bsn)
    source, provider = given_term("source", source), given_term("provider", provider)
    wanted = source.strip().lower() if source is not None else None
    if wanted is not None and wanted not in SOURCES:
        raise BadSearch("source", f"not a source of input; one of {', '.join(SOURCES)}").coded(
            "rejected.source", sources=SOURCES
        )
    return RejectedFilter(
        since=given.since,
        until=given.until,
        source=wanted,
        zd_number=given.zd_number,
        provider_id=provider.strip() if provider is not None else None,
        bsn_hash=given.bsn_hash,
    )


@dataclass(frozen=True, slots=True)
class RejectedListing:
    """One page of a listing, and how many pieces its terms take in all (``total``), so a
    listing cut at its limit says how much it left out."""

    rows: list[dict[str, Any]]
    total: int


async def list_rejected(
    store: Store, identity: Identity, *, limit: int, flt: RejectedFilter | None = None
) -> list[dict[str, Any]]:
    """The newest rejected input first, as ``rejected_summary`` shows it."""
    _require(identity, LISTING)
    return [rejected_summary(r) for r in await store.list_rejected(flt, limit=limit)]


async def count_rejected(
    store: Store, identity: Identity, flt: RejectedFilter | None = None
) -> int:
    """How many pieces of rejected input ``flt`` takes (one ``COUNT``, no body read)."""
    _require(identity, LISTING)
    return await store.count_rejected(flt)


async def find_rejected(
    store: Store,
    settings: Settings,
    identity: Identity,
    *,
    limit: int,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    source: str | None = None,
    zd_number: str | None = None,
    provider: str | None = None,
    bsn: str | None = None,
    address: str | None = None,
) -> RejectedListing:
    """What every front door lists: the newest ``limit`` pieces its terms take, and how many
    they take in all. The permission is checked before the terms, so who may not list learns
    nothing from a refused term; a page that is not full is the total, and costs no count.

    A search by ``bsn`` needs ``BODY`` (it tells whether that patient's referral was refused)
    and is recorded as ``identity``'s view from ``address`` (``rejected.search``, with the
    BSN's keyed hash and how many it found: the rows shown, as every search by BSN records it,
    not ``total``, which may count more) before the rows are returned."""
    _require(identity, LISTING)
    if bsn is not None:
        _require(identity, BODY)
    flt = build_rejected_filter(
        settings,
        since=since,
        until=until,
        source=source,
        zd_number=zd_number,
        provider=provider,
        bsn=bsn,
    )
    rows = await list_rejected(store, identity, limit=limit, flt=flt)
    total = len(rows) if len(rows) < limit else await count_rejected(store, identity, flt)
    await record_search(
        store, identity, SEARCH_VIEW, bsn_hash=flt.bsn_hash, found=len(rows), source=address
    )
    return RejectedListing(rows=rows, total=total)


async def page_kept_rejected(
    store: Store, settings: Settings, identity: Identity, search: KeptSearch, *, limit: int
) -> RejectedListing:
    """The listing of a search by BSN made with ``find_rejected`` and kept
    (``kept_searches``): its permissions asked again (they may have been taken away since),
    its view recorded once, when it was made."""
    _require(identity, LISTING)
    _require(identity, BODY)
    flt = build_rejected_filter(settings, **{k: v or None for k, v in search.terms.items()})
    flt = dataclasses.replace(flt, bsn_hash=searched_bsn(search))
    rows = await list_rejected(store, identity, limit=limit, flt=flt)
    total = len(rows) if len(rows) < limit else await count_rejected(store, identity, flt)
    return RejectedListing(rows=rows, total=total)


async def rejected_for_zd(store: Store, identity: Identity, zd_number: str) -> int | None:
    """How much rejected input has ``zd_number`` (as a search has normalised it), for an empty
    message or event search by that ZD number to say where the referral went; one count on the
    ``zd_number`` index. None for who may not list rejected input (``may_list``): they are not
    told of it."""
    if not may_list(identity):
        return None
    return await count_rejected(store, identity, RejectedFilter(zd_number=zd_number))


async def rejected_for_bsn(store: Store, identity: Identity, bsn_hash: str) -> int | None:
    """How much rejected input has the BSN whose keyed hash is ``bsn_hash``, for an empty
    message search by that BSN to say that intake refused the patient's referral; one count on
    the ``bsn_hash`` index. None for who may not search rejected input by BSN (``may_list`` and
    ``may_read_body``, as ``find_rejected`` asks): they are not told of it. Recorded as part of
    the search it belongs to, not again here."""
    if not (may_list(identity) and may_read_body(identity)):
        return None
    return await count_rejected(store, identity, RejectedFilter(bsn_hash=bsn_hash))


async def rejected_lately(store: Store, settings: Settings, identity: Identity) -> int | None:
    """How much rejected input arrived in the last 24 hours (``LATELY``), for the dashboard;
    None for who may not list it (``may_list``), to whom the figure is not shown at all."""
    if not may_list(identity):
        return None
    return await count_rejected(store, identity, build_rejected_filter(settings, since=LATELY))


async def locate_rejected(store: Store, identity: Identity, given: str) -> str:
    """The full id of the rejected input ``given`` names: its id, or a start of it (4 or more
    hex digits, as listings shorten it). ``BadRejectedId`` for text that cannot be one (not hex,
    too long, too short) or a start that several ids share; ``RejectedNotFound`` for none."""
    _require(identity, LISTING)
    if not _ID_TEXT.fullmatch(given.strip()):
        raise BadRejectedId(
            "a rejected input's id is a UUID (hex digits and dashes), or its first 4 or more "
            "hex digits"
        )
    try:
        return await store.resolve_rejected_id(given)
    except BadIdPrefix:
        raise BadRejectedId("give at least 4 hex digits of a rejected input's id") from None
    except AmbiguousIdPrefix:
        raise BadRejectedId(
            "several rejected inputs have an id that starts so: give more of it"
        ) from None
    except NotFound:
        raise RejectedNotFound() from None


def _described(record: RejectedEventRecord) -> dict[str, Any]:
    # Each rule's message is the rule's own sentence (schemas.errors): never a value.
    return {**rejected_summary(record), "reason": _reason(record)}


async def describe_rejected(
    store: Store, identity: Identity, rejected_id: str
) -> dict[str, Any] | None:
    """One piece of rejected input without its body: the summary and every broken rule with its
    field, rule and message (which never quote a value), so not a view of patient data and not
    audited. None for an unknown id."""
    _require(identity, LISTING)
    record = await store.get_rejected(rejected_id)
    return None if record is None else _described(record)


async def read_rejected(
    store: Store, identity: Identity, rejected_id: str, *, source: str | None = None
) -> dict[str, Any] | None:
    """One piece of rejected input in full (its body as text, and every broken rule with its
    message), recorded as ``identity``'s view before it is returned; None for an unknown id,
    and nothing recorded when it is unknown or the identity may not read it."""
    _require(identity, BODY)
    record = await store.get_rejected(rejected_id)
    if record is None:
        return None
    await record_view(
        store, identity, record.id, view="rejected", bsn_hash=record.bsn_hash, source=source
    )
    return {**_described(record), "body": record.raw.decode("utf-8", errors="replace")}
