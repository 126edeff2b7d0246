"""Turning support staff's search terms into a store filter, and listings into CSV.

The BSN is hashed here with the engine's search key (``Settings.bsn_hash``), so the store, its
queries and its logs only ever see the hash. Terms are normalised here, once, for the CLI and the
API alike: people type ZD numbers in lower case and BSNs with spaces or dots, as they read them
off a letter. Periods are read in the engine's time zone, and accept what every listing shows
(``presenters.shown_time``): a period ends with the whole of the last unit given, so
``--until 2026-11-27`` includes the 27th and ``--until 2026-11-27T09:15:02+01:00`` includes that
second, the one a listing shows for a message created at 09:15:02.4.

This is the one place a period is read, for every listing, export and resend by period, and
it refuses what would otherwise be answered with a misleading list: a period that starts at or
after its end (``BadPeriod``: it can hold nothing), and a local time the zone has twice (the
hour repeated when summer time ends) or not at all (the hour skipped when it starts), which
would silently be taken as one of the two, or as a time nobody's clock showed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from destinations.event_types import EVENT_TYPES
from destinations.ids import is_new_destination_id
from integrator.csv_cells import csv_text
from integrator.ids import stored_id
from integrator.period_words import period_forms
from integrator.presenters import iso_time, short_reason, shown_time
from integrator.refusal import Coded, Note
from integrator.settings import Settings
from integrator.store import PENDING_STATUSES, MessageFilter, MessageRecord, MessageStatus
from integrator.store.idprefix import could_start_id
from schemas.identifiers import is_valid_bsn, is_valid_zd_number

CSV_COLUMNS = (
    "message_id",
    "event_id",
    "zd_number",
    "event_type",
    "destination",
    "version",
    "message_type",
    "control_id",
    "status",
    "attempts",
    "created_at",
    "updated_at",
    "last_error",
    "resend_of",
    "dead_letter_state",
    "pruned_at",
)
"""No BSN and no name: the export is for reports, identifiers and delivery facts only. A dead
message's ``dead_letter_state`` (``open``, ``resending``, ``resolved``; empty for one not dead)
is what the table shows as ``dead (resolved)``: without it a report counted the dead letters
support had dealt with among those still to act on. It is the last column, so that a report
reading the columns by position reads the others where they were; ``pruned_at`` (when
retention emptied its HL7, empty while it is kept) came after it, last for the same reason,
as ``--json`` had it and the CSV did not. Times are
as ``--json`` gives them (``presenters.iso_time``): in full, with their offset, in the engine's
zone when the front door gives it, so a report agrees with the table it was exported from."""

EARLIEST_YEAR = 1900
LATEST_YEAR = 9998
"""Bounds of a period. Beyond them a moment cannot always be turned into UTC (year 1 minus an
offset is before the calendar starts; the day after 9999-12-31 does not exist), and nobody means
such a date: leaving the term out is how to search without that bound."""

_MOMENT = re.compile(
    r"""
    (?P<date>\d{4}-\d{2}-\d{2})
    (?:
        [T\ ] (?P<hour>\d{2})
        (?: :(?P<minute>\d{2}) (?: :(?P<second>\d{2}) (?: [.,](?P<fraction>\d{1,6}) )? )? )?
        (?P<offset> Z | [+-]\d{2} (?: :?\d{2} )? )?
    )?
    """,
    re.VERBOSE,
)
_MONTH_DAY = re.compile(r"(?P<month_day>\d{2}-\d{2})[T\ ](?P<time>\d{2}:\d{2})")
"""A time to the minute without its year, ``12-04 18:44``: what a listing too narrow for the
full time shows (``presenters.compact_time``), which leaves the year out only for this year's
times. So it is read as this year's, in the engine's zone: copied from a listing, it is the
moment the listing meant. Only this shape: a month-day alone (``12-04``) is no listing's, and
a year is not guessed at for anything else."""
_BACK = re.compile(r"(?P<count>\d{1,6})\s*(?P<unit>uur|[mhudw])")
_BACK_UNITS = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "u": timedelta(hours=1),  # uur: 2u (or 2 uur) is how Dutch support staff write it
    "uur": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_SPACED_OFFSET = re.compile(
    r"""
    (?P<moment> \d{4}-\d{2}-\d{2} [T\ ] \d{2}:\d{2} (?: :\d{2} (?: [.,]\d{1,6} )? )? )
    \ (?P<offset> \d{2}:\d{2} )
    """,
    re.VERBOSE,
)
"""A date-time and an offset ``HH:MM`` with a space between them: the ``+`` of
``2026-12-02T05:00:00+01:00`` put in a URL as it is, which a query string reads as a space."""

_EXAMPLES: Final = period_forms(in_url=True)
"""What the refusal of a bound that is none of the forms lists (the API's too)."""
_BSN_SEPARATORS = re.compile(r"[\s.]")


class BadSearch(Coded, ValueError):
    """A search term that cannot be used; names the term and the rule, never a patient value.

    ``field`` and ``rule`` are kept apart so that each front door can name the term its own
    way (``since`` in the API, ``--since`` in the CLI); the text is ``field: rule``.
    """

    command_line_rule: str | None = None
    """The rule as the command line says it, where that differs: a bound's forms without how
    to write an offset's ``+`` in a URL, which a command's option does not travel in."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class BadPeriod(BadSearch):
    """A period whose start is at or after its end (``--since 2h --until 3h``): it can hold
    nothing, and an empty listing would look like "nothing happened then".

    It is about two terms: ``field`` is ``until`` (where a form shows the error: the end that
    does not follow the start), and the text names both. ``terms_rule`` words it with the
    command line's names and with ``start`` and ``end``, the bounds as they resolved (``2h``
    became a moment), as listings show times in the engine's zone. The API and the console
    say the rule without them: a term may be a date pasted into the wrong field (a birth
    date), and what they send back never repeats one, not even a day later.
    """

    def __init__(
        self, start: str, end: str, *, since: str | None = None, until: str | None = None
    ) -> None:
        self.start = start
        self.end = end
        # The terms as typed, when they were (a listing's saved search passes moments): only
        # ``terms_rule`` says them, for the command line; ``str(self)`` never does.
        self.since = since
        self.until = until
        super().__init__(
            "until", "the period starts at or after it ends; give a since earlier than the until"
        )
        self.args = (f"since and until: {self.rule}",)
        self.coded("search.period")

    def terms_rule(self, since: str, until: str) -> str:
        """The rule naming the two terms as ``since`` and ``until`` (options), with the moments
        they resolved to: for the server's command line, where the one who typed them reads.

        An until typed as a date, or to the hour, minute or second, runs to the end of that
        unit (``--until 2026-12-01`` ends where 2 December starts), so its moment is not the one
        typed; side by side with a since of that next day the two moments would look equal
        and the refusal self-contradictory. Then the rule says what the until was typed as and
        that it runs to the end of that day (or hour...), and both bounds as typed and resolved.
        """
        unit = _end_unit(self.until)
        if unit is None:  # a time back from now (``3h``) or a moment: taken as it is
            return (
                f"the period starts at or after it ends ({since} is {self.start}, {until} is "
                f"{self.end}); give a {since} earlier than the {until}"
            )
        start = f"{since} {self.since} ({self.start})" if self.since else f"{since} {self.start}"
        return (
            f"the period starts at or after it ends: {until} {self.until} runs to the end of "
            f"that {unit} ({self.end}), which is not after {start}; give a {since} earlier "
            f"than the {until}"
        )


def _end_unit(typed: str | None) -> str | None:
    """The unit an until typed as ``typed`` runs to the end of (``day`` for a date), as
    ``parse_moment`` reads it; None for a time back from now, which is taken exactly."""
    if typed and _MONTH_DAY.fullmatch(typed.strip()):
        return "minute"
    match = _MOMENT.fullmatch(_plus_restored(typed.strip())) if typed else None
    if match is None:
        return None
    for group, unit in (("fraction", "fraction of a second"), ("second", "second")):
        if match[group] is not None:
            return unit
    if match["minute"] is not None:
        return "minute"
    return "hour" if match["hour"] is not None else "day"


class BadLocalTime(BadSearch):
    """A local time the zone has twice or not at all (``search.ambiguous``,
    ``search.nonexistent``); ``time`` is it, as read (``2026-10-25T02:30``).

    The refusal names it, to say what is wrong and how to write it: a front door that leaves
    out what was sent (``sent_values``) leaves this one in. It cannot be a BSN, nor a birth
    date (it has an hour, within the hour the clocks repeat or skip on two nights a year).
    """

    def __init__(self, field: str, rule: str, time: str) -> None:
        super().__init__(field, rule)
        self.time = time


def sent_values(exc: BaseException, values: Iterable[object]) -> list[object]:
    """What a front door's refusal of ``exc`` must not repeat of ``values`` (the terms sent):
    every one but the local time a ``BadLocalTime`` is about, however it was written
    (``2026-10-25 02:30:00``, ``2026-10-25T02``: to the hour at least)."""
    if not isinstance(exc, BadLocalTime):
        return list(values)
    return [v for v in values if not _writes(str(v), exc.time)]


def _writes(typed: str, time: str) -> bool:
    written = typed.strip().replace(" ", "T")
    return written.startswith(time) or (
        len(written) >= len("2026-10-25T02") and time.startswith(written)
    )


def check_period(
    since: datetime | None,
    until: datetime | None,
    settings: Settings,
    *,
    typed: tuple[str | None, str | None] = (None, None),
) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` (UTC) as given; ``BadPeriod`` when the period holds nothing.

    ``until`` is exclusive (the end of its last unit), so ``--since 2026-11-27 --until
    2026-11-26`` is refused and ``--since 2026-11-27 --until 2026-11-27`` (that day) is not.
    ``typed``: the two terms as people typed them, for the command line's refusal to say that
    an until typed as a date runs to the end of that day (``BadPeriod.terms_rule``).
    """
    if since is not None and until is not None and since >= until:
        raise BadPeriod(
            shown_time(since, settings.zone),
            shown_time(until, settings.zone),
            since=typed[0],
            until=typed[1],
        )
    return since, until


