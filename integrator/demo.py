"""``integrator demo``: the whole path on the embedded default, shown to a person.

A temporary SQLite store, one local MLLP receiver per example destination (standing in for each
hospital's interface engine), the example destination files pointed at those receivers, and the
sample events submitted. It prints what each hospital received and what it answered, and exits 0
only if every message was delivered with a valid ACK.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from destinations.config import load_destination_dir
from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.clock import SystemClock
from integrator.counting import counted
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.hl7view import decode_message, segment_lines
from integrator.settings import Settings
from integrator.store import MessageFilter

PROJECT_CONFIG = Path(__file__).resolve().parent / "examples"
"""The project's ``config/`` (a link to it in the source tree, a copy in an installed wheel)."""


NEXT = (
    '[dim]Next: the README\'s "Using it" runs the engine yourself (.venv/bin/integrator run) '
    "and shows the commands support and operators use; docs/deploy.md installs it for a "
    "hospital.[/]"
)
"""Where a newcomer goes from here: the demo's store and receivers are gone when it ends."""


def config_dir() -> Path:
    """``config/`` of the working directory if there is one, else the project's own."""
    local = Path("config")
    return local if (local / "samples").is_dir() else PROJECT_CONFIG


@dataclass
class _Hospital:
    destination_id: str
    name: str
    receiver: MllpReceiver
    received: list[bytes] = field(default_factory=list)


async def run_demo(console: Console, *, timeout: float = 30.0) -> int:
    config = config_dir()
    configs, errors = load_destination_dir(config / "destinations")
    if errors:
        for error in errors:
            console.print(f"[red]destination file refused:[/] {error}")
        return 1
    samples = sorted((config / "samples").glob("*.json"))

    hospitals: list[_Hospital] = []
    pointed = []
    for destination in configs:
        received: list[bytes] = []
        receiver = MllpReceiver(on_message=received.append)
        port = await receiver.start()
        hospitals.append(_Hospital(destination.id, destination.name, receiver, received))
        pointed.append(destination.model_copy(update={"host": "127.0.0.1", "port": port}))

    with tempfile.TemporaryDirectory(prefix="integrator-demo-") as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/demo.db", destinations_dir=Path(tmp))
        clock = SystemClock()
        today = clock.now().astimezone(settings.zone).date()
        catalog = build_catalog(((f"{d.id}.yaml", d) for d in pointed), today=today)
        engine = Engine(settings, clock=clock, catalog=catalog)
        await engine.start()
        stopping = _cancel_on_sigterm()
        try:
            console.rule("[bold]Integrator demo")
            console.print(
                f"Store: temporary SQLite. Destinations: {len(pointed)}, each with a local MLLP "
                f"receiver standing in for the hospital.\nSubmitting "
                f"{counted(len(samples), 'sample event')} from {config / 'samples'}.\n"
            )
            results = await engine.intake.submit_many(
                [p.read_bytes() for p in samples], source="demo", caller="demo"
            )
            for path, result in zip(samples, results, strict=True):
                if isinstance(result, InvalidEvent):
                    console.print(f"[red]✗ {path.name} refused:[/] {result}")
                else:
                    routed = ", ".join(f"{m.destination_id} ({m.version})" for m in result.messages)
                    console.print(
                        f"[green]✓[/] {path.name}: event {result.event_id} "
                        f"({result.zd_number}) → {routed or 'no destination'}"
                    )
            settled = await engine.wait_settled(timeout=timeout)
            messages = await engine.store.list_messages(MessageFilter(), limit=1000)
            all_ok = settled and bool(messages) and all(m.status == "delivered" for m in messages)
            by_destination = {h.destination_id: h for h in hospitals}
            table = Table(title="Delivery summary")
            for column in ("destination", "ZD number", "MSH-10", "status", "ACK"):
                table.add_column(column, no_wrap=True)
            for m in sorted(messages, key=lambda m: m.seq):
                attempts = await engine.store.list_attempts(m.id)
                last = attempts[-1] if attempts else None
                hospital = by_destination[m.destination_id]
                _show_exchange(console, hospital, m.payload, last.ack_bytes if last else None)
                colour = "green" if m.status == "delivered" else "red"
                table.add_row(
                    m.destination_id,
                    m.zd_number,
                    m.control_id,
                    f"[{colour}]{m.status}[/]",
                    (last.ack_code if last else None) or "-",
                )
            console.print(table)
            if all_ok:
                console.print("[bold green]All messages delivered and acknowledged (AA).")
                console.print(NEXT, soft_wrap=True)
                return 0
            console.print("[bold red]Not every message was delivered; see the table above.")
            return 1
        except asyncio.CancelledError:
            if not stopping.is_set():
                raise
            _uncancel()
            console.print("Stopped by SIGTERM; attempts on the wire were finished and recorded.")
            return 0
        finally:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
            await engine.stop(graceful=stopping.is_set())
            for hospital in hospitals:
                await hospital.receiver.stop()


def _cancel_on_sigterm() -> asyncio.Event:
    """SIGTERM cancels the demo's work; the event tells that cancel from any other."""
    stopping = asyncio.Event()
    task = asyncio.current_task()
    assert task is not None

    def stop() -> None:
        stopping.set()
        task.cancel()

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    return stopping


def _uncancel() -> None:
    """The SIGTERM cancel is handled: later waits of the graceful stop must not see it."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _show_exchange(console: Console, hospital: _Hospital, sent: bytes, ack: bytes | None) -> None:
    """What the hospital's receiver got (segment by segment) and what it answered."""
    arrived = sent in hospital.received
    console.rule(f"[bold]{hospital.name}[/] ({hospital.destination_id})", align="left")
    console.print("[dim]received over MLLP:[/]" if arrived else "[red]not received[/]")
    _print_segments(console, sent)
    console.print("[dim]answered:[/]")
    if ack is None:
        console.print("  (no ACK)")
    else:
        _print_segments(console, ack)
    console.print()


def _print_segments(console: Console, data: bytes) -> None:
    for line in segment_lines(decode_message(data), max_field=70):
        name, _, rest = line.partition("|")
        text = Text("  ")
        text.append(name, style="bold cyan")
        text.append("|" + rest)
        console.print(text, soft_wrap=True)
