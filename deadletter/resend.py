"""Resending messages ("herzenden berichten"): one, a filtered batch, or dead letters.

A resend is a NEW message row linked to the message it resends (``resend_of``), so the
original's status, attempts and ACKs stay exactly as they were, and the resend gets its own.
It is stored as ``queued`` and goes through the normal delivery path (queue, retries, ACK
checks). The new row, its ``resends`` row (who, why, how) and its audit entry are written in one
transaction (``Store.add_resends``).

Modes:

- ``original``: the same bytes, so the same MSH-10: a receiver that did get the first copy can
  recognise the duplicate. Works for a version that has been retired since (nothing is mapped).
  It keeps all of the original's warnings: they are about those very bytes.
- ``remap``: the stored event is mapped again with the destination's *current* message version
  and a new MSH-10. A retired version goes to its successor (a resend is a deliberate act, so it
  is never held, even without ``auto_upgrade``). It keeps the original's warnings about the
  event (its ZD number's history); the mapping's notes are the new mapping's.

``to`` sends to another destination. The original bytes carry the first destination's MSH-5/6,
so another destination always gets a remap; asking for ``original`` there is refused.

Which messages are resent is decided here and nowhere else, for every front door and for dry
runs alike (a dry run runs this very code and only leaves out the writes):

- A **named** message (by id, or found by an identifier of one referral: ZD number, event id,
  MSH-10) is always resent: the person asked for exactly this one, typically because a GP
  called, and an earlier resend does not change that.
- A message found by a **broad** filter (destination, status, version, period, type, BSN) is
  skipped when a later resend of it to the same target destination is live (see
  ``deadletter.family``), so the same batch run twice does not send twice. A resend to
  another destination does not count: with ``--to`` the target is that other one.
- Every message is skipped, with the reason, when it cannot be resent at all: still in delivery
  (queued, sending, retrying), held (never sent, no bytes), no stored bytes, its content pruned
  (retention), its destination not configured, a remap that cannot be made.

Whatever is skipped is reported per message with why; callers exit non-zero for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol, overload

from deadletter.family import Families
from deadletter.letters import DeadLetterError, NotADeadLetter, RefusedValue, checked_reason
from destinations.ids import is_destination_id
from integrator.ids import is_message_id, new_message_id
from integrator.refusal import Note
from integrator.resend_skips import destination_not_configured
from integrator.store import (
    MessageFilter,
    MessageRecord,
    NewMessage,
    NewResend,
    ResendGuard,
    ResendMode,
    ResendRecheck,
    Store,
)
from integrator.store.records import ResendLink

RESENDABLE_STATUSES = ("delivered", "dead", "cancelled")
DISCARDED = Note("discarded by support; not resent (name it to resend it)", "resend.skip.discarded")
"""A broad filter's note for a discarded message: only a person naming it sends it again."""
CHUNK = 200
"""Resends per transaction: large enough for speed, small enough for a live progress bar."""
MAX_BATCH = 100_000
NAMING_TERMS = ("zd_number", "event_id", "control_id")
"""Filter terms that name one referral or message: what they find counts as named."""


class ResendRefused(DeadLetterError):
    """The request cannot be done as asked (exit code 2, HTTP 422)."""


class TermsRefused(ResendRefused):
    """A refusal about the request's terms together (which select, which narrow), not one value.

    ``rule`` writes each term as ``{term}``, the API's name of it (``message_ids``, the
    filter's ``zd_number``, ``since``...); the text is the rule with those names, which is what
    the API answers. A front door with other names for them says ``terms_rule`` with its own
    (the command line: ``integrator.cli.common.terms_rule``: ``--zd``, ``--since``), as
    ``search.BadSearch`` keeps its field apart from its rule; the console says these by code.
    A term the rule does not write as ``{term}`` is a word both front doors use.
    """

    def __init__(self, rule: str) -> None:
        self.rule = rule
        super().__init__(self.terms_rule(str))

    def terms_rule(self, name: Callable[[str], str]) -> str:
        """The rule with each term named by ``name`` (given the API's name)."""
        return self.rule.format_map(_Named(name))


class _Named(dict[str, str]):
    """``str.format_map``'s names: each term as ``name`` says it."""

    def __init__(self, name: Callable[[str], str]) -> None:
        super().__init__()
        self.name = name

    def __missing__(self, term: str) -> str:
        return self.name(term)