def parse_period(
    since: str | datetime | None, until: str | datetime | None, settings: Settings
) -> tuple[datetime | None, datetime | None]:
    """A period's bounds in UTC (``None``: open on that side), each read as ``parse_moment``
    reads it and then checked together (``check_period``)."""
    return check_period(
        _term(since, settings, name="since"),
        _term(until, settings, name="until"),
        settings,
        typed=(_typed(since), _typed(until)),
    )


def _typed(term: str | datetime | None) -> str | None:
    return term.strip() if isinstance(term, str) and term.strip() else None


def parse_moment(
    text: str,
    settings: Settings,
    *,
    name: str = "since",
    end: bool = False,
    now: datetime | None = None,
) -> datetime:
    """A period's bound as a UTC time. ``end``: the moment after the last unit given.

    Accepted: a date, or a date-time to the hour, minute, second or fraction, with ``T`` or a
    space, with or without an offset (``Z``, ``+01``, ``+0100``, ``+01:00``); without one it is
    local time in ``INTEGRATOR_TIMEZONE``. A local time to the minute without its year
    (``12-04 18:44``, as a narrow listing shows it: ``_MONTH_DAY``) is in ``now``'s year
    there. An offset ``HH:MM`` after a space, right after a date-time to the minute at least
    (``2026-12-02T05:00:00 01:00``), is ``+HH:MM``: the ``+`` of a URL's query that was not
    written as ``%2B`` arrives as a space. Or a time back from
    ``now`` (the moment of the search, so a saved search for ``2h`` always means the last two
    hours): minutes, hours, days or weeks, ``30m``, ``2h``, ``3d``, ``2w``, taken exactly
    (``end`` adds nothing). The text is never echoed in the error: people paste into the wrong
    option, and this one may then hold a BSN.
    """
    value = _plus_restored(text.strip())
    back = _BACK.fullmatch(value.lower())
    if back is not None:
        start = now or datetime.now(UTC)
        try:
            moment = start - int(back["count"]) * _BACK_UNITS[back["unit"]]
        except OverflowError:  # before the year 1
            moment = datetime.min.replace(tzinfo=UTC)
        return _bound(moment, settings.zone, name=name)
    value = _with_year(value, settings.zone, now)
    match = _MOMENT.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        if match["hour"] is None:
            day = date.fromisoformat(match["date"])
            moment = datetime.combine(day, time())
            unit = timedelta(days=1)
        else:
            moment = datetime.fromisoformat(value.replace(",", "."))
            unit = _last_unit(match)
    except ValueError:
        refused = BadSearch(name, f"not an ISO date or date-time; give {_EXAMPLES}")
        refused.command_line_rule = f"not an ISO date or date-time; give {period_forms()}"
        raise refused.coded("search.moment") from None
    if match["hour"] is not None and moment.tzinfo is None:
        _check_wall_time(moment, settings.zone, name=name)
    return _bound(moment, settings.zone, name=name, unit=unit if end else None)


