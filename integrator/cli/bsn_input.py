"""``--bsn -``: a search's BSN read from standard input, never typed on the command line.

An option's value stays in the shell's history file and, while the command runs, in the process
list (``/proc/PID/cmdline``, which every user on the server may read): why ``integrator
resend`` has no ``--bsn`` and the API takes a BSN only in a POST body. So the searches by BSN
(``messages list``, ``events list``, ``rejected list``, ``audit list``) take ``--bsn -``: the
first line of a pipe or file, or, at a terminal, what is typed at a ``BSN:`` prompt that does
not echo. ``--bsn VALUE`` still works (scripts use it), with a warning on stderr saying so.

What is read is handed on as the value would have been: the search judges it by its own rules
and refuses it in its own words, which name ``--bsn`` and never repeat what was given.

At module level only the standard library and ``common`` (every ``integrator`` call imports
this, ``tests/integrator/test_cli_startup.py``).
"""

from __future__ import annotations

import sys
from typing import Final

try:  # typer 0.2x carries its own click, and runs its commands in that one's context
    from typer._click.globals import get_current_context
except ImportError:  # an older typer, on click itself
    from click import get_current_context  # type: ignore[no-redef]

from integrator.cli.common import err_console, fail

FROM_STDIN: Final = "-"
"""The ``--bsn`` value that reads the BSN from standard input, as ``submit -`` reads a body."""

PROMPT: Final = "BSN: "

LONGEST_LINE: Final = 1024
"""Of a pipe, at most this much of its first line is read: a BSN with spaces or dots is a few
dozen characters, and a search must not wait on (or hold) a stream that has no line end."""

HELP: Final = (
    "- reads it from stdin, without echo at a terminal (a value given here stays in the "
    "shell's history)"
)
"""What every ``--bsn`` option's help ends with."""

ON_COMMAND_LINE: Final = (
    "warning: a BSN given on the command line stays in the shell's history and, while the "
    "command runs, in the process list; give --bsn - to pipe it in or type it unseen"
)

NONE_READ: Final = (
    "--bsn: - reads the BSN from standard input, and its first line held none; pipe the BSN "
    "in, or type it at the BSN: prompt"
)


def bsn_help(what: str) -> str:
    """A ``--bsn`` option's help: what the BSN is searched by, then how ``-`` takes it."""
    return f"{what}; {HELP}."


def given_bsn(value: str | None) -> str | None:
    """The BSN a search is for: ``value`` as given, or the one standard input gives for ``-``.

    A value typed on the command line is warned about on stderr (never repeated) as the
    command ends, and stdout stays the listing, JSON or CSV. An empty line (or none) for ``-``
    is refused, exit 2: searching for nobody would list nothing, and look as if the patient
    had nothing.
    """
    if value is None:
        return None
    if value != FROM_STDIN:
        if value.strip():  # an empty one names no patient, and is refused as such
            _warn_when_done()
        return value
    read = _typed() if _at_terminal() else _first_line()
    if not read.strip():
        fail(NONE_READ, 2)
    return read.strip()


def _warn_when_done() -> None:
    """The warning about a BSN on the command line, said as the command ends, however it
    ends: below the table rather than scrolled off above it, and after a refusal, whose
    ``error:`` stays the first line of stderr."""
    ctx = get_current_context(silent=True)
    if ctx is None:  # called outside a command
        _warn()
        return
    ctx.call_on_close(_warn)


def _warn() -> None:
    err_console.print(ON_COMMAND_LINE, soft_wrap=True, markup=False)


def _at_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _typed() -> str:
    """What is typed at the prompt, unechoed: the prompt and the line go through the terminal
    itself (``getpass``), so neither stdout nor a captured stderr sees them. Ctrl-D is an empty
    answer; Ctrl-C stops the command as anywhere else (exit 130)."""
    import getpass

    try:
        return getpass.getpass(PROMPT)
    except EOFError:
        return ""


def _first_line() -> str:
    """The first line of standard input, bytes that are not UTF-8 replaced: the search then
    refuses them as it refuses any text that is no BSN, without repeating them."""
    stream = sys.stdin
    if stream is None:  # started with stdin closed
        return ""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        return stream.readline(LONGEST_LINE)
    line: bytes = buffer.readline(LONGEST_LINE)
    return line.decode("utf-8", errors="replace")
