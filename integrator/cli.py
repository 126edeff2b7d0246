"""The ``integrator`` command line (SPEC §6).

Exit codes: 0 ok, 2 bad input, 1 any other failure. Every listing has ``--json``. Output for
people goes to stdout; logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar, cast

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from integrator import eventloop
from integrator.catalog import Catalog
from integrator.cli_views import attempts_table
from integrator.clock import SystemClock
from integrator.errors import IntegratorError
from integrator.logging import configure_logging
from integrator.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="Integrator: referrals and diagnostic requests to HL7 v2 over MLLP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
messages_app = typer.Typer(help="Browse messages, their attempts and ACKs.", no_args_is_help=True)
app.add_typer(messages_app, name="messages")
from integrator.cli_deadletter import deadletter_app  # noqa: E402
from integrator.cli_destinations import destinations_app  # noqa: E402
from integrator.cli_resend import resend_command  # noqa: E402

app.add_typer(deadletter_app, name="deadletter")
app.add_typer(destinations_app, name="destinations")
app.command("resend")(resend_command)

# Piped output is not cut at 80 columns: people paste it into tickets.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def _settings(*, service: bool = False) -> Settings:
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
        _fail(f"bad settings: {problems}", 2)
    level = settings.log_level
    if not service and "INTEGRATOR_LOG_LEVEL" not in os.environ and level == "info":
        level = "warning"
    configure_logging(level=level, fmt=settings.log_format)
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return eventloop.run(coro, _event_loop())


def _event_loop() -> eventloop.LoopKind:
    """``INTEGRATOR_EVENT_LOOP``: ``uvloop`` (the default) or ``asyncio``."""
    kind = os.environ.get("INTEGRATOR_EVENT_LOOP", "uvloop")
    if kind not in ("uvloop", "asyncio"):
        _fail(f"bad settings: INTEGRATOR_EVENT_LOOP: 'uvloop' or 'asyncio', not {kind!r}", 2)
    return cast(eventloop.LoopKind, kind)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


# -- run / demo -----------------------------------------------------------------------------
@app.command()
def run(
    http: Annotated[bool, typer.Option(help="Serve the HTTP API.")] = True,
) -> None:
    """Run the engine: intake, delivery and the HTTP API, until SIGTERM or Ctrl-C."""
    from integrator.engine import Engine
    from integrator.runner import run_engine

    settings = _settings(service=True)
    if settings.search_key_is_development:
        from integrator.logging import get_logger

        get_logger("integrator.run").warning(
            "INTEGRATOR_SEARCH_KEY is not set: BSN hashes use the public development key; "
            "set a secret key of at least 16 characters in production"
        )
    try:
        _run(run_engine(Engine(settings), http=http))
    except IntegratorError as exc:
        _fail(f"the engine could not run: {exc}")


@app.command()
def demo() -> None:
    """Start the engine with local receivers, submit the sample events, show what arrived."""
    from integrator.demo import run_demo

    configure_logging(level="warning")
    raise typer.Exit(_run(run_demo(console)))


# -- submit ---------------------------------------------------------------------------------
@app.command()
def submit(
    files: Annotated[
        list[Path],
        typer.Argument(help="Event JSON files.", exists=True, dir_okay=False, readable=True),
    ],
    as_json: JsonOption = False,
) -> None:
    """Validate and submit events; prints the event id and message ids (exit 2 on bad input)."""
    from integrator.submit import engine_running, read_files, submit_to_store, submit_via_http

    settings = _settings()
    contents = read_files(files)

    async def go() -> tuple[bool, list[Any]]:
        if await engine_running(settings):
            return True, await submit_via_http(settings, contents)
        return False, await submit_to_store(settings, contents)

    try:
        live, outcomes = _run(go())
    except Exception as exc:
        _fail(f"submit failed: {type(exc).__name__}: {exc}")
    if as_json:
        _print_json([o.to_json() for o in outcomes])
    else:
        where = "the running engine" if live else "the store (sent when the engine runs)"
        console.print(f"Submitted to {where}:")
        for outcome in outcomes:
            data = outcome.to_json()
            if data["accepted"]:
                dup = " [yellow](duplicate: accepted before)[/]" if data["duplicate"] else ""
                console.print(
                    f"[green]✓[/] {data['file']}: event {data['event_id']} "
                    f"({data['zd_number']}){dup}"
                )
                for m in data["messages"]:
                    console.print(
                        f"    message {m['message_id']} → {m['destination']} "
                        f"{m['version']} MSH-10 {m['control_id']} \\[{m['status']}]"
                    )
                for warning in data["warnings"]:
                    console.print(f"    [yellow]warning:[/] {escape(warning)}")
            else:
                console.print(
                    f"[red]✗[/] {data['file']}: refused "
                    f"(kept as rejected event {data['rejected_id']})"
                )
                for e in data["errors"]:
                    console.print(f"    {e['path']}: {e['message']} \\[{e['rule']}]")
    if any(not o.to_json()["accepted"] for o in outcomes):
        raise typer.Exit(2)


# -- receiver -------------------------------------------------------------------------------
@app.command()
def receiver(
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=0, max=65535)] = 2575,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    ack_code: Annotated[str, typer.Option("--ack", help="MSA-1 to answer with.")] = "AA",
    save: Annotated[Path | None, typer.Option(help="Save each message to this folder.")] = None,
    quiet: Annotated[bool, typer.Option(help="Print one line per message only.")] = False,
) -> None:
    """A test MLLP receiver that ACKs and prints (or saves) what it gets."""
    from destinations.receiver import MllpReceiver
    from integrator.hl7view import decode_message, segment_lines

    if ack_code not in {"AA", "AE", "AR", "CA", "CE", "CR"}:
        _fail("--ack must be one of AA AE AR CA CE CR", 2)

    def show(data: bytes) -> None:
        lines = segment_lines(decode_message(data))
        if quiet:
            console.print(lines[0] if lines else "(empty message)")
            return
        console.rule()
        for line in lines:
            console.print(line)

    async def serve() -> None:
        server = MllpReceiver(host, port, ack_code=ack_code, save_dir=save, on_message=show)
        bound = await server.start()
        console.print(f"Listening for MLLP on {host}:{bound}; answering {ack_code}. Ctrl-C stops.")
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        _run(serve())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror}")


# -- messages -------------------------------------------------------------------------------
@messages_app.command("list")
def messages_list(
    zd: Annotated[str | None, typer.Option("--zd", help="ZD number.")] = None,
    bsn: Annotated[
        str | None, typer.Option("--bsn", help="Patient BSN (looked up by its keyed hash).")
    ] = None,
    event_id: Annotated[str | None, typer.Option(help="Event id.")] = None,
    control_id: Annotated[str | None, typer.Option(help="MSH-10 control id.")] = None,
    destination: Annotated[str | None, typer.Option(help="Destination id.")] = None,
    status: Annotated[str | None, typer.Option(help="queued, delivered, retrying, dead…")] = None,
    version: Annotated[str | None, typer.Option(help="Message version.")] = None,
    event_type: Annotated[str | None, typer.Option(help="referral or diagnostic_request.")] = None,
    since: Annotated[str | None, typer.Option(help="From (ISO date or date-time).")] = None,
    until: Annotated[str | None, typer.Option(help="Until (a date includes that day).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    as_json: JsonOption = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV for reports (identifiers only, no BSN).")
    ] = False,
) -> None:
    """List messages, newest first. Filters combine (AND)."""
    from integrator.presenters import message_summary
    from integrator.search import BadSearch, build_filter, to_csv
    from integrator.store import MessageRecord, Store

    settings = _settings()
    try:
        flt = build_filter(
            settings,
            zd_number=zd,
            bsn=bsn,
            event_id=event_id,
            control_id=control_id,
            destination=destination,
            status=status,
            version=version,
            event_type=event_type,
            since=since,
            until=until,
        )
    except BadSearch as exc:
        _fail(str(exc), 2)

    async def go() -> list[MessageRecord]:
        store = await Store.open(settings.database_url)
        try:
            return await store.list_messages(flt, limit=limit)
        finally:
            await store.close()

    found = _run(go())
    if as_csv:
        sys.stdout.write(to_csv(found))
        return
    rows = [message_summary(m) for m in found]
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"Messages ({len(rows)} shown)")
    for column in (
        "id",
        "ZD number",
        "destination",
        "version",
        "MSH-10",
        "status",
        "attempts",
        "updated",
        "resend of",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["id"],
            r["zd_number"],
            r["destination"],
            r["version"],
            r["control_id"],
            r["status"],
            str(r["attempts"]),
            r["updated_at"][:19],
            r["resend_of"] or "",
        )
    console.print(table)


@messages_app.command("show")
def messages_show(
    message_id: Annotated[str, typer.Argument(help="Message id.")],
    as_json: JsonOption = False,
) -> None:
    """Show one message: summary, the HL7 as segments, every attempt and ACK."""
    from integrator.hl7view import field_rows
    from integrator.presenters import message_detail
    from integrator.store import Store

    settings = _settings()

    async def go() -> dict[str, Any] | None:
        store = await Store.open(settings.database_url)
        try:
            message = await store.get_message(message_id)
            if message is None:
                return None
            origin, resends = await store.list_resends(message_id)
            return message_detail(
                message,
                await store.list_attempts(message_id),
                event=await store.get_event(message.event_id),
                origin=origin,
                resends=resends,
            )
        finally:
            await store.close()

    detail = _run(go())
    if detail is None:
        _fail(f"no message with id {message_id}", 2)
    if as_json:
        _print_json(detail)
        return
    summary = Table(show_header=False, title=f"Message {detail['id']}")
    for key in (
        "zd_number",
        "event_id",
        "event_type",
        "destination",
        "version",
        "message_type",
        "control_id",
        "status",
        "attempts",
        "created_at",
        "updated_at",
        "next_attempt_at",
        "last_error",
    ):
        summary.add_row(key, str(detail[key]) if detail[key] is not None else "-")
    for warning in detail["warnings"]:
        summary.add_row("warning", warning)
    console.print(summary)
    if detail["event"] is not None:
        event = Table(show_header=False, title="Event")
        for key in ("type", "action", "zd_number", "provider", "patient_name", "patient_bsn"):
            event.add_row(key, str(detail["event"][key] or "-"))
        event.add_row("received_at", detail["event"]["received_at"][:19])
        console.print(event)
    fields = Table(title="HL7 fields")
    fields.add_column("field")
    fields.add_column("value")
    for position, value in field_rows(detail["hl7"]):
        fields.add_row(position, value)
    console.print(fields)
    attempts = attempts_table(detail["attempt_history"])
    console.print(attempts)
    _print_resends(detail)


def _print_resends(detail: dict[str, Any]) -> None:
    origin = detail["resent_from"]
    if origin is not None:
        console.print(
            f"This message resends {origin['original_id']} ({origin['mode']}), "
            f"by {origin['actor']} at {origin['at'][:19]}: {origin['reason']}"
        )
    if not detail["resends"]:
        console.print("Resends: none")
        return
    table = Table(title="Resends of this message")
    for column in ("message", "at", "by", "mode", "destination", "MSH-10", "status", "reason"):
        table.add_column(column)
    for r in detail["resends"]:
        table.add_row(
            r["message_id"],
            r["at"][:19],
            r["actor"],
            r["mode"],
            r["destination"],
            r["control_id"],
            r["status"],
            r["reason"],
        )
    console.print(table)


# -- versions -------------------------------------------------------------------------------
@app.command()
def versions(
    usage: Annotated[
        bool, typer.Option("--usage", help="The deprecation report: who must move, by when.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The message-version registry: status today, sunset, successor, destinations using it."""
    from integrator.operators import DestinationAdmin
    from integrator.presenters import deprecation_report, versions_table
    from integrator.store import Store

    settings = _settings()
    clock = SystemClock()
    today = clock.now().astimezone(settings.zone).date()

    async def load() -> Catalog:
        store = await Store.open(settings.database_url)
        try:
            admin = DestinationAdmin(
                store=store, settings=settings, today=lambda: today, now=clock.now
            )
            return await admin.catalog()
        finally:
            await store.close()

    catalog = _run(load())
    if usage:
        report = deprecation_report(today, catalog)
        if as_json:
            _print_json(report)
            return
        table = Table(title=f"Destinations on deprecated or retired versions, {today}")
        for column in (
            "destination",
            "event",
            "version",
            "status",
            "sunset",
            "days left",
            "successor",
            "auto_upgrade",
        ):
            table.add_column(column)
        for r in report:
            colour = "red" if r["status"] == "retired" or r["days_left"] < 30 else "yellow"
            table.add_row(
                r["destination"],
                r["event_type"],
                r["version"],
                f"[{colour}]{r['status']}[/]",
                r["sunset"],
                str(r["days_left"]),
                r["successor"] or "-",
                "yes" if r["auto_upgrade"] else "no",
            )
        console.print(table if report else "No destination uses a deprecated or retired version.")
        return
    rows = versions_table(today, catalog)
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"Message versions on {today}")
    for column in (
        "version",
        "event",
        "HL7",
        "message",
        "charset",
        "status",
        "sunset",
        "successor",
        "destinations",
    ):
        table.add_column(column)
    styles = {"current": "green", "deprecated": "yellow", "retired": "red"}
    for r in rows:
        table.add_row(
            r["name"],
            r["event_type"],
            r["hl7_version"],
            r["message_type"],
            r["charset"],
            f"[{styles[r['status']]}]{r['status']}[/]",
            r["sunset"] or "-",
            r["successor"] or "-",
            ", ".join(r["destinations"]) or "-",
        )
    console.print(table)
    for warning in catalog.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}")
    for error in catalog.errors:
        err_console.print(f"[red]refused:[/] {escape(str(error))}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
