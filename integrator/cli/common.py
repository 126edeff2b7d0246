"""What every command shares: output consoles, settings, the event loop, errors, the store.

Exit codes: 0 ok, 2 bad input, 1 any other failure. Output for people goes to stdout; logs
and warnings go to stderr.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, cast

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from integrator import eventloop
from integrator.clock import SystemClock
from integrator.errors import IntegratorError
from integrator.logging import configure_logging
from integrator.settings import Settings

if TYPE_CHECKING:
    from integrator.operators import DestinationAdmin
    from integrator.store import Store

T = TypeVar("T")

# Piped output is not cut at 80 columns: people paste it into tickets.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def load_settings(*, service: bool = False) -> Settings:
    """Settings from the environment; logging set up for a service or for a person.

    Commands people type show their result on stdout; routine info lines on stderr would only
    get in the way, so they log warnings and errors unless INTEGRATOR_LOG_LEVEL says otherwise.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"INTEGRATOR_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        fail(f"bad settings: {problems}", 2)
    level = settings.log_level
    if not service and "INTEGRATOR_LOG_LEVEL" not in os.environ and level == "info":
        level = "warning"
    configure_logging(level=level, fmt=settings.log_format)
    return settings


def run(coro: Coroutine[Any, Any, T]) -> T:
    return eventloop.run(coro, _event_loop())


def _event_loop() -> eventloop.LoopKind:
    """``INTEGRATOR_EVENT_LOOP``: ``uvloop`` (the default) or ``asyncio``."""
    kind = os.environ.get("INTEGRATOR_EVENT_LOOP", "uvloop")
    if kind not in ("uvloop", "asyncio"):
        fail(f"bad settings: INTEGRATOR_EVENT_LOOP: 'uvloop' or 'asyncio', not {kind!r}", 2)
    return cast(eventloop.LoopKind, kind)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def local_actor() -> str:
    """Who runs a command on the server: the operating-system user, as ``local:<user>``.

    Commands working on the store directly are trusted as that user (like ``rabbitmqctl``);
    every change they make is recorded under this one name.
    """
    try:
        user = os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError):
        user = str(os.getuid())
    return f"local:{user}"


def with_store(action: Callable[[Store], Awaitable[T]], settings: Settings | None = None) -> T:
    """Open the configured store, run ``action``, map our errors to exit codes."""
    from integrator.store import Store

    settings = settings or load_settings()

    async def go() -> T:
        store = await Store.open(settings.database_url)
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return run(go())
    except IntegratorError as exc:
        fail(str(exc), exc.exit_code)


def with_admin(action: Callable[[DestinationAdmin], Awaitable[T]]) -> T:
    """Like ``with_store``, with the operators' destination service on that store."""
    from integrator.operators import DestinationAdmin

    settings = load_settings()
    clock = SystemClock()

    def today() -> date:
        return clock.now().astimezone(settings.zone).date()

    async def action_on_store(store: Store) -> T:
        admin = DestinationAdmin(store=store, settings=settings, today=today, now=clock.now)
        return await action(admin)

    return with_store(action_on_store, settings)


class progress_bar:
    """A rich progress bar on stderr for batches; ``advance(done, total)`` moves it."""

    def __init__(self, total: int, *, quiet: bool, label: str = "working") -> None:
        self._total = total
        self._progress = (
            None
            if quiet
            else Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=False,
            )
        )
        self._task: Any = None

    def __enter__(self) -> Callable[[int, int], None]:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("batch", total=self._total)

        def advance(done: int, total: int) -> None:
            if self._progress is not None:
                self._progress.update(self._task, completed=done, total=total)

        return advance

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
