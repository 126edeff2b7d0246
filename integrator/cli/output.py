"""stdout that is written whole, or the command exits 1 saying it was not.

A blocking ``write`` to a pipe may return having taken only part of the bytes: the kernel
stops a writer that waits for room when a signal arrives (Ctrl-Z and ``fg``, ``kill -STOP`` and
``-CONT``), and after uvloop's loop has closed, libuv's io_uring teardown interrupts the next
wait the process makes in the same way, some milliseconds later, with no signal at all. With
``PYTHONUNBUFFERED=1`` (set in containers and systemd units) stdout's text layer writes straight
to the file descriptor once and drops whatever the kernel did not take: ``messages list --json
| slow-reader`` then printed the first 64 or 128 KiB of its JSON and exited 0. Buffered, Python
finishes a short write, but a stdout some other process left non-blocking fails with
``BlockingIOError`` instead. And a write that fails outright (a full disk, the reader of the
pipe gone) ended in a traceback, or, where only part of a write was refused, in nothing at all.

``whole_stdout`` puts a text layer over a writer that finishes every write (continuing after a
short one, waiting for room on a non-blocking descriptor) in place of ``sys.stdout`` for the
whole command, so every way a command prints (``print_json``, the CSV exports, rich's
``console``, ``typer.echo``, ``print``) goes through it; a write that fails is
``OutputNotWritten``, which ``integrator.cli.main`` turns into exit 1 and one line on stderr.
Each write goes out at once, as unbuffered output does: a command's line is on its way before
its next step starts.

Help is the one output whose reader may stop early on purpose: ``integrator --help | head``
or ``| grep -q run`` close the pipe once they have what they want, and an error saying the
help "is incomplete" (exit 1, failing a ``pipefail`` script) told them of a cut they made
themselves. Help is printed inside ``printing_help``; a reader gone during it
(``BrokenPipeError``) is ``help_cut_by_reader`` and the command ends quietly, exit 0. A
listing cut so is still said: a script that reads ``messages list --json`` must not take a
part for the whole.
"""

from __future__ import annotations

import io
import select
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class OutputNotWritten(Exception):
    """stdout refused a write: the output is incomplete. Names the cause (the system's
    words) and how much of the write got through, never the output itself."""

    def __init__(self, cause: OSError, written: int, wanted: int) -> None:
        self.cause = cause
        self.written = written  # bytes of the last write that went out: a CSV export counts
        self.wanted = wanted  # the rows they began (``integrator.export_stream``)
        self.help_cut_by_reader = _help_under_way and isinstance(cause, BrokenPipeError)
        reason = cause.strerror or type(cause).__name__
        super().__init__(
            f"output not written whole to stdout ({reason}; {written} of {wanted} bytes of the "
            "last write went out): what was printed is incomplete"
        )


_help_under_way = False


@contextmanager
def printing_help() -> Iterator[None]:
    """Mark the help being printed, so a reader that stops early is not told of as a fault."""
    global _help_under_way
    _help_under_way = True
    try:
        yield
    finally:
        _help_under_way = False


class WholeWrites(io.FileIO):
    """A file descriptor's ``write`` that returns only when every byte is written.

    ``FileIO.write`` returns how many bytes the kernel took, ``None`` when a non-blocking
    descriptor had no room; the text layer above ignores both and would lose the rest.
    """

    def write(self, data: ReadableBuffer, /) -> int:
        view = memoryview(data).cast("B")
        wanted = len(view)
        written = 0
        while written < wanted:
            try:
                took = super().write(view[written:])
            except OSError as exc:
                raise OutputNotWritten(exc, written, wanted) from exc
            if took is None:  # non-blocking and full: wait for room, as a blocking write does
                select.select([], [self.fileno()], [])
                continue
            written += took
        return wanted


def whole_stdout() -> None:
    """Replace ``sys.stdout`` with the same descriptor, encoding and error handling over
    ``WholeWrites``; a stdout that is no descriptor (closed, or a test's capture) is left as
    it is."""
    current = sys.stdout
    try:
        fd = current.fileno()
    except (AttributeError, OSError, ValueError):
        return
    sys.stdout = io.TextIOWrapper(
        WholeWrites(fd, "wb", closefd=False),
        encoding=current.encoding,
        errors=current.errors,
        write_through=True,
    )
