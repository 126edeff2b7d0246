"""``integrator versions``: the version registry and the deprecation report.

It only reads: it never creates a store (``with_admin(read_only=True)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from integrator.cli.common import (
    JsonOption,
    console,
    err_console,
    load_settings,
    print_json,
    with_admin,
)
from integrator.cli.shown import shown_lines

if TYPE_CHECKING:
    from integrator.catalog import Catalog


def versions(
    usage: Annotated[
        bool, typer.Option("--usage", help="The deprecation report: who must move, by when.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The message-version registry: status today, sunset, successor, destinations using it."""
    from integrator.clock import SystemClock
    from integrator.presenters import deprecation_report, versions_table

    settings = load_settings()
    today = SystemClock().now().astimezone(settings.zone).date()
    catalog: Catalog = with_admin(lambda admin: admin.catalog(), settings, read_only=True)
    if usage:
        report = deprecation_report(today, catalog)
        if as_json:
            print_json(report)
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
        print_json(rows)
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
        err_console.print(f"[yellow]warning:[/] {shown_lines(warning)}")
    for error in catalog.errors:
        err_console.print(f"[red]refused:[/] {shown_lines(str(error))}")