def with_its_year(value: str, settings: Settings, now: datetime | None = None) -> str:
    """A period's bound typed as a narrow listing shows a time (``12-04 18:44``) with the
    year it was read in written out, for what keeps the text to read it again later (a saved
    search): read next January, the bare form would mean another moment. Anything else as
    typed, ``2h`` included, which is meant to move with the search."""
    return _with_year(value, settings.zone, now)


def _with_year(value: str, zone: ZoneInfo, now: datetime | None) -> str:
    """``12-04 18:44`` (``_MONTH_DAY``) as ``2026-12-04T18:44``, in ``now``'s year in ``zone``,
    the year a listing leaves out; anything else as it is."""
    short = _MONTH_DAY.fullmatch(value)
    if short is None:
        return value
    year = (now or datetime.now(UTC)).astimezone(zone).year
    return f"{year}-{short['month_day']}T{short['time']}"


def _plus_restored(value: str) -> str:
    """``value`` with the ``+`` of its offset back where a URL turned it into a space
    (``2026-12-02T05:00:00 01:00``, from ``?since=2026-12-02T05:00:00+01:00`` unencoded);
    that shape only: a space cannot stand for a ``-``, and nothing else is guessed at."""
    spaced = _SPACED_OFFSET.fullmatch(value)
    return f"{spaced['moment']}+{spaced['offset']}" if spaced else value


