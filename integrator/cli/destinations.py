"""``integrator destinations …``: operators add, change, pause, test destinations (product.md §6).

Every change goes through ``integrator.operators.DestinationAdmin``: validated like the engine
would, written to the destination file, recorded as a revision. A running engine notices the
file within a second. Exit codes: 0 ok, 2 bad input (a rule broken, unknown id), 1 other.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from destinations.config import dump_destination
from integrator.cli.common import (
    JsonOption,
    console,
    err_console,
    fail,
    local_actor,
    print_json,
    with_admin,
)
from integrator.operators import Change, DestinationAdmin

destinations_app = typer.Typer(
    help="Per-provider destinations: list, add, change, pause, test, history.",
    no_args_is_help=True,
)

ReasonOption = Annotated[str | None, typer.Option(help="Why; kept in the history.")]


def _report(change: Change, as_json: bool) -> None:

    if as_json:
        print_json(
            {
                "destination": change.destination_id,
                "action": change.action,
                "revision": change.revision,
                "warnings": list(change.warnings),
                "diff": change.diff,
            }
        )
        return
    console.print(
        f"[green]✓[/] {change.destination_id}: {change.action} (revision {change.revision})"
    )
    if change.diff:
        console.print(change.diff.rstrip("\n"), soft_wrap=True, markup=False)
    for warning in change.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}")


@destinations_app.command("list")
def list_destinations(as_json: JsonOption = False) -> None:
    """Every destination with its address, versions and message counts."""

    rows: list[dict[str, Any]] = with_admin(lambda admin: admin.summaries())
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Destinations ({len(rows)})")
    for column in (
        "id",
        "name",
        "address",
        "versions",
        "enabled",
        "queued",
        "retrying",
        "held",
        "dead",
        "delivered",
    ):
        table.add_column(column)
    for r in rows:
        c = r["counts"]
        table.add_row(
            r["id"],
            r["name"],
            r["address"],
            ", ".join(f"{k}={v}" for k, v in r["messages"].items()),
            "yes" if r["enabled"] else "[yellow]paused[/]",
            str(c["queued"]),
            str(c["retrying"]),
            str(c["held"]),
            str(c["dead"]),
            str(c["delivered"]),
        )
    console.print(table)


@destinations_app.command("show")
def show(destination_id: str, as_json: JsonOption = False) -> None:
    """One destination's definition, as its file says."""

    async def go(admin: DestinationAdmin) -> tuple[str, str]:
        config, source = await admin.get(destination_id)
        return dump_destination(config), source

    text, source = with_admin(go)
    if as_json:
        import yaml

        print_json({"file": source, "definition": yaml.safe_load(text)})
        return
    console.print(f"[dim]# {source}[/]")
    console.print(text.rstrip("\n"), soft_wrap=True, markup=False)


@destinations_app.command("add")
def add(
    file: Annotated[str, typer.Argument(help="A destination YAML file, or - for stdin.")],
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a destination from a YAML definition (docs/product.md §5.1)."""

    if file == "-":
        text = sys.stdin.read()
    else:
        path = Path(file)
        if not path.is_file():
            fail(f"{file}: no such file", 2)
        text = path.read_text(encoding="utf-8")
    change = with_admin(lambda admin: admin.add(text, actor=local_actor(), reason=reason))
    _report(change, as_json)


@destinations_app.command("update")
def update(
    destination_id: str,
    assignments: Annotated[
        list[str],
        typer.Option("--set", help="KEY=VALUE, e.g. port=2576 or retry.max_attempts=5."),
    ],
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change keys of a destination; applies to the next attempt."""
    change = with_admin(
        lambda admin: admin.update(destination_id, assignments, actor=local_actor(), reason=reason)
    )
    _report(change, as_json)


@destinations_app.command("pause")
def pause(
    destination_id: str,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stop delivering; messages stay queued."""
    change = with_admin(
        lambda admin: admin.set_enabled(destination_id, False, actor=local_actor(), reason=reason)
    )
    _report(change, as_json)


@destinations_app.command("resume")
def resume(
    destination_id: str,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deliver again, starting with what queued up."""
    change = with_admin(
        lambda admin: admin.set_enabled(destination_id, True, actor=local_actor(), reason=reason)
    )
    _report(change, as_json)


@destinations_app.command("remove")
def remove(
    destination_id: str,
    force: Annotated[bool, typer.Option(help="Dead-letter messages still waiting.")] = False,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a destination; refused while messages wait, unless --force."""
    change = with_admin(
        lambda admin: admin.remove(destination_id, actor=local_actor(), force=force, reason=reason)
    )
    _report(change, as_json)


@destinations_app.command("rollback")
def rollback(
    destination_id: str,
    revision: Annotated[int, typer.Argument(help="The revision to go back to (see history).")],
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restore an earlier revision of a destination."""
    change = with_admin(
        lambda admin: admin.rollback(destination_id, revision, actor=local_actor(), reason=reason)
    )
    _report(change, as_json)


@destinations_app.command("history")
def history(destination_id: str, as_json: JsonOption = False) -> None:
    """Every change: revision, when, who, what, why, and the diff."""

    rows = with_admin(lambda admin: admin.history(destination_id))
    if as_json:
        print_json(rows)
        return
    for r in rows:
        why = f" — {r['reason']}" if r["reason"] else ""
        console.rule(
            f"revision {r['revision']}: {r['action']} by {r['actor']} at {r['at'][:19]}{why}",
            align="left",
        )
        if r["diff"]:
            console.print(r["diff"].rstrip("\n"), soft_wrap=True, markup=False)


@destinations_app.command("test")
def send_test(
    destination_id: str,
    event_type: Annotated[
        str | None, typer.Option(help="referral or diagnostic_request (default: the first).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send one test message (MSH-11 T) and show the ACK and the round-trip time."""

    result = with_admin(lambda admin: admin.test(destination_id, event_type))
    if as_json:
        print_json(result.__dict__)
    else:
        colour = "green" if result.outcome == "delivered" else "red"
        console.print(
            f"{destination_id}: {result.version} test message {result.control_id} → "
            f"[{colour}]{result.outcome}[/] in {result.round_trip_ms:.1f} ms"
            + (f", ACK {result.ack_code}" if result.ack_code else "")
        )
        if result.ack:
            for segment in result.ack.replace("\n", "\r").split("\r"):
                if segment:
                    console.print(f"  {segment}", markup=False, soft_wrap=True)
        if result.error:
            console.print(f"  {result.error}", markup=False)
    if result.outcome != "delivered":
        raise typer.Exit(1)
