"""SIGINT, SIGTERM and SIGHUP while a long command runs: noted, and acted on at its next step.

Shared by ``integrator backup``, ``integrator prune`` and ``integrator keys rotate``: each works
in steps (pages copied, a batch pruned, a batch sealed again), and a signal that ended the
process where it stood would leave a step's aftermath unsaid: a partial copy under a temporary
name, or rows pruned or sealed again with no audit entry saying so. The handler only notes the
signal; the command asks ``stopped`` (or ``check``) between steps, stops there, says and audits
what it did, and exits ``128 + signum`` as a shell reports a process that signal ended.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType


class Interrupted(Exception):
    """A signal asked the command to stop; raised by ``Interruptions.check`` by default."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 128 + signum


class Interruptions:
    """The signals noted while in the ``with`` block; the handlers before it are put back after.

    Signals reach Python handlers in the main thread only, so in another thread (a test running
    the command beside an engine) nothing is installed. A signal ignored before (``nohup``)
    stays ignored. Only the first signal counts; later ones are noted no more (the command is
    already stopping at its next step, which comes within one step's time).
    """

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self, stop: Callable[[int], BaseException] = Interrupted) -> None:
        """``stop``: the exception ``check`` raises, made from the signal's number."""
        self.signum: int | None = None
        self._stop = stop
        self._saved: dict[signal.Signals, signal.Handlers | Callable[..., object] | int] = {}

    def __enter__(self) -> Interruptions:
        if threading.current_thread() is not threading.main_thread():
            return self
        for name in self.SIGNALS:
            sig = getattr(signal, name, None)
            if sig is None:  # no SIGHUP on Windows
                continue
            previous = signal.getsignal(sig)
            if previous == signal.SIG_IGN:
                continue
            self._saved[sig] = signal.SIG_DFL if previous is None else previous
            signal.signal(sig, self._note)
        return self

    def __exit__(self, *_: object) -> None:
        for sig, previous in self._saved.items():
            signal.signal(sig, previous)

    def _note(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    @property
    def stopped(self) -> bool:
        """Whether a signal asked to stop: the command stops at its next step."""
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        """``128 + signum`` once stopped (as a shell reports it), else 0."""
        return 0 if self.signum is None else 128 + self.signum

    def check(self) -> None:
        """Raise the command's ``stop`` exception if a signal was noted."""
        if self.signum is not None:
            raise self._stop(self.signum)
