"""The event loop's default executor: threads a command's end can give up on, and name.

asyncio's own (a ``ThreadPoolExecutor``) is waited for without bound twice at the end of a
command: by ``loop.shutdown_default_executor`` (Python 3.12's ``timeout`` only stops that wait)
and again by the interpreter's exit, which joins every executor thread. A call that never
returns (an SMTP server or a resolver that does not answer, a password hash on a starved
machine) then kept ``integrator run`` alive after "engine stopped" until the supervisor killed
it. These threads are daemon threads, so the process's exit does not wait for them, and each
knows what it runs, so the end can say what it gave up on (``eventloop``).

One thread per call, not a pool: the engine's calls here are few (a mail, a password hash, a
checkpoint's stop; on asyncio's loop, a name lookup per connection), and a pool's idle threads
would be joined at the exit all the same.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import Context
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class DaemonThreads(ThreadPoolExecutor):
    """A daemon thread per call; ``wait_idle`` waits for the calls running, up to a bound.

    A ``ThreadPoolExecutor`` by type only (the loops take no other as their default); none of
    its pool is used: ``submit`` and ``shutdown`` are this class's own."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)  # makes no thread: the pool's start on submit only
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running: dict[Future[Any], str] = {}
        self._shut = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        name = named(fn, args)
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot schedule new calls after the executor was shut down")
            self._running[future] = name
        thread = threading.Thread(
            target=self._work, args=(future, fn, args, kwargs), name=f"loop: {name}", daemon=True
        )
        try:
            thread.start()
        except BaseException:
            self._done(future)
            raise
        return future

    def _work(
        self, future: Future[T], fn: Callable[..., T], args: tuple[Any, ...], kwargs: Any
    ) -> None:
        try:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
        finally:
            self._done(future)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._running.pop(future, None)
            if not self._running:
                self._idle.notify_all()

    def wait_idle(self, within: float) -> list[str]:
        """Wait up to ``within`` seconds for the calls running to end; those still running,
        by their function's name (never their arguments)."""
        deadline = time.monotonic() + within
        with self._lock:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._idle.wait(left)
            return sorted(self._running.values())

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new calls; never waits (``wait_idle`` does, bounded): asyncio's end calls this
        with ``wait=True`` after ``eventloop`` has waited as long as it would."""
        with self._lock:
            self._shut = True
            if cancel_futures:
                for future in self._running:
                    future.cancel()  # only one not yet running is cancelled


def named(fn: Callable[..., Any], args: tuple[Any, ...] = ()) -> str:
    """A call as the log names it: its function's qualified name, through the wrappers
    ``asyncio.to_thread`` puts around it (a partial of ``Context.run``)."""
    inner: Any = fn
    while True:
        if isinstance(inner, functools.partial):
            inner, args = inner.func, inner.args
        elif isinstance(getattr(inner, "__self__", None), Context) and args and callable(args[0]):
            inner, args = args[0], args[1:]
        else:
            break
    fn = inner
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{name}" if module else name
