"""Tables the CLI shows in more than one command, so they read the same everywhere.

Ids are shortened as git shortens commit ids (``short_ids``): every command taking an id takes
such a prefix back (``common.resolve_message_ids``). Times are shown as ``presenters.shown_time``
gives them, which is what ``--since`` and ``--until`` accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Final

from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

from integrator.cli.shown import shown, visible
from integrator.presenters import shown_time

SHORT_ID = 8
"""The least a shortened id shows: a UUID's first group, unique in all but very large stores."""


def short_ids(ids: Iterable[str], minimum: int = SHORT_ID, *, at_least: int = 0) -> dict[str, str]:
    """Each id shortened to the fewest characters (at least ``minimum``) that tell them apart.

    Among the ids given, as git does for the commits it lists: a table stays narrow, and an id
    copied from it is still unique at least among what was on the screen; ``at_least``: the
    length that tells them apart from every id in the store (``Store.unique_prefix_length``),
    where the listing asked. A shortened id never ends in a dash, which would look like a cut.
    """
    distinct = sorted(set(ids))
    length = max(minimum, at_least)
    while len({i[:length] for i in distinct}) < len(distinct):
        length += 1
    while any(i[length - 1 : length] == "-" for i in distinct):
        length += 1
    return {i: i[:length] for i in distinct}


FREE_TEXT_MIN = 12
"""The least a free-text column (a reason, a state) is ever given: it wraps into what the
identifiers leave, a few words to a line. Before it comes down to this, the optional columns
give way to its longest word (``WORD_MAX``); only when the columns always shown leave no more
does a word fold."""

WORD_MAX = 32
"""The widest word (a run without whitespace) a free-text column is kept wide enough for, so
that rich wraps it at spaces and a time (``2026-12-07T11:13:10+01:00``), a host and port, an
actor or a ``key=value`` inside it stays on one line, as support copies it. Longer words fold:
a base64 blob, a URL or a stack trace's path of thousands of characters must not widen a
table, pushing every optional column off it, without bound."""

ACTOR_MIN = 24
"""The least width an actor (the audit's, rejected input's caller) wraps into: ``person:`` and
most e-mail addresses on one line."""


@dataclass(frozen=True, slots=True)
class Column:
    """A listing's column: its header, its cell from a row, and whether it is free text.

    Identifiers, ZD numbers and times are never cut or wrapped: people copy them into the next
    command, and ``ZD200000001`` cut to ``ZD2000…`` cannot be told from ``ZD200000002``. Free
    text (a reason) wraps instead, at spaces: it is kept as wide as its longest word (up to
    ``WORD_MAX``) while an optional column can give way, then narrows to ``least`` at most,
    folding a word only then (or a word longer than ``WORD_MAX``).
    """

    header: str
    cell: Callable[[dict[str, Any]], str]
    justify: JustifyMethod = "left"
    free_text: bool = False
    least: int = FREE_TEXT_MIN  # free text: the least width it is shown in


def fitted_table(
    rows: Sequence[dict[str, Any]],
    columns: Mapping[str, Column],
    *,
    always: Collection[str],
    optional: Sequence[str],
    width: int,
    title: str,
) -> Table:
    """``rows`` as a table no wider than ``width`` in which no identifier is cut.

    The ``always`` columns are shown; each of the ``optional`` ones follows, in that order, if
    the table still fits with it (its identifiers whole, its free text as wide as its longest
    word, up to ``WORD_MAX``: a column gives way before a time in a state folds); the columns
    keep the order of ``columns``. When the ``always`` ones alone do not fit so, their free
    text narrows further, to its ``least``, folding a word; when they do not fit even then,
    their cells fold onto next lines: whole, if not on one line. ``--json`` has everything.
    """
    order = list(columns)
    measured = {k: _measure(columns[k], rows) for k in order if k in always or k in optional}
    chosen = set(always)
    for name in optional:
        wider = chosen | {name}
        if _span([measured[k].least for k in order if k in wider]) <= width:
            chosen = wider
    table = Table(title=title, box=None, pad_edge=False, padding=(0, 1, 0, 0))
    kept = [k for k in order if k in chosen]
    # Even the columns always shown may not fit (a long actor, target and time on 80
    # columns): then every cell folds onto a next line rather than be cut short, which rich
    # does to a column that may not wrap, silently.
    squeezed = _span([measured[k].floor for k in kept]) > width
    shares = [] if squeezed else _shared([measured[k] for k in kept], width)
    for n, name in enumerate(kept):
        column = columns[name]
        table.add_column(
            column.header,
            justify=column.justify,
            min_width=None if squeezed else measured[name].floor,
            width=shares[n] if column.free_text and not squeezed else None,
            no_wrap=not (column.free_text or squeezed),  # free text wraps, folding a long word
            overflow="fold",
        )
    for r in rows:
        table.add_row(*(_shown(_cell(columns[name], r)) for name in kept))
    return table


