"""``integrator rejected list|show``: input that failed validation, kept for support.

``submit`` and the API answer ``kept as rejected event <id>``; over RabbitMQ the id is in the
engine's log. ``list`` shows when, from where and whom (``caller``), how large and which rules
were broken (no byte of the body); ``show`` prints the body as it arrived, which may hold
patient data, so it goes through ``integrator.rejected_reads``, which records the view in the
audit log as ``local:<user>`` before anything is printed. The rules live there, as for events
and messages.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Annotated, Any

import typer
from rich.table import Table

from integrator.cli.bsn_input import bsn_help, given_bsn
from integrator.cli.common import (
    JsonOption,
    Shown,
    console,
    fail,
    load_settings,
    local_identity,
    option_rule,
    print_json,
    resolve_rejected_id,
    say_shown,
    with_store,
)
from integrator.cli.shown import shown, shown_lines
from integrator.cli.views import ACTOR_MIN, Column, fitted_table, short_ids
from integrator.cli.why import WhyOption, why_stated
from integrator.period_words import since_help, until_help
from integrator.presenters import iso_time, shown_time

rejected_app = typer.Typer(
    help="Input that failed validation, kept as it arrived: list, show.", no_args_is_help=True
)


@rejected_app.command("list")
def rejected_list(
    since: Annotated[str | None, typer.Option(help=since_help("Received"))] = None,
    until: Annotated[str | None, typer.Option(help=until_help("Received"))] = None,
    source: Annotated[
        str | None, typer.Option(help="Arrived over http, cli, amqp or demo.")
    ] = None,
    zd: Annotated[
        str | None,
        typer.Option(
            "--zd", help="ZD number, as far as it could be read (any case, spaces allowed)."
        ),
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="Intake provider.id, as far as it could be read.")
    ] = None,
    bsn: Annotated[
        str | None,
        typer.Option(
            "--bsn",
            help=bsn_help("Patient BSN, spaces or dots allowed (looked up by its keyed hash)"),
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="At most this many (newest first).")
    ] = 50,
    as_json: JsonOption = False,
    reason: WhyOption = None,
) -> None:
    """List rejected input, newest first: when, from where, who sent it, its ZD number, size
    and the rules it broke.

    The caller is who sent it as the engine knew it: an API token as token:NAME, this
    command line's submit as local:USER, RabbitMQ as amqp; "-" for input kept before it was
    recorded. It is shown as the terminal's width allows; --json always has it.

    Filters combine (AND). --zd, --provider and --bsn find what could be read from the input
    although it broke a rule. A search by --bsn is recorded in the audit log
    (patient_data.view) before it is shown. The table's title says how many match in all;
    with --json, stdout stays the list and a cut listing is said on stderr.
    """
    from integrator.rejected_reads import RejectedListing, build_rejected_filter, find_rejected
    from integrator.search import BadSearch, misplaced_bsn
    from integrator.store import Store

    settings = load_settings()
    bsn = given_bsn(bsn)
    terms = {
        "since": since,
        "until": until,
        "source": source,
        "zd_number": zd,
        "provider": provider,
        "bsn": bsn,
    }
    # A BSN typed as the provider: refused as the API and the console refuse it, never echoed.
    if (pasted := misplaced_bsn({"provider": provider})) is not None:
        fail(option_rule(pasted), 2)
    try:  # before the store is opened: a typo is told at once, whichever store is configured
        build_rejected_filter(settings, **terms)
    except BadSearch as exc:
        fail(option_rule(exc), 2)  # the option as typed here

    async def action(store: Store) -> tuple[RejectedListing, int]:
        listing = await find_rejected(store, settings, local_identity(), limit=limit, **terms)
        # Short ids that name one piece of rejected input in the store, not only among the
        # rows shown (``rejected show`` takes them back).
        shown_ids = [r["id"] for r in listing.rows]
        unique = 0 if as_json else await store.unique_prefix_length("rejected", shown_ids)
        return listing, unique

    with why_stated(reason, settings):
        listing, unique = with_store(action, settings, read_only=True)
    found = listing.rows
    shown = Shown(len(found), total=listing.total)
    say_shown(shown)
    if as_json:
        print_json([{**r, "received_at": iso_time(r["received_at"], settings.zone)} for r in found])
        return
    title = f"Rejected input ({shown})"
    console.print(_table(found, title, zone=settings.zone, width=console.width, unique=unique))


def _table(
    rows: list[dict[str, Any]], title: str, *, zone: tzinfo, width: int, unique: int = 0
) -> Table:
    """Rejected input as a table that fits the terminal: ids (shortened, as ``show`` takes
    them back: at least ``unique`` characters, which tell each apart from all rejected input
    in the store), times and ZD numbers whole, the broken rules wrapping; the caller as the
    width allows, wrapping like the audit listing's actor (``--json`` always has it)."""
    short = short_ids((r["id"] for r in rows), at_least=unique)
    columns = {
        "id": Column("id", lambda r: short[r["id"]]),
        "received": Column("received", lambda r: shown_time(r["received_at"], zone)),
        "zd": Column("ZD number", lambda r: shown(r["zd_number"] or "-")),
        "source": Column("source", lambda r: shown(r["source"])),
        "caller": Column(
            "caller", lambda r: shown(r["caller"] or "-"), free_text=True, least=ACTOR_MIN
        ),
        "bytes": Column("bytes", lambda r: str(r["bytes"]), "right"),
        "rules": Column("broken rules", lambda r: shown("; ".join(r["problems"])), free_text=True),
    }
    return fitted_table(
        rows,
        columns,
        always=("id", "received", "zd", "source", "bytes", "rules"),
        optional=("caller",),
        width=width,
        title=title,
    )