def _check_wall_time(moment: datetime, zone: ZoneInfo, *, name: str) -> None:
    """Refuse a local time that names no single instant in ``zone``.

    Python takes either silently: the first of a repeated one (``fold=0``) and, for one the
    clocks skip, the offset from before the change, a moment nobody's clock showed. A search
    then quietly covers an hour more or less than was meant. The remedy is the offset, which
    listings show for this very reason, or UTC. A date alone is not checked: its start is
    where the day starts, also in a zone whose clocks change at midnight.
    """
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return  # refused by ``_bound``, naming the bounds
    first = moment.replace(tzinfo=zone, fold=0)
    second = moment.replace(tzinfo=zone, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    if before is None or after is None or before == after:
        return
    spec = "minutes" if moment.second == moment.microsecond == 0 else "auto"
    wall = moment.isoformat(timespec=spec)
    utc = first.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    earlier, later = f"{wall}{_offset(before)}", f"{wall}{_offset(after)}"
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == moment:
        # It exists twice: the clocks go back (summer time ends) and the hour repeats.
        rule = (
            f"{wall} is ambiguous in {zone.key}: the clocks go back that night, so it happens "
            f"twice; give the offset ({earlier} is the first, {later} the second), or a time "
            f"in UTC ({utc} is the first)"
        )
        code = "search.ambiguous"
    else:  # the clocks go forward (summer time starts) and skip it
        rule = (
            f"{wall} does not exist in {zone.key}: the clocks go forward that night and skip "
            f"it; give a time that exists, or give the offset, e.g. {earlier}, or a time in "
            f"UTC, e.g. {utc}"
        )
        code = "search.nonexistent"
    raise BadLocalTime(name, rule, wall).coded(
        code, time=wall, zone=zone.key, earlier=earlier, later=later, utc=utc
    )


def _offset(offset: timedelta) -> str:
    """``+02:00``, as an ISO date-time ends."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _last_unit(match: re.Match[str]) -> timedelta:
    if match["fraction"] is not None:
        return timedelta(microseconds=10 ** (6 - len(match["fraction"])))
    if match["second"] is not None:
        return timedelta(seconds=1)
    if match["minute"] is not None:
        return timedelta(minutes=1)
    return timedelta(hours=1)


def _bound(
    moment: datetime, zone: ZoneInfo, *, name: str, unit: timedelta | None = None
) -> datetime:
    """``moment`` (local time when naive) plus ``unit``, in UTC; refused outside the bounds."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise BadSearch(
            name,
            f"give a year from {EARLIEST_YEAR} to {LATEST_YEAR}; "
            f"leave {name} out to search without that bound",
        ).coded("search.year", earliest=EARLIEST_YEAR, latest=LATEST_YEAR)
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone)
    if unit is not None:
        # Python adds to the wall time: a local day ends at local midnight also on the days
        # the clocks change, when it lasts 23 or 25 hours.
        moment += unit
    return moment.astimezone(UTC)


ZD_RULE = "a ZD number is ZD and 9 digits, as on the referral (lower case and spaces are accepted)"


_ZD_SPACES: Final = re.compile(r"\s")