class NoSelector(TermsRefused):
    def __init__(self) -> None:
        super().__init__(
            "say which messages: {message_ids}, or at least one of {zd_number}, {control_id}, "
            "{event_id}, {destination}, {status}, {version}, {event_type}, {since}, {until}"
        )
        self.coded("resend.no_selector")


class NoDeadLetterSelector(TermsRefused):
    """Only the command line and the console select dead letters; the API resends by id."""

    def __init__(self) -> None:
        super().__init__(
            "say which dead letters: {message_ids}, {every}, {destination}, {since} or {until}"
        )
        self.coded("resend.no_dead_letter_selector")


class UnknownMessageId(RefusedValue, ResendRefused):
    """An id that names no message (or one outside the caller's clusters: the same answer).

    The text names the field and the rule, not the id: what was sent may be a BSN typed into
    the wrong field. ``message_id`` keeps it for the command line, which names it when it is a
    well-formed id (``None``: not known, as when the engine's API refused it)."""

    def __init__(self, message_id: str | None = None) -> None:
        super().__init__("message_ids", "no message has one of these ids", message_id)
        self.message_id = message_id
        self.coded("resend.message_unknown")

    def named_rule(self, option: str) -> str:
        if self.message_id is not None and is_message_id(self.message_id):
            return f"no message with id {self.message_id}"
        return self.rule


class UnknownMode(RefusedValue, ResendRefused):
    def __init__(self, mode: str) -> None:
        super().__init__("mode", "must be original or remap", mode)
        self.coded("resend.mode_unknown")


class TargetNotConfigured(RefusedValue, ResendRefused):
    """A ``to`` that names no configured destination (or one outside the caller's clusters:
    the same answer). The text does not repeat it; the command line names it when it is a
    well-formed destination id (``destination_id``)."""

    RULE = "no configured destination has this id"

    def __init__(self, destination_id: str) -> None:
        super().__init__("to", self.RULE, destination_id)
        self.destination_id = destination_id
        # The destinations there are, where the reader may know them all (the server's command
        # line, not a token held to clusters): a typo is then mended from the list, as
        # ``--destination``'s refusal lists them. Empty: not said.
        self.known: tuple[str, ...] = ()
        self.coded("resend.destination_unknown")

    def named_rule(self, option: str) -> str:
        said = self.rule
        if shown_destination(self.destination_id):
            said = f"destination {self.destination_id} is not configured"
        return f"{said}; configured: {', '.join(self.known)}" if self.known else said


class NeedsRemap(RefusedValue, ResendRefused):
    """``original`` asked for a resend to another destination: the stored bytes carry the
    first destination's MSH-5/6. The API says the rule and its field (``mode``); the command
    line names the message, its destination and the target (if a well-formed id)."""

    def __init__(self, original: MessageRecord, to: str) -> None:
        super().__init__(
            "mode",
            "the stored bytes were made for another destination (MSH-5/6); use mode remap",
            to,
        )
        self.message_id = original.id
        self.made_for = original.destination_id
        self.to = to
        self.coded("resend.elsewhere_needs_remap", id=original.id, made_for=self.made_for)

    def named_rule(self, option: str) -> str:
        target = self.to if shown_destination(self.to) else "another destination"
        return (
            f"message {self.message_id} was made for {self.made_for} (MSH-5/6); "
            f"to send it to {target} use {option} remap"
        )


def shown_destination(value: str) -> bool:
    """Whether ``value`` may be named back to who typed it as a destination id: well-formed
    (``destinations.config``) and holding a letter. Digits and dashes alone have a destination
    id's form too, but may be a BSN or a date of birth typed into the wrong option."""
    return is_destination_id(value) and any(c.isalpha() for c in value)


