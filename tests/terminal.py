"""A command started by a test as a person at a terminal starts it: Ctrl-C (SIGINT) stops it.

A process started with SIGINT ignored keeps it ignored, by Unix convention (``nohup``, and a
shell's ``cmd &`` without job control, set it so); the engine's commands honour that
(``integrator.interruptions``). A test run launched that way would see its commands shrug off
the SIGINT they send; started with ``preexec_fn=as_at_a_terminal`` they get the default
disposition whatever the test run was started with.
"""

from __future__ import annotations

import signal


def as_at_a_terminal() -> None:
    """``preexec_fn``: SIGINT's default disposition in the child, as a terminal gives it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