@rejected_app.command("show")
def rejected_show(
    rejected_id: Annotated[str, typer.Argument(help="Its id, or a start of it (4 or more).")],
    as_json: JsonOption = False,
    reason: WhyOption = None,
) -> None:
    """Show one piece of rejected input: its ZD number and provider (as far as they could be
    read), who sent it, every broken rule, and the body as it arrived.

    Recorded in the audit log (patient_data.view) before it is shown: it may hold patient data.
    """
    from integrator.cli.badid import BadId
    from integrator.rejected_reads import GONE_AFTER_RETENTION, read_rejected
    from integrator.store import Store

    settings = load_settings()

    async def action(store: Store) -> dict[str, Any] | None:
        try:
            full_id = await resolve_rejected_id(store, rejected_id)
        except BadId as exc:
            if not exc.unknown:  # too short, or several: the id is the problem
                raise
            raise BadId(f"{exc}; {GONE_AFTER_RETENTION}", unknown=True) from None
        return await read_rejected(store, local_identity(), full_id)

    with why_stated(reason, settings):
        detail = with_store(action, settings, read_only=True)
    if detail is None:
        fail(f"no rejected input with id {rejected_id}; {GONE_AFTER_RETENTION}", 2)
    if as_json:
        print_json({**detail, "received_at": iso_time(detail["received_at"], settings.zone)})
        return
    summary = Table(show_header=False, title=f"Rejected input {detail['id']}")
    summary.add_row("received", shown_time(detail["received_at"], settings.zone))
    summary.add_row("ZD number", shown(detail["zd_number"] or "-"))
    summary.add_row("provider", shown(detail["provider_id"] or "-"))
    summary.add_row("source", shown(detail["source"]))
    summary.add_row("caller", shown(detail["caller"] or "-"))
    summary.add_row("bytes", str(detail["bytes"]))
    console.print(summary)
    rules = Table(title="Broken rules")
    for column in ("field", "rule", "message"):
        rules.add_column(column)
    for r in detail["reason"]:
        rules.add_row(
            shown(r.get("path") or "$"), shown(r.get("rule", "")), shown(r.get("message", ""))
        )
    console.print(rules)
    console.print("[bold]Body as it arrived:[/]")
    if not detail["bytes"]:
        # Refused unread (too large): the rule says why and how large it was.
        console.print("nothing kept: it was refused before it was read", highlight=False)
        return
    console.print(shown_lines(detail["body"]), soft_wrap=True, highlight=False)