def _cell(column: Column, row: dict[str, Any]) -> str:
    """``column``'s cell of ``row`` with its control characters made visible
    (``shown.visible``), whatever the column made of it: no value from outside (a reason, a
    name) clears the screen or fakes a row of a listing, even one a column forgot to pass
    through ``shown``. A column's own markup holds no control character, and is kept."""
    return visible(column.cell(row))


@dataclass(frozen=True, slots=True)
class _Measured:
    """A column's widths for the rows of one table, measured once (``_measure``)."""

    natural: int
    """Its widest cell as shown (its markup rendered), its header included."""
    least: int
    """The narrowest it is before an optional column gives way: an identifier column whole,
    free text as wide as its longest word up to ``WORD_MAX`` (at least its ``least``)."""
    floor: int
    """The narrowest it is at all with the table not squeezed: an identifier column whole, free
    text its ``least`` (or its own width, if less)."""


def _measure(column: Column, rows: Sequence[dict[str, Any]]) -> _Measured:
    """``column``'s widths over ``rows``: each cell made and its markup parsed once (for free
    text, its words read from the same plain text)."""
    natural = cell_len(column.header)
    if not column.free_text:
        for r in rows:
            natural = max(natural, _shown_len(_cell(column, r)))
        return _Measured(natural, natural, natural)
    word = _longest_word(column.header)
    for r in rows:
        length, plain = _shown_plain(_cell(column, r))
        natural = max(natural, length)
        if word < min(length, WORD_MAX):  # no word is wider than its cell
            word = max(word, _longest_word(plain))
    floor = min(natural, column.least)
    return _Measured(natural, min(natural, max(floor, min(word, WORD_MAX))), floor)


def _longest_word(text: str) -> int:
    """The width of ``text``'s longest run without whitespace, where rich cannot wrap it."""
    return max(map(cell_len, text.split()), default=0)


def _span(widths: Sequence[int]) -> int:
    """The width of a table of columns ``widths`` wide: one space between columns."""
    return sum(widths) + len(widths) - 1