def normalise_zd(zd_number: str) -> str:
    """ZD numbers are stored as ``ZD`` and nine digits; people also type ``zd100000001``, and
    ``ZD 100 000 001`` or ``zd 100000001`` as a letter sets it out (a BSN's spaces are ignored
    too, ``normalise_bsn``): refused, that space was named nowhere in the rule people got.

    Refused otherwise: intake refuses events without a well-formed one (the schemas' rule,
    ``schemas.identifiers.is_valid_zd_number``), so no stored message or event can match and
    an empty result would hide the typo. Not echoed: a value pasted into the wrong field may
    be a BSN.
    """
    normalised = _ZD_SPACES.sub("", zd_number).upper()
    if not is_valid_zd_number(normalised):
        raise BadSearch("zd_number", ZD_RULE).coded("search.zd_number")
    return normalised


def normalise_bsn(bsn: str) -> str:
    """The nine digits of a BSN typed as ``123 456 782`` or ``123.456.782``.

    Refused unless it passes the eleven-test: no stored event can have such a BSN (intake
    refuses them), so it is a typo, and an empty result would hide it. Never echoed.
    """
    digits = _BSN_SEPARATORS.sub("", bsn)
    if not is_valid_bsn(digits):
        raise BadSearch(
            "bsn", "a BSN is 9 digits that pass the eleven-test (spaces and dots are ignored)"
        ).coded("search.bsn")
    return digits


_DIGITS: Final = re.compile(r"(?<!\d)\d(?:[\s.]*\d){8,}")
"""A run of nine or more digits, with the spaces and dots people type in a BSN."""
_ZD_TYPED: Final = re.compile(r"[Zz][Dd]\s*(?:\d\s*){8}\d")
"""A ZD number as people type it (``ZD100000001``, ``zd 100 000 001``: ``normalise_zd``): its
nine digits are an identifier, whatever their checksum. With a space after ``ZD`` they were
taken for a BSN whenever they passed the eleven-test, about one ZD number in eleven, and the
console refused the search as a BSN typed in the wrong field."""

_CONTROL_ID_TYPED: Final = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{19}(?![0-9A-Za-z])")
"""An MSH-10 as the engine makes it (``ids.new_control_id``: 19 hex digits, read out in any
case), whole: an identifier too. Its hex holds a run of nine or more decimal digits often
enough that about one in 130 of today's passed the eleven-test (counted over 100,000), and the
console refused the search by the MSH-10 a hospital quoted as a BSN typed in the wrong field."""

MISPLACED_BSN: Final = "this looks like a BSN: search by BSN instead"

_NUMBER_WRITTEN: Final = re.compile(r"(?<!\d)\d(?:[\s.]*\d)*(?!\d)")
"""A number as written in a sentence, with the spaces and dots people type in a BSN."""

_ZD_WRITTEN: Final = re.compile(r"[Zz][Dd][\s:#-]*(?:\d[\s.]*){8}\d")
"""A ZD number as a sentence writes it, also ``ZD-100000001`` or ``ZD: 100000001``."""

_PHONE_WRITTEN: Final = re.compile(
    r"(?:\+|(?<!\d)00)\s*\d{1,3}[\s.-]*(?:\(0\)[\s.-]*)?\d(?:[\s.-]*\d)*"
)
"""A phone number with its country code (``+31-6 12345678``, ``+31 (0)6 12345678``,
``0031 6 12345678``): what follows the code is nine digits for a Dutch mobile number, which
passed the eleven-test one time in eleven and was refused as a BSN."""


_BSN_GROUPED: Final = re.compile(
    r"(?<!\d)(?<!\d[-.,])(?:\d{3}([-,])\d{3}\1\d{3}|\d{4}-\d{2}-\d{3})(?![-.,]?\d)"
)
"""Nine digits grouped as a BSN is written with dashes or commas (``999-990-019``,
``999,990,019``, ``9999-90-019``): a grouping no identifier, date or phone number support
writes down takes (a Dutch phone number has ten digits, ``06-12345678``, ``020-1234567``), so
a dash or comma is taken as a BSN's separator only in it."""


def _grouped_bsn(text: str) -> bool:
    """Whether ``text`` writes a BSN grouped with dashes or commas (``_BSN_GROUPED``)."""
    return any(
        is_valid_bsn(re.sub(r"[-,]", "", match.group())) for match in _BSN_GROUPED.finditer(text)
    )


