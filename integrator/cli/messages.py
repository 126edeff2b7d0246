"""``integrator messages list|show``: browse messages, attempts and ACKs."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from integrator.cli.common import JsonOption, console, fail, load_settings, print_json, run
from integrator.cli.views import attempts_table

messages_app = typer.Typer(help="Browse messages, their attempts and ACKs.", no_args_is_help=True)


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

    settings = load_settings()
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
        fail(str(exc), 2)

    async def go() -> list[MessageRecord]:
        store = await Store.open(settings.database_url)
        try:
            return await store.list_messages(flt, limit=limit)
        finally:
            await store.close()

    found = run(go())
    if as_csv:
        sys.stdout.write(to_csv(found))
        return
    rows = [message_summary(m) for m in found]
    if as_json:
        print_json(rows)
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

    settings = load_settings()

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

    detail = run(go())
    if detail is None:
        fail(f"no message with id {message_id}", 2)
    if as_json:
        print_json(detail)
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