def _shared(measured: Sequence[_Measured], width: int) -> list[int]:
    """Each column's width when the table fits in ``width``: the free text's natural width, the
    widest cut first down to its longest word (``_Measured.least``), then, if the table still
    does not fit, down to its ``Column.least`` (``_Measured.floor``), as rich shares it out.
    Given to rich as the free text columns' widths: rich's own sharing counts each column's
    padding, which the last column has not, so on a table that fitted exactly it took a column
    below its least and then cut a character off each line of the last one (``local:anna a``
    for ``local:anna at``)."""
    widths = [m.natural for m in measured]
    excess = _span(widths) - width
    for lows in ([m.least for m in measured], [m.floor for m in measured]):
        while excess > 0:
            free = [i for i, low in enumerate(lows) if widths[i] > low]
            if not free:
                break
            widest = max(free, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
    return widths


def fits(
    columns: Mapping[str, Column],
    rows: Sequence[dict[str, Any]],
    names: Collection[str],
    *,
    width: int,
    words_whole: bool = True,
) -> bool:
    """Whether the columns ``names`` fit in ``width`` with no identifier cut and no word of
    their free text folded (up to ``WORD_MAX``), as ``fitted_table`` decides whether to show an
    optional column: for a listing that shows a column in a shorter form when its full form
    leaves no room. Not ``words_whole``: with free text down to its ``Column.least``, for a
    column worth a folded word (a listing then passes it as always shown)."""
    measured = [_measure(columns[k], rows) for k in columns if k in names]
    return _span([m.least if words_whole else m.floor for m in measured]) <= width


def messages_table(
    rows: Sequence[dict[str, Any]], *, width: int, zone: tzinfo, title: str, unique: int = 0
) -> Table:
    """``presenters.message_summary`` rows as a table no wider than ``width``, no cell cut.

    An 80-column terminal gets the short id, ZD number, destination, status and creation time,
    the terms support searches by; the attempts, ``resend of``, version, MSH-10 and the last
    error follow, in that order, as far as the width allows (``--json`` has everything). The
    time shown is the creation time because ``--since`` and ``--until`` select on it.
    """
    short = short_ids(
        [r["id"] for r in rows] + [r["resend_of"] for r in rows if r.get("resend_of")],
        at_least=unique,
    )
    columns = {
        "id": Column("id", lambda r: short[r["id"]]),
        "zd": Column("ZD number", lambda r: shown(r["zd_number"])),
        "destination": Column("destination", lambda r: shown(r["destination"])),
        "version": Column("version", lambda r: shown(r["version"])),
        "control_id": Column("MSH-10", lambda r: shown(r["control_id"])),
        "status": Column("status", status_cell),
        "tries": Column("tries", lambda r: str(r["attempts"]), "right"),
        "created": Column("created", lambda r: shown_time(r["created_at"], zone)),
        "resend_of": Column("resend of", lambda r: short.get(r["resend_of"] or "", "")),
        # Why it is retrying or dead, in the listings' words (``short_reason``: no receiver's
        # text): an operator listing `--status retrying` opened each message to learn it.
        "last_error": Column(
            "last error", lambda r: shown(r.get("last_error") or ""), free_text=True
        ),
    }
    return fitted_table(
        rows,
        columns,
        always=("id", "zd", "destination", "status", "created"),
        optional=("tries", "resend_of", "version", "control_id", "last_error"),
        width=width,
        title=title,
    )


def status_cell(row: dict[str, Any]) -> str:
    """``dead (resolved)``, ``dead (resending)``: a dead message a later resend settled, or is
    settling, is not one to act on (``message_reads.dead_letter_states``)."""
    state = row.get("dead_letter_state")
    return f"{row['status']} ({state})" if state not in (None, "open") else str(row["status"])


def _shown(cell: str) -> Text:
    """A cell as rich shows it, parsed for markup only when it may hold some (``_shown_len``);
    never for emoji codes: a name or address holding ``:smile:`` is shown as typed."""
    return Text.from_markup(cell, emoji=False) if "[" in cell else Text(cell)


def _shown_len(cell: str) -> int:
    """A cell's width on screen: without a ``[`` it holds no markup (escaped text has one), so
    rich's markup parser, a tenth of a millisecond a cell, is left out for nearly all."""
    return Text.from_markup(cell, emoji=False).cell_len if "[" in cell else cell_len(cell)


def _shown_plain(cell: str) -> tuple[int, str]:
    """A cell's width on screen and its text as shown, its markup parsed (once) only when it may
    hold some, as ``_shown_len``: a free-text cell's words are those of what is shown."""
    if "[" not in cell:
        return cell_len(cell), cell
    text = Text.from_markup(cell, emoji=False)
    return text.cell_len, text.plain


SHOWN_TEXT_MAX = 10_000
"""The most characters of a receiver's text (a raw ACK, an error quoting it) the CLI's human
output shows; ``--json`` gives it whole."""

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 control characters but tab and line feed, DEL, C1, and the line and paragraph separators
and bidi controls (``shown.visible``)."""


def terminal_safe(text: str) -> str:
    """``text`` with every control character but tab and line feed replaced by a visible
    stand-in, so that it can be printed to a terminal.

    A receiver's ACK (MSA-3, ERR, the raw frame) comes from a remote system, buggy or hostile:
    printed as it is, its escape sequences recoloured, erased or overwrote the lines of
    ``messages show`` and ``deadletter show`` or set the window's title (rich drops BEL and
    backspace, not ESC). C0 characters and DEL become their Unicode control pictures, one
    character wide like what they stand for, as the store already shows a NUL (ESC is ``␛``,
    BEL ``␇``, CR ``␍``, DEL ``␡``); C1 characters, which have no pictures, become their code
    written out (``\\x9b``, ``CSI``, which some terminals take as ESC ``[``). ``--json`` gives
    the text exact."""
    return _CONTROL.sub(_stand_in, text)


def _stand_in(found: re.Match[str]) -> str:
    code = ord(found.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def shown_text(text: str, limit: int = SHOWN_TEXT_MAX) -> str:
    """A receiver's text as the CLI shows it to a person: terminal-safe, and its first
    ``limit`` characters only, with a note of how many more there are.

    A receiver decides how long its ACK is (up to the 64 MiB of an MLLP frame); rich took
    minutes to lay out a few MiB of it in a table, for a text no one reads on a screen."""
    if len(text) <= limit:
        return terminal_safe(text)
    more = len(text) - limit
    return terminal_safe(text[:limit]) + f"\u2026 ({more:,} more characters; --json gives it whole)"


def shown_ack(ack: str) -> list[str]:
    """An ACK as received, as lines for a person: one per segment (``\\r``; a ``\\n`` parts
    the frames of an attempt that got several), empty ones left out, cut and made safe as
    ``shown_text`` does (the cut's note ends the last line)."""
    return [line for line in shown_text(ack.replace("\r", "\n")).split("\n") if line]


def last_ack_said(history: Sequence[dict[str, Any]]) -> list[str]:
    """The ACK as received of the last attempt that got one, as lines under a heading naming
    that attempt (none: no attempt got an answer). What an error cut short or an
    ``AckControlIdMismatch`` left unsaid (the MSA-2 the receiver sent) is read there; every
    attempt's is in ``--json``."""
    for attempt in reversed(history):
        if attempt.get("ack"):
            heading = f"ACK of attempt {attempt['number']}, as received:"
            return [heading, *shown_ack(attempt["ack"])]
    return []


LATE_HOW: Final[dict[str, str]] = {
    "skipped": "came while the next message waited for its answer",
    "dropped": "came after the answer; the connection was closed for it",
}


def late_answers_said(late: Sequence[dict[str, Any]], zone: tzinfo | None = None) -> list[str]:
    """The answers that came after the one that settled the message (``presenters.
    late_answer_view``), under a heading that says the first one stood: support must see the
    hospital's ``AR`` after its ``AA``, whatever the status says. None: no lines."""
    if not late:
        return []
    lines = ["Answered again after its answer (the first answer stood; ask the receiver why):"]
    for answer in late:
        when = shown_time(answer["received_at"], zone)
        lines.append(f"  {visible(answer['ack_code'])} at {when}: {LATE_HOW[answer['how']]}")
    return lines


def attempts_table(
    history: Sequence[dict[str, Any]], zone: tzinfo | None = None, *, width: int
) -> Table:
    """Delivery attempts as ``presenters.attempt_view`` gives them; times in ``zone`` if given,
    no wider than ``width`` with no time cut (the error wraps, or gives way first)."""
    columns = {
        "number": Column("#", lambda a: str(a["number"]), "right"),
        "started": Column("started", lambda a: shown_time(a["started_at"], zone)),
        "ms": Column("ms", lambda a: f"{a['duration_ms']:.1f}", "right"),
        "outcome": Column("outcome", lambda a: shown(a["outcome"])),
        "ack": Column("ACK", lambda a: a["ack_code"] or "-"),
        "error": Column("error", lambda a: shown(shown_text(a["error"] or "")), free_text=True),
    }
    return fitted_table(
        history,
        columns,
        always=("number", "started", "outcome"),
        optional=("ack", "error", "ms"),
        width=width,
        title="Attempts",
    )