def writes_bsn(text: str) -> bool:
    """Whether free text (a reason) writes out a BSN: nine digits that pass the eleven-test,
    as one number (``999990019``, ``999 990 019``, ``999.990.019``, ``999-990-019``) or as one
    word of a longer run of numbers. Stricter than ``holds_bsn``, which looks at every nine
    digits of a longer run: a sentence's ticket, phone and order numbers would pass it one time
    in three, and a refused reason costs support a retyped sentence, where a refused search
    term costs nothing. ZD numbers and MSH-10s are identifiers, as for ``holds_bsn``, and so is
    a phone number written with its country code."""
    plain = _CONTROL_ID_TYPED.sub(" ", _ZD_WRITTEN.sub(" ", _PHONE_WRITTEN.sub(" ", text)))
    if _grouped_bsn(plain):
        return True
    for match in _NUMBER_WRITTEN.finditer(plain):
        written = match.group()
        whole = _BSN_SEPARATORS.sub("", written)
        words = [whole, *(w for w in _BSN_SEPARATORS.split(written) if w)]
        if any(len(word) == 9 and is_valid_bsn(word) for word in words):
            return True
    return False


def holds_bsn(text: str) -> bool:
    """Whether ``text`` is, or holds, a BSN (nine digits that pass the eleven-test, spaces and
    dots allowed, or grouped with dashes or commas as ``_BSN_GROUPED`` says): patient data
    typed or pasted into a field that is not the BSN's own."""
    if _grouped_bsn(_CONTROL_ID_TYPED.sub(" ", _ZD_TYPED.sub(" ", text))):
        return True
    for match in _DIGITS.finditer(_CONTROL_ID_TYPED.sub(" ", _ZD_TYPED.sub(" ", text))):
        digits = _BSN_SEPARATORS.sub("", match.group())
        if any(is_valid_bsn(digits[i : i + 9]) for i in range(len(digits) - 8)):
            return True
    return False


def misplaced_bsn(terms: Mapping[str, str | None]) -> BadSearch | None:
    """The refusal of the first term other than ``bsn`` that holds a BSN (``holds_bsn``), or
    None when none does.

    A front door asks it before such a term goes anywhere a BSN must not: a console search
    form redirects to an address with its terms, and shows them back in the form. The
    refusal names the term, never its value, and points to the search by BSN.
    """
    for name, value in terms.items():
        if name != "bsn" and value and term_holds_bsn(name, value):
            return BadSearch(name, MISPLACED_BSN).coded("search.misplaced_bsn")
    return None


def term_holds_bsn(name: str, value: str) -> bool:
    """Whether the search term ``name`` holds a BSN (``holds_bsn``), where none belongs.

    A destination's id may hold nine digits that pass the eleven-test (``umc-999990019``):
    it is taken as the id it can be (``is_new_destination_id``: every new destination's id
    holds a letter). Nine digits alone, or spaced or dotted, are no such id.
    """
    if name == "destination" and is_new_destination_id(value):
        return False
    return holds_bsn(value)


def without_bsn(terms: Mapping[str, str]) -> dict[str, str]:
    """``terms`` with each value that holds a BSN emptied: what a refused form shows back."""
    return {name: "" if holds_bsn(value) else value for name, value in terms.items()}


def whole_id(name: str, value: str | None, kind: str) -> str | None:
    """An id term (``event_id``, an audit search's ``message``) as the store keeps ids, for a
    search made through the API or the console, which take ids whole as their paths do; None
    when not given.

    The store matches such a term exactly, so a value that is no whole id would be answered
    with an empty list, read as "nothing happened to it". It is a ``BadSearch`` naming the
    term instead, never repeating the value (a BSN, a name or a date of birth pasted into the
    wrong field): ``search.not_an_id`` for text that cannot be an id at all, by the rule the
    command line looks ids up by (``idprefix.could_start_id``: hex digits in a UUID's groups),
    and ``search.partial_id`` for the start of one (too short, or shortened as a listing shows
    it), which only the command line looks up (``Store.resolve_event_id``). Any case, with or
    without dashes, as in a path (``ids.stored_id``)."""
    if value is None:
        return None
    found = stored_id(value)
    if found is not None:
        return found
    if not could_start_id(value):
        rule = f"not {_an(kind)} id: ids are UUIDs, hex digits and dashes; {_WHOLE_ID_RULE}"
        raise BadSearch(name, rule).coded("search.not_an_id", kind=kind)
    rule = f"not a whole {kind} id; {_WHOLE_ID_RULE} (only the command line takes a start)"
    raise BadSearch(name, rule).coded("search.partial_id", kind=kind)


