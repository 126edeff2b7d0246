"""``integrator deadletter list|show|resend|discard``: dead letters for support (product.md §6).

Exit codes as everywhere: 0 ok, 2 bad input (unknown id, not a dead letter, missing reason),
1 anything else. The shared helpers of ``integrator.cli`` are imported inside the commands,
because ``integrator.cli`` imports this module to register it.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from deadletter import DeadLetter
from integrator.cli.common import (
    JsonOption,
    console,
    fail,
    load_settings,
    local_actor,
    print_json,
    with_store,
)
from integrator.cli.views import attempts_table
from integrator.presenters import dead_letter_summary
from integrator.store import Store

deadletter_app = typer.Typer(
    help="Dead letters: messages the engine gave up on.", no_args_is_help=True
)


def _detail(letter: DeadLetter) -> dict[str, Any]:
    from integrator.presenters import attempt_view, dead_letter_summary

    detail = dead_letter_summary(letter)
    last_ack = letter.last_ack
    detail["last_ack"] = attempt_view(last_ack)["ack"] if last_ack is not None else None
    detail["attempt_history"] = [attempt_view(a) for a in letter.attempts]
    return detail


@deadletter_app.command("list")
def deadletter_list(
    destination: Annotated[str | None, typer.Option(help="Destination id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: JsonOption = False,
) -> None:
    """List dead letters, newest first, with the reason and the last ACK code."""
    from deadletter import list_dead_letters

    async def action(store: Store) -> list[dict[str, Any]]:
        letters = await list_dead_letters(store, destination_id=destination, limit=limit)
        return [dead_letter_summary(letter) for letter in letters]

    rows = with_store(action)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Dead letters ({len(rows)} shown)")
    for column in ("id", "destination", "ZD number", "MSH-10", "attempts", "ACK", "reason"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["id"],
            r["destination"],
            r["zd_number"],
            r["control_id"],
            str(r["attempts"]),
            r["last_ack_code"] or "-",
            r["reason"] or "",
        )
    console.print(table)


@deadletter_app.command("show")
def deadletter_show(
    message_id: Annotated[str, typer.Argument(help="Message id.")],
    as_json: JsonOption = False,
) -> None:
    """One dead letter: why it died, every attempt, and the last ACK as received."""
    from deadletter import get_dead_letter

    async def action(store: Store) -> dict[str, Any]:
        return _detail(await get_dead_letter(store, message_id))

    detail = with_store(action)
    if as_json:
        print_json(detail)
        return
    summary = Table(show_header=False, title=f"Dead letter {detail['id']}")
    for key in (
        "destination",
        "zd_number",
        "version",
        "control_id",
        "attempts",
        "reason",
        "last_ack_code",
        "created_at",
        "dead_since",
    ):
        value = detail[key]
        summary.add_row(key, str(value) if value is not None else "-")
    console.print(summary)
    attempts = attempts_table(detail["attempt_history"])
    console.print(attempts)
    if detail["last_ack"]:
        console.print("Last ACK:")
        console.print(detail["last_ack"].replace("\r", "\n"), markup=False)


@deadletter_app.command("discard")
def deadletter_discard(
    message_id: Annotated[str, typer.Argument(help="Message id.")],
    reason: Annotated[
        str | None, typer.Option(help="Why it is discarded (required; audited).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Close a dead letter as cancelled; its history stays, the audit log says who and why."""
    from deadletter import MissingReason, discard

    if reason is None or not reason.strip():
        fail(str(MissingReason()), 2)
    who = local_actor()

    async def action(store: Store) -> dict[str, Any]:
        letter = await discard(store, message_id, actor=who, reason=reason)
        return {"id": letter.message.id, "status": "cancelled", "actor": who, "reason": reason}

    result = with_store(action)
    if as_json:
        print_json(result)
        return
    console.print(f"Discarded {result['id']} (now cancelled), by {who}: {reason}")


@deadletter_app.command("resend")
def deadletter_resend(
    message_ids: Annotated[list[str] | None, typer.Argument(help="Dead letter ids.")] = None,
    all_dead: Annotated[bool, typer.Option("--all", help="Every dead letter.")] = False,
    destination: Annotated[
        str | None, typer.Option(help="Dead letters of one destination.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Why they are resent (required; audited).")
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="original (same bytes, default) or remap.")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Send to this destination instead.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show which.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Resend dead letters, singly or in bulk, as new linked messages; the dead ones stay dead.

    Say which: ids, ``--all`` or ``--destination`` (exit 2 otherwise).
    """
    from deadletter import NotADeadLetter
    from integrator.cli.resend import run_resend
    from integrator.store import MessageFilter, MessageRecord

    if not message_ids and not all_dead and destination is None:
        fail("say which dead letters: ids, --all or --destination", 2)
    flt = (
        MessageFilter(status="dead", destination_id=destination)
        if all_dead or destination is not None
        else None
    )

    def must_be_dead(message: MessageRecord) -> None:
        if message.status != "dead":
            raise NotADeadLetter(message.id, message.status)

    run_resend(
        load_settings(),
        message_ids or [],
        flt,
        reason=reason,
        mode=mode,
        to=to,
        dry_run=dry_run,
        as_json=as_json,
        check=must_be_dead,
    )
