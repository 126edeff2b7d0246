"""A command started by a test as a person at a terminal starts it: Ctrl-C (SIGINT) stops it.

A process started with SIGINT ignored keeps it ignored, by Unix convention (``nohup``, and a
shell's ``cmd &`` without job control, set it so); the engine's commands honour that
(``integrator.interruptions``). A test run launched that way would see its commands shrug off
the SIGINT they send; started with ``preexec_fn=as_at_a_terminal`` they get the default
disposition whatever the test run was started with. A command run in the test's own process
(``tests.cli_in_process``) gets it for a block with ``at_a_terminal``.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


def as_at_a_terminal() -> None:
    """``preexec_fn``: SIGINT's default disposition in the child, as a terminal gives it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def at_a_terminal() -> Iterator[None]:
    """This process, for the block, with SIGINT's disposition as Python has it at a terminal
    (``KeyboardInterrupt``), put back after: for a command run in-process that a test stops
    with a SIGINT to itself. pytest-xdist's workers of a run a shell started in the background
    without job control (``make test &`` in a script) inherit SIGINT ignored, and the command
    honoured that."""
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)