_WHOLE_ID_RULE: Final = "give the whole id, 32 hex digits with or without its 4 dashes"


def _an(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


EMPTY_RULE: Final = "given but empty; give a value, or leave it out to search without it"


def given_term(name: str, value: str | None) -> str | None:
    """``value`` of the term ``name`` as given, None when it was not given; ``BadSearch`` when
    it was given empty or blank. The one rule of every search, for every term.

    An empty term is not "no filter": a script whose lookup came back empty (``--bsn "$BSN"``,
    ``{"bsn": ""}``, ``?zd_number=``) would otherwise be answered with every patient's
    records, shown as one patient's. Absent is a term that was not sent at all, and each front
    door decides what that is: the API and the CLI a parameter or option left out, the console
    an empty form field (its forms send every field, filled in or not)."""
    if value is None:
        return None
    if not value.strip():
        raise BadSearch(name, EMPTY_RULE).coded("search.empty")
    return value


def build_filter(
    settings: Settings,
    *,
    zd_number: str | None = None,
    event_id: str | None = None,
    control_id: str | None = None,
    destination: str | None = None,
    status: str | None = None,
    version: str | None = None,
    event_type: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    bsn: str | None = None,
) -> MessageFilter:
    zd_number, event_id, control_id, destination, status, version, event_type, bsn = (
        given_term(name, value)
        for name, value in (
            ("zd_number", zd_number),
            ("event_id", event_id),
            ("control_id", control_id),
            ("destination", destination),
            ("status", status),
            ("version", version),
            ("event_type", event_type),
            ("bsn", bsn),
        )
    )
    # An MSH-10 or a destination is compared whole with what the engine wrote, so a BSN there
    # finds nothing; but the API's query put it in a URL (proxy logs), and an export's audit
    # entry kept it. Refused at every front door, naming the term, as the console did alone.
    pasted = misplaced_bsn({"control_id": control_id, "destination": destination})
    if pasted is not None:
        raise pasted
    status, version, event_type = _check_closed(
        status=status, version=version, event_type=event_type
    )
    bsn_digits = normalise_bsn(bsn) if bsn is not None else None
    start, end = parse_period(since, until, settings)
    waiting = status == WAITING
    return MessageFilter(
        zd_number=normalise_zd(zd_number) if zd_number else None,
        event_id=event_id or None,
        destination_id=destination or None,
        status=None if waiting else status or None,
        statuses=tuple(s.value for s in PENDING_STATUSES) if waiting else None,
        version=version or None,
        # As the hospital reads it out: the engine's MSH-10s are upper case, without spaces.
        control_id=control_id.strip().upper() if control_id else None,
        since=start,
        until=end,
        event_type=event_type or None,
        bsn_hash=_bsn_hash(settings, bsn_digits) if bsn_digits else None,
    )


NEVER_SENDING: Final = Note(
    "no message is ever in status sending: the engine does not write it; a message on the wire "
    "shows as queued (or retrying) until its attempt is recorded",
    "search.never_sending",  # the console words it in the person's language
)


def status_note(status: str | None) -> Note | None:
    """What to say beside a search by ``status`` that is certain to find nothing, or None.

    ``sending`` stays a message status (the contract lists it, stores hold it in their check,
    filters take it), but delivery never writes it: a status write before each send would be
    one more store write per message on the delivery hot path, and the attempt written after
    the ACK says all the same. Such a search is answered (an empty list, exit 0) rather than
    refused, so a script or a filter that names every status keeps working; the note says the
    empty answer is certain, not a mistake in the search. Every front door that searches by
    status says it: the CLI on stderr (``messages list``, ``resend``), the API in a header, the
    console on its message list, worded by the note's code in the person's language.
    """
    return NEVER_SENDING if status == MessageStatus.SENDING.value else None


WAITING: Final = "waiting"
"""A ``status`` term for every status a message waits for delivery in (``PENDING_STATUSES``:
queued, or retrying): what the dashboard counts as a destination's queue, and its figure
links to. Not a status a message is ever in; a search term only."""

SEARCH_STATUSES: Final = (*(s.value for s in MessageStatus), WAITING)
"""What a search's ``status`` takes: every message status, and ``waiting``; one list for the
refusal here and the console's *Status* choices."""


def _check_closed(
    *, status: str | None, version: str | None, event_type: str | None
) -> tuple[str | None, str | None, str | None]:
    """The terms of a closed set as the set spells them, in any case as typed (``Delivered``,
    ``REF-V2``: as ``--source HTTP`` is taken; no two values differ by case alone, and the
    store matches exactly); refused when one is none of its values: no stored message can
    match it, and an empty listing would hide the typo (``--event-type verwijzing``,
    ``--version ref-v9``). The values are listed so the right one can be picked; the one given
    is not repeated (a value pasted into the wrong field may be a BSN)."""
    statuses = SEARCH_STATUSES
    status = closed_value(status, statuses)
    if status == "":
        raise BadSearch("status", f"not a message status; one of {', '.join(statuses)}").coded(
            "search.status", statuses=statuses
        )
    event_type = closed_value(event_type, EVENT_TYPES)
    if event_type == "":
        raise BadSearch("event_type", f"not an event type; one of {', '.join(EVENT_TYPES)}").coded(
            "search.event_type", event_types=EVENT_TYPES
        )
    if version is None:  # the usual search: the registry (every mapper) need not be loaded
        return status, version, event_type
    from mappings.registry import REGISTRY

    versions = tuple(REGISTRY)  # retired ones too: their messages stay in the store
    version = closed_value(version, versions)
    if version == "":
        raise BadSearch("version", f"not a message version; one of {', '.join(versions)}").coded(
            "search.version", versions=versions
        )
    return status, version, event_type


def closed_value(given: str | None, values: Iterable[str]) -> str | None:
    """``given`` as ``values`` spell it, whatever its case and the spaces around it; ``""``
    when it is none of them, None when nothing (or nothing but spaces) was given. The one way
    a term of a closed set is read: a search's status, version and event type here, a
    resend's mode (``deadletter.resend``)."""
    if given is None or not given.strip():
        return None
    wanted = given.strip().casefold()
    return next((value for value in values if value.casefold() == wanted), "")


def _bsn_hash(settings: Settings, bsn: str) -> str:
    from integrator.searchkey import SearchKeyError

    try:
        return settings.bsn_hash(bsn)
    except SearchKeyError as exc:
        raise BadSearch("bsn", str(exc)) from None


def _term(value: str | datetime | None, settings: Settings, *, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        given_term(name, value)
    if isinstance(value, datetime):
        return _bound(value, settings.zone, name=name)
    return parse_moment(value, settings, name=name, end=name == "until")


def csv_row(
    m: MessageRecord, zone: tzinfo | None = None, dead_state: str | None = None
) -> dict[str, Any]:
    return {
        "message_id": m.id,
        "event_id": m.event_id,
        "zd_number": m.zd_number,
        "event_type": m.event_type,
        "destination": m.destination_id,
        "version": m.version,
        "message_type": m.message_type,
        "control_id": m.control_id,
        "status": m.status,
        "attempts": m.attempt_count,
        "created_at": iso_time(m.created_at, zone),
        "updated_at": iso_time(m.updated_at, zone),
        "last_error": short_reason(m.last_error) or "",  # no receiver's words in reports
        "resend_of": m.resend_of or "",
        "dead_letter_state": dead_state or "",
        "pruned_at": "" if m.pruned_at is None else iso_time(m.pruned_at, zone),
    }


def to_csv(
    messages: Iterable[MessageRecord],
    zone: tzinfo | None = None,
    dead_states: Mapping[str, str] | None = None,
) -> str:
    """Messages as the reports' CSV (``CSV_COLUMNS``), times in ``zone`` if given, a dead one's
    state from ``dead_states`` (``message_reads.dead_letter_states``); every cell through
    ``csv_cells.csv_text`` (a value a spreadsheet would run as a formula gets a leading
    apostrophe), as every export."""
    return csv_text(CSV_COLUMNS, csv_cells(messages, zone, dead_states))


def csv_cells(
    messages: Iterable[MessageRecord],
    zone: tzinfo | None = None,
    dead_states: Mapping[str, str] | None = None,
) -> Iterator[list[Any]]:
    """The cells of ``to_csv``'s rows, in ``CSV_COLUMNS`` order: one rule for the whole file
    and for an export written page by page (``integrator.export_stream``)."""
    states = dead_states or {}
    for m in messages:
        row = csv_row(m, zone, states.get(m.id))
        yield [row[column] for column in CSV_COLUMNS]