class TooManyMatches(TermsRefused):
    """A filter that finds more than one batch may hold: refused whole, not cut short (the
    listing is newest first, so cutting it would silently leave out the oldest). ``found``:
    how many it matches, where the caller counted them (a page says it, to narrow by)."""

    def __init__(self, limit: int, found: int | None = None, *, dead_letters: bool = False) -> None:
        if dead_letters:
            # Resent or discarded: one selection for both, where no status narrows (they are
            # dead letters all), so the rule names the terms a dead-letter selection has.
            super().__init__(
                f"the selection matches more than {limit:,} dead letters, the most one batch "
                "takes; narrow it ({since}/{until}, {destination}) and act on it in parts"
            )
        else:
            super().__init__(
                f"the selection matches more than {limit:,} messages, the most one resend "
                "takes; narrow it ({since}/{until}, {destination}, {status}) and resend in parts"
            )
        self.limit = limit
        self.found = found
        self.coded("resend.too_many_dead" if dead_letters else "resend.too_many", limit=limit)


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A dead letter a broad selection leaves out, and why (not a skip: nothing is wrong)."""

    message: MessageRecord
    note: str

    def to_json(self, seen: Collection[str] | None = None) -> dict[str, Any]:
        """``seen``: as ``ResendResult.to_json`` takes it."""
        return {"id": self.message.id, "note": note_in_sight(self.note, seen)}


@dataclass(frozen=True)
class Selection(Sequence[MessageRecord]):
    """The messages a resend is about, oldest first, and which of them were named.

    Whether a message was named decides whether an earlier resend may skip it, so it travels
    with the messages from the moment they are selected; front doors never decide it.
    """

    messages: tuple[MessageRecord, ...]
    named: frozenset[str]
    left_out: tuple[LeftOut, ...] = ()

    @classmethod
    def all_named(cls, messages: Iterable[MessageRecord]) -> Selection:
        listed = tuple(messages)
        return cls(listed, frozenset(m.id for m in listed))

    def naming(self, message_ids: Iterable[str]) -> Selection:
        """This selection with exactly these ids named, for a caller that selected already
        (the CLI through the engine's API sends the ids it found and those that were named)."""
        ids = {m.id for m in self.messages}
        return dataclasses.replace(self, named=frozenset(i for i in message_ids if i in ids))

    def is_named(self, message: MessageRecord) -> bool:
        return message.id in self.named

    @overload
    def __getitem__(self, index: int) -> MessageRecord: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[MessageRecord]: ...

    def __getitem__(self, index: int | slice) -> MessageRecord | Sequence[MessageRecord]:
        return self.messages[index]

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[MessageRecord]:
        return iter(self.messages)


class Renderer(Protocol):
    """What resending needs from the engine: its destinations and its mapping."""

    def is_configured(self, destination_id: str) -> bool: ...

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        """A new message for ``destination_id`` from the original's stored event (new id and
        MSH-10, ``resend_of`` not yet set); or why it cannot be made."""
        ...


@dataclass(frozen=True)
class ResendRequest:
    reason: str
    actor: str
    mode: str | None = None  # None: original, or remap when ``to`` is another destination
    to: str | None = None
    job_id: str | None = None
    source: str | None = None  # where the request came from (the client's address), if known

    def checked(self) -> ResendRequest:
        """The request with a trimmed reason; raises ``ResendRefused`` for what is never valid
        (a blank reason or one longer than ``MAX_REASON``, a mode that is none). The mode is
        read in any case (``Original``), as every closed set's term (``search.closed_value``)."""
        from integrator.search import closed_value

        reason = checked_reason(self.reason)
        mode = self.mode
        if self.mode is not None:
            mode = closed_value(self.mode, (m.value for m in ResendMode)) or None
            if mode is None:
                raise UnknownMode(self.mode)
        actor = (self.actor or "").strip()[:128] or "unknown"
        return dataclasses.replace(self, reason=reason, actor=actor, mode=mode)

    def mode_for(self, original: MessageRecord) -> str:
        if self.to is not None and self.to != original.destination_id:
            if self.mode == ResendMode.ORIGINAL:
                raise NeedsRemap(original, self.to)
            return ResendMode.REMAP.value
        return self.mode or ResendMode.ORIGINAL.value


@dataclass(frozen=True)
class ResendResult:
    """What happened to one selected message: resent (a new message) or skipped (a note).

    In a dry run ``message`` is the message that *would* be stored: the same decision, nothing
    written, so its id is not reported (the real run makes its own).
    """

    original: MessageRecord
    mode: str
    destination_id: str
    message: NewMessage | None = None
    note: str | None = None
    dry_run: bool = False

    @property
    def goes_out(self) -> bool:
        """Resent, or, in a dry run, would be."""
        return self.message is not None

    @property
    def resent(self) -> bool:
        return self.message is not None and not self.dry_run

    @property
    def outcome(self) -> str:
        if self.dry_run:
            return "would resend" if self.goes_out else "would skip"
        return "resent" if self.goes_out else "skipped"

    def to_json(self, seen: Collection[str] | None = None) -> dict[str, Any]:
        """``seen``: the destinations the reader may see (None: all); a note naming a resend to
        one outside them says so without naming it (``note_in_sight``)."""
        m = self.message
        same_bytes = self.mode == ResendMode.ORIGINAL
        return {
            "original_id": self.original.id,
            "zd_number": self.original.zd_number,
            "outcome": self.outcome,
            "resent": self.resent,
            "message_id": m.id if m is not None and not self.dry_run else None,
            "destination": self.destination_id,
            "mode": self.mode,
            "version": m.version if m is not None else self.original.version,
            # A dry run knows the MSH-10 only when the same bytes go out again.
            "control_id": m.control_id
            if m is not None and (same_bytes or not self.dry_run)
            else None,
            "note": note_in_sight(self.note, seen),
        }


def note_in_sight(note: str | None, seen: Collection[str] | None) -> str | None:
    """``note`` for a reader who may see ``seen`` (None: all): one that names a resend because
    of which a message was skipped or left out names that resend and its destination only when
    the reader may see it (else they are as unknown: a message of another cluster)."""
    if not isinstance(note, Note) or seen is None:
        return note
    if note.code == "resend.skip.resent_elsewhere" and note.values.get("elsewhere") not in seen:
        destination = note.values.get("destination")
        return Note(
            f"already resent to a destination outside your clusters, so not to {destination} "
            "as well; name it (its id or ZD number) to send it there too",
            "resend.skip.resent_outside",
            destination=destination,
        )
    if note.code == "resend.left_out.resolved" and note.values.get("at") not in seen:
        return Note(
            "already resolved: a resend of it to a destination outside your clusters was "
            "delivered; not resent again",
            "resend.left_out.resolved_outside",
        )
    return note


def names_messages(flt: MessageFilter) -> bool:
    """Whether what this filter finds counts as named: it holds an identifier of one referral
    or message, so the person asked for exactly what it finds."""
    return any(getattr(flt, term) is not None for term in NAMING_TERMS)


async def select_for_resend(
    store: Store,
    *,
    message_ids: Sequence[str] = (),
    flt: MessageFilter | None = None,
    limit: int = MAX_BATCH,
) -> Selection:
    """The messages a resend is about, oldest first, with the named ones marked.

    Ids are taken as given (an unknown one refuses the whole request) and are named. A filter
    selects originals only: resending "everything for ZD…" must not also resend earlier
    resends. What a filter finds is named when the filter holds an identifier
    (``NAMING_TERMS``); otherwise it was found by a broad filter.
    """
    if not message_ids and (flt is None or not flt.selects):
        raise NoSelector()
    selected = await _named(store, message_ids)
    named = set(selected)
    if flt is not None and flt.selects:
        originals = dataclasses.replace(flt, originals_only=True)
        found = await store.list_messages(originals, limit=limit + 1, payloads=False)
        if len(found) > limit:
            raise TooManyMatches(limit, found=await store.count_messages(originals))
        naming = names_messages(flt)
        for message in found:
            selected.setdefault(message.id, message)
            if naming:
                named.add(message.id)
    return Selection(tuple(sorted(selected.values(), key=lambda m: m.seq)), frozenset(named))


async def _named(
    store: Store,
    message_ids: Sequence[str],
    in_sight: Callable[[MessageRecord], None] | None = None,
) -> dict[str, MessageRecord]:
    """The named messages, without their bytes (``resend`` reads a chunk's when it needs
    them); the first id, in the order given, that names none refuses the whole request.
    ``in_sight``: the caller's check of each, before anything else is said of it (raising)."""
    found = {m.id: m for m in await store.get_messages(message_ids, payloads=False)}
    for message_id in message_ids:
        if message_id not in found:
            raise UnknownMessageId(message_id)
        if in_sight is not None:
            in_sight(found[message_id])
    return {message_id: found[message_id] for message_id in message_ids}


async def select_dead_letters(
    store: Store,
    *,
    message_ids: Sequence[str] = (),
    every: bool = False,
    destination_id: str | None = None,
    picked: Sequence[str] = (),
    died_since: datetime | None = None,
    died_until: datetime | None = None,
    destination_ids: frozenset[str] | None = None,
    in_sight: Callable[[MessageRecord], None] | None = None,
    limit: int = MAX_BATCH,
    keep_discarded: bool = False,
) -> Selection:
    """Dead letters to resend: named ones by id, or the unresolved ones (of a destination).

    An id that is not a dead letter refuses the whole request. ``every`` and ``destination_id``
    select what ``deadletter list`` shows: the unresolved dead letters, as broad selections
    (one with a live resend to its destination is skipped). A resolved one is resent only by
    its id. When several unresolved dead letters belong to one family (a resend that died
    too), only the latest is selected: it stands for the others, and resending all of them
    would send the same message more than once. The others are listed in ``left_out``.

    ``picked`` are ids ticked in such a listing (the console's dead-letter page): a broad
    selection too, narrowed to those ids, not named. The page may be stale (reloaded, opened
    in a second tab, reached again with Back), so one resolved or discarded since it was listed
    is left out saying so, and one whose resend to its destination is on its way or delivered
    is skipped, exactly as ``--all`` would; otherwise every reload would send them again.

    ``died_since`` and ``died_until`` (UTC; inclusive, exclusive) are a period on when each
    died, as ``list_dead_letters`` reads it: a broad selection of the unresolved ones that died
    in it (of ``destination_id``, if given), or, with ``picked``, those of the ticked ones
    (the page showed a period; one that died again since, outside it, is left out saying so).
    ``destination_ids``: a broad selection only among the dead letters of these destinations
    (the clusters of the person asking); None: of all. ``in_sight`` checks each named one
    (raising) before it is judged: whether one in another cluster is dead is not said.
    In a broad selection by period, a dead letter whose later dead resend died outside the
    period is left out too, naming it: that one stands for it, and resending both would send
    the same message twice. (Ticked ones are judged among the ticked, with or without a
    period, as before.)

    ``keep_discarded``: a named one discarded already is kept (a batch discard's selection),
    for the discard to say who discarded it and when, as a single one does; refused, the whole
    batch stopped at it and the other named ones stayed open.
    """
    period = Period(died_since, died_until)
    broad = every or destination_id is not None or period.given
    if not message_ids and not broad and not picked:
        raise NoDeadLetterSelector()
    if picked:
        if message_ids or every or destination_id is not None:
            raise ResendRefused("picked dead letters are a selection of their own")
        return await _picked_dead_letters(store, picked, period)
    selected = await _named(store, message_ids, in_sight)
    for message in selected.values():
        if message.status != "dead" and not (keep_discarded and message.status == "cancelled"):
            raise NotADeadLetter(message.id, message.status)
    named = frozenset(selected)
    left_out: list[LeftOut] = []
    if broad:
        dead = await store.list_messages(
            MessageFilter(
                status="dead",
                destination_id=destination_id,
                destination_ids=destination_ids,
                changed_since=died_since,
                changed_until=died_until,
                unresolved_only=True,
            ),
            limit=limit + 1,
            payloads=False,  # read a chunk at a time by ``resend``
        )
        if len(dead) > limit:
            raise TooManyMatches(limit, dead_letters=True)
        families = await Families.load(store, [m.id for m in dead])
        unresolved = [m for m in dead if families.resolution(m.id).state != "resolved"]
        unresolved_ids = {m.id for m in unresolved}
        for message in unresolved:
            stand_in = _later_dead_letter(families.later(message.id), unresolved_ids)
            outside = None
            if stand_in is None and period.given:
                outside = _later_dead_outside(families.later(message.id), destination_id)
            if stand_in is not None and message.id not in named:
                left_out.append(LeftOut(message, _stood_in_for(stand_in)))
            elif outside is not None and message.id not in named:
                left_out.append(LeftOut(message, _stood_in_outside(outside)))
            else:
                selected.setdefault(message.id, message)
    return Selection(
        tuple(sorted(selected.values(), key=lambda m: m.seq)),
        named,
        tuple(sorted(left_out, key=lambda x: x.message.seq)),
    )


async def _picked_dead_letters(store: Store, picked: Sequence[str], period: Period) -> Selection:
    """The unresolved dead letters among ``picked``, as ``--all`` would select them; with a
    period, only those that died in it (what the page showed)."""
    listed: list[MessageRecord] = []
    left_out: list[LeftOut] = []
    for message_id in dict.fromkeys(picked):
        message = await store.get_message(message_id)
        if message is None:
            raise UnknownMessageId(message_id)
        if message.status == "cancelled":
            note = Note(
                "discarded since it was listed; nothing to resend", "resend.left_out.discarded"
            )
            left_out.append(LeftOut(message, note))
        elif message.status != "dead":
            raise NotADeadLetter(message.id, message.status)
        elif not period.holds(message.updated_at):
            note = Note(
                "died outside the period shown; not resent",
                "resend.left_out.outside_period",
            )
            left_out.append(LeftOut(message, note))
        else:
            listed.append(message)
    families = await Families.load(store, [m.id for m in listed])
    open_ids = {m.id for m in listed if families.resolution(m.id).state != "resolved"}
    selected: list[MessageRecord] = []
    for message in listed:
        resolution = families.resolution(message.id)
        stand_in = _later_dead_letter(families.later(message.id), open_ids)
        if resolution.state == "resolved":
            left_out.append(
                LeftOut(
                    message,
                    Note(
                        f"already resolved: its resend {resolution.resolved_by} was delivered; "
                        "not resent again",
                        "resend.left_out.resolved",
                        id=resolution.resolved_by,
                        at=resolution.resolved_at_destination,
                    ),
                )
            )
        elif stand_in is not None:
            left_out.append(LeftOut(message, _stood_in_for(stand_in)))
        else:
            selected.append(message)
    return Selection(
        tuple(sorted(selected, key=lambda m: m.seq)),
        frozenset(),
        tuple(sorted(left_out, key=lambda x: x.message.seq)),
    )


def _later_dead_letter(later: list[ResendLink], candidates: set[str]) -> str | None:
    for member in reversed(later):
        if member.id in candidates:
            return member.id
    return None


def _later_dead_outside(later: list[ResendLink], destination_id: str | None = None) -> str | None:
    """The latest later member that is a dead letter too (of ``destination_id``, if given),
    for a selection by period that did not select it: it died outside the period. A later dead
    member of an unresolved dead letter is unresolved itself (nothing after it was delivered)."""
    for member in reversed(later):
        if member.status == "dead" and destination_id in (None, member.destination_id):
            return member.id
    return None


def _stood_in_for(stand_in: str) -> Note:
    return Note(
        f"its later resend {stand_in} is a dead letter too and is resent instead",
        "resend.left_out.later_dead",
        id=stand_in,
    )


def _stood_in_outside(stand_in: str) -> Note:
    return Note(
        f"its later resend {stand_in} is a dead letter too and stands for it, but died outside "
        "the period: resend that one (by its id, or with a period that holds it)",
        "resend.left_out.later_dead_outside",
        id=stand_in,
    )


@dataclass(frozen=True, slots=True)
class Period:
    """A period on when dead letters died (UTC; inclusive, exclusive), either end open."""

    since: datetime | None = None
    until: datetime | None = None

    @property
    def given(self) -> bool:
        return self.since is not None or self.until is not None

    def holds(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )


def _resent_already(live: ResendLink, destination: str) -> Note:
    """Why a broadly selected message is skipped: ``live``, a later resend of it, got or will
    get there (to ``destination``, or elsewhere)."""
    if live.destination_id == destination:
        return Note(
            f"already resent to {destination} as {live.id} ({live.status}); "
            "name it (its id or ZD number) to resend it again",
            "resend.skip.resent_already",
            destination=destination,
            id=live.id,
            status=live.status,
        )
    elsewhere = live.destination_id
    return Note(
        f"already resent to {elsewhere} as {live.id} ({live.status}), "
        f"so not to {destination} as well; name it (its id or ZD number) to send it "
        f"there too",
        "resend.skip.resent_elsewhere",
        destination=destination,
        elsewhere=elsewhere,
        id=live.id,
        status=live.status,
    )


def refusals(
    selection: Sequence[MessageRecord], request: ResendRequest, renderer: Renderer
) -> tuple[ResendRequest, list[str]]:
    """The checked request and each message's mode; raises ``ResendRefused`` for a request
    that cannot be done as asked, so that callers can refuse it before any work starts."""
    request = request.checked()
    if request.to is not None and not renderer.is_configured(request.to):
        raise TargetNotConfigured(request.to)
    return request, [request.mode_for(m) for m in selection]


async def resend(
    store: Store,
    selection: Selection | Sequence[MessageRecord],
    request: ResendRequest,
    renderer: Renderer,
    *,
    progress: Callable[[int], None] | None = None,
    committed: Callable[[Sequence[ResendResult]], Awaitable[None]] | None = None,
    dry_run: bool = False,
    stop: Callable[[], bool] | None = None,
    zone: tzinfo = UTC,
    guards: Mapping[str, ResendGuard] | None = None,
) -> list[ResendResult]:
    """Resend each selected message as the module's rules say; ``progress(done)`` per chunk.

    ``zone``: where the person reads dates (``INTEGRATOR_TIMEZONE``), for the day a note says.

    ``stop()`` is asked before each chunk but the first: true, the results so far are
    returned (fewer than the selection: each chunk done is committed and audited, and a run of
    the same selection again skips what went out as already resent).

    ``committed(chunk)`` is awaited right after each chunk's transaction, before the next one
    is planned: the engine publishes the chunk's resends there, so an engine that dies in the
    middle of a long batch leaves at most one chunk committed and not yet handed to delivery
    (that one waits for the recovery leader), not everything it did. Not called in a dry run.

    ``guards``: per original's id, asked with its resends at the commit of its resend
    (``Store.add_resends``); one that answers a note skips it with that note. The check that
    a resend confirmed on a preview is still wanted (no other made since) belongs there: made
    before, two people confirming at once each passed it and each resent.

    Refuses the whole request (``ResendRefused``) for a bad reason, mode or target; skips,
    with a note, single messages that cannot or need not be resent. A plain sequence of
    messages counts as named. ``dry_run`` decides everything exactly the same way and writes
    nothing, so it promises what the real run will do (unless the store changes meanwhile).
    """
    if not isinstance(selection, Selection):
        selection = Selection.all_named(selection)
    request, modes = refusals(selection, request, renderer)
    originals = selection.messages
    broad = [m.id for m in originals if not selection.is_named(m)]
    families = await Families.load(store, broad)
    results: list[ResendResult] = []
    done = 0
    for start in range(0, len(originals), CHUNK):
        if start and stop is not None and stop():
            break
        chunk = list(
            zip(originals[start : start + CHUNK], modes[start : start + CHUNK], strict=True)
        )
        # Listed without their bytes (a batch of thousands of referrals with a PDF each held
        # gigabytes): the chunk's are read here, for those sent as they were.
        wanted = [o.id for o, mode in chunk if mode == ResendMode.ORIGINAL and _listed_bare(o)]
        whole = {m.id: m for m in await store.get_messages(wanted)} if wanted else {}
        planned = []
        for original, mode in chunk:
            destination = request.to or original.destination_id
            live = None
            if not selection.is_named(original):
                if original.status == "cancelled":
                    # Discarded: support closed it (a GP withdrew the referral). Only a person
                    # naming it sends it again, as a dead letter discarded meanwhile is skipped.
                    planned.append(
                        ResendResult(original, mode, destination, note=DISCARDED, dry_run=dry_run)
                    )
                    continue
                live = _live_resend(families, original, destination)
            result = await _plan(
                whole.get(original.id, original),
                mode,
                destination,
                renderer,
                live,
                dry_run=dry_run,
                zone=zone,
            )
            planned.append(dataclasses.replace(result, original=original))
        if not dry_run:
            left_out = await store.add_resends(
                [
                    NewResend(
                        original=r.original,
                        message=r.message,
                        mode=r.mode,
                        actor=request.actor,
                        reason=request.reason,
                        job_id=request.job_id,
                        source=request.source,
                    )
                    for r in planned
                    if r.message is not None
                ],
                recheck=_still_to_resend(selection, planned),
                guards=guards,
            )
            planned = [
                dataclasses.replace(r, message=None, note=left_out[r.original.id])
                if r.original.id in left_out
                else r
                for r in planned
            ]
            if committed is not None:
                await committed(planned)
            # Stored and handed to delivery: what is reported needs no bytes, and a long batch
            # kept every resend's otherwise.
            planned = [
                dataclasses.replace(r, message=dataclasses.replace(r.message, payload=b""))
                if r.message is not None
                else r
                for r in planned
            ]
        results.extend(planned)
        done += len(chunk)
        if progress is not None:
            progress(done)
    return results


def _live_resend(
    families: Families, original: MessageRecord, destination: str
) -> ResendLink | None:
    """The later resend because of which a broad selection skips ``original``, if any."""
    live = families.live_resend(original.id, destination)
    if live is None and destination == original.destination_id:
        # Back to its own destination, after it was sent on to another hospital (a remap)
        # that has it or will: the same referral in two hospitals. A batch sent on with --to
        # is the person's choice of another target.
        live = families.live_resend(original.id)
    return live


def _still_to_resend(selection: Selection, planned: Sequence[ResendResult]) -> ResendRecheck | None:
    """The check at a chunk's commit (``Store.add_resends``): of the broadly selected ones
    about to go out, those another person resent or discarded since they were selected.

    The selection and the families were read when the batch started, minutes before a long
    batch's last chunk: two people running the same "resend what died last night" at once
    each sent every message, and a dead letter discarded meanwhile (a GP withdrew the
    referral) was sent after support closed it. A message a person named goes out, as always.
    """
    going = [r for r in planned if r.message is not None and not selection.is_named(r.original)]
    if not going:
        return None  # named ones only: nothing to look at again

    def check(links: Sequence[ResendLink]) -> dict[str, Note]:
        families = Families(links)
        statuses = {link.id: link.status for link in links}
        stale: dict[str, Note] = {}
        for result in going:
            original = result.original
            if statuses.get(original.id) == "cancelled" and original.status != "cancelled":
                stale[original.id] = Note(
                    "discarded since it was selected; not resent",
                    "resend.skip.discarded_since",
                )
                continue
            live = _live_resend(families, original, result.destination_id)
            if live is not None:
                stale[original.id] = _resent_already(live, result.destination_id)
        return stale

    return check


def _listed_bare(message: MessageRecord) -> bool:
    """Listed without its bytes, though it has some: not pruned, not held (held ones never
    had any), in a state a resend takes."""
    return not message.payload and message.pruned_at is None and message.status != "held"


async def _plan(
    original: MessageRecord,
    mode: str,
    destination: str,
    renderer: Renderer,
    live_resend: ResendLink | None,
    *,
    dry_run: bool,
    zone: tzinfo,
) -> ResendResult:
    def skip(note: str) -> ResendResult:
        return ResendResult(original, mode, destination, note=note, dry_run=dry_run)

    def send(message: NewMessage) -> ResendResult:
        return ResendResult(original, mode, destination, message=message, dry_run=dry_run)

    if original.status not in RESENDABLE_STATUSES:
        if original.status == "held":
            return skip(
                Note(
                    "held: it was never sent; it goes out when its destination is moved",
                    "resend.skip.held",
                )
            )
        if original.status == "retrying":
            # Waiting out its backoff: what the caller wants is its next attempt now, which
            # try-now gives (the same bytes and MSH-10), not a second message beside it.
            return skip(
                Note(
                    "still being delivered (retrying): attempted again at its time, or at once "
                    "with try-now; not resent",
                    "resend.skip.retrying",
                )
            )
        return skip(
            Note(
                f"still being delivered ({original.status}); not resent",
                "resend.skip.in_delivery",
                status=original.status,
            )
        )
    if live_resend is not None:
        return skip(_resent_already(live_resend, destination))
    if not renderer.is_configured(destination):
        return skip(destination_not_configured(destination))
    if original.pruned_at is not None:
        # Neither mode can work: the bytes are gone, and so, with the last message, the event.
        pruned = original.pruned_at.astimezone(zone).date().isoformat()
        return skip(
            Note(
                f"its content was pruned on {pruned} (retention); nothing to resend",
                "resend.skip.pruned",
                date=pruned,
            )
        )
    if mode == ResendMode.ORIGINAL:
        if not original.payload:
            return skip(
                Note("no stored bytes to resend; map it again (mode remap)", "resend.skip.no_bytes")
            )
        return send(
            NewMessage(
                id=new_message_id(),
                destination_id=destination,
                version=original.version,
                message_type=original.message_type,
                control_id=original.control_id,
                payload=original.payload,
                # The same bytes: every warning about them (its mapping's notes, its ZD
                # number's history) holds for the copy as it did for the original.
                warnings=original.warnings,
                resend_of=original.id,
            )
        )
    remapped = await renderer.remap(original, destination)
    if isinstance(remapped, str):
        return skip(remapped)
    return send(dataclasses.replace(remapped, resend_of=original.id))
