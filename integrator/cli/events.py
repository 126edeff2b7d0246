"""``integrator events list|show|route``: events, also those no destination served, and routing
them once one does (docs/product.md §6; the rules are in ``integrator.events_routing``).

``route`` goes through the running engine's HTTP API when it answers (a job whose progress
drives the bar), and otherwise stores the messages as queued for the engine to send when it
starts, like ``integrator resend``. Exit codes: 0 ok (every selected event was routed, or would
be in a dry run), 2 bad input (no reason, no selection, an unknown id, a bad term), 1 anything
else, including a routing in which any event was skipped.

``show`` (the patient's name and BSN) and ``list --bsn`` are views of patient data: they go
through ``integrator.event_reads``, as the API does, which records them in the audit log as
``local:<user>`` before anything is printed. A listing holds no patient data and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import tzinfo
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from integrator.cli.bsn_input import bsn_help, given_bsn
from integrator.cli.common import (
    JsonOption,
    Shown,
    console,
    csv_shown,
    err_console,
    fail,
    first_rows,
    load_settings,
    local_actor,
    local_identity,
    no_store_said,
    option_rule,
    print_json,
    progress_bar,
    resolve_event_ids,
    run,
    said,
    say_shown,
    stream_csv,
    tell_rejected,
    with_store,
)
from integrator.cli.shown import shown
from integrator.cli.views import ACTOR_MIN, Column, fitted_table, messages_table, short_ids
from integrator.cli.why import WhyOption, why_stated
from integrator.counting import counted
from integrator.period_words import since_help, until_help
from integrator.presenters import shown_time
from integrator.reasons import MAX_REASON

T = TypeVar("T")

events_app = typer.Typer(
    help="Events, also those no destination serves yet, and routing them once one does.",
    no_args_is_help=True,
)

ZdOption = Annotated[str | None, typer.Option("--zd", help="ZD number.")]
ProviderOption = Annotated[str | None, typer.Option(help="Intake provider.id.")]
SinceOption = Annotated[str | None, typer.Option(help=since_help("Arrived"))]
UntilOption = Annotated[str | None, typer.Option(help=until_help("Arrived"))]


@events_app.command("list")
def events_list(
    zd: ZdOption = None,
    bsn: Annotated[
        str | None,
        typer.Option("--bsn", help=bsn_help("Patient BSN (looked up by its keyed hash)")),
    ] = None,
    provider: ProviderOption = None,
    event_type: Annotated[str | None, typer.Option(help="referral or diagnostic_request.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    unrouted: Annotated[
        bool,
        typer.Option(
            "--unrouted",
            help="Only events waiting to be routed: no message made of them, not pruned.",
        ),
    ] = False,
    never_routed: Annotated[
        bool,
        typer.Option(
            "--never-routed",
            help="Only events pruned before any message was made of them: their ZD numbers "
            "are what to ask upstream to send again.",
        ),
    ] = False,
    caller: Annotated[
        str | None,
        typer.Option(
            "--caller",
            help="Who sent them: token:NAME (an API token), local:USER (this CLI), amqp or demo.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="At most this many events (newest first).")
    ] = 50,
    as_json: JsonOption = False,
    reason: WhyOption = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV for reports (identifiers only, no BSN).")
    ] = False,
) -> None:
    """List events, newest first, with how many messages each has. Filters combine (AND).

    --caller finds every event one sender brought in: all a leaked intake token sent
    (--caller token:NAME), with --since to bound the search.

    A search by --bsn is recorded in the audit log (patient_data.view) before it is shown; a
    --csv export is recorded as events.export before it is written.
    """
    from integrator.event_reads import events_total, find_events
    from integrator.events_routing import (
        EventsRefused,
        build_event_filter,
        listed_event_view,
        never_routed_filter,
        unknown_provider,
    )
    from integrator.listing_totals import Total
    from integrator.rejected_reads import rejected_for_zd
    from integrator.search import misplaced_bsn
    from integrator.store import Store

    if as_json and as_csv:
        fail("--json and --csv: choose one", 2)
    settings = load_settings()
    bsn = given_bsn(bsn)
    terms = {
        "zd_number": zd,
        "bsn": bsn,
        "provider": provider,
        "event_type": event_type,
        "since": since,
        "until": until,
        "unrouted": unrouted or None,
        "never_routed": never_routed or None,
        "caller": caller,
    }
    # A BSN typed as the provider is refused as the API and the console refuse it, never
    # echoed: it belongs in --bsn, where it is hashed and the search audited.
    if (pasted := misplaced_bsn({"provider": provider, "caller": caller})) is not None:
        fail(option_rule(pasted), 2)
    try:
        flt = build_event_filter(
            settings,
            zd_number=zd,
            bsn=bsn,
            provider=provider,
            event_type=event_type,
            since=since,
            until=until,
            unrouted=unrouted,
            caller=caller,
        )
        if never_routed:
            flt = never_routed_filter(flt)
    except EventsRefused as exc:
        fail(exc.for_cli(), 2)

    if as_csv:  # audited before a row is written, then written a page at a time

        async def export(store: Store) -> None:
            from integrator.export_stream import Planned, event_pages
            from integrator.exports import EVENT_CSV_COLUMNS

            async def count(at_most: int) -> int:
                return await store.count_events(flt, at_most=at_most)

            written = await csv_shown(count, limit)
            # On stderr, as the table and --json say it: stdout stays pure CSV.
            say_shown(written)
            pages = event_pages(store, flt, settings.zone)
            planned = Planned("events", EVENT_CSV_COLUMNS, written.count, pages)
            await stream_csv(store, planned, terms=terms, bsn_hash=flt.bsn_hash, limit=limit)

        with why_stated(reason, settings):
            with_store(export, settings, read_only=True)
        return

    async def action(
        store: Store,
    ) -> tuple[list[dict[str, Any]], int | None, Total | None, int]:
        found = await find_events(store, local_identity(), flt, limit=limit, one_more=True)
        # Short ids that name one event in the store, not only among the rows shown.
        unique = 0 if as_json else await store.unique_prefix_length("event", [e.id for e in found])
        # Cut by --limit: of how many ("N of M", as `messages list` says it), counted only then
        # and no further than ``listing_totals`` counts.
        cut = len(found) > limit
        total = await events_total(store, flt, offset=0, shown=limit, more=True) if cut else None
        if not found:  # a provider is an open set: not refused, but an unknown one is said
            served = await unknown_provider(store, settings, flt.provider_id)
            if served is not None:
                err_console.print(
                    "no events of that provider (--provider), and no destination serves it; "
                    f"providers served: {shown(', '.join(served) or 'none')}",
                    soft_wrap=True,
                )
        rows = [listed_event_view(e, settings.zone) for e in found]
        if rows or flt.zd_number is None:
            return rows, None, total, unique
        # Nothing by that ZD number: did intake refuse it? One count on an index.
        refused = await rejected_for_zd(store, local_identity(), flt.zd_number)
        return rows, refused, total, unique

    with why_stated(reason, settings):
        every, refused, total, unique = with_store(action, settings, read_only=True)
    rows, listed = first_rows(every, limit)
    if total is not None:
        listed = Shown(len(rows), total=total.count, beyond=total.beyond)
    say_shown(listed)
    if flt.zd_number is not None:
        tell_rejected("no events", flt.zd_number, refused)
    if as_json:
        print_json(rows)
        return
    title = f"Events ({listed})"
    console.print(_table(rows, title, zone=settings.zone, width=console.width, unique=unique))


def _table(
    rows: list[dict[str, Any]], title: str, *, zone: tzinfo, width: int, unique: int = 0
) -> Table:
    """Events as a table that fits the terminal: ids (shortened as ``events show`` and
    ``events route`` take them back, to at least ``unique`` characters: unique in the store),
    ZD numbers, providers and times whole; the event's type and action as the width allows."""
    short = short_ids((r["id"] for r in rows), at_least=unique)
    columns = {
        "id": Column("id", lambda r: short[r["id"]]),
        "zd": Column("ZD number", lambda r: shown(r["zd_number"])),
        "type": Column("type", lambda r: shown(r["type"])),
        "action": Column("action", lambda r: shown(r["action"])),
        "provider": Column("provider", lambda r: shown(r["provider_id"])),
        "received": Column("received", lambda r: shown_time(r["received_at"], zone)),
        "messages": Column(
            "messages",
            lambda r: (
                "[yellow]none: unrouted[/]"
                if r["unrouted"]
                else "[red]none: pruned[/]"
                if not r["messages"] and r["pruned_at"]
                else str(r["messages"])
            ),
        ),
        "caller": Column(
            "caller", lambda r: shown(r["caller"] or "-"), free_text=True, least=ACTOR_MIN
        ),
    }
    return fitted_table(
        rows,
        columns,
        always=("id", "zd", "provider", "received", "messages"),
        optional=("action", "type", "caller"),
        width=width,
        title=title,
    )


@events_app.command("show")
def events_show(
    event_id: Annotated[str, typer.Argument(help="Event id.")],
    as_json: JsonOption = False,
    reason: WhyOption = None,
) -> None:
    """Show one event: its summary (patient included), its messages and how it was routed.

    Recorded in the audit log (patient_data.view) before it is shown: it holds patient data.
    """
    from integrator.event_reads import read_event
    from integrator.store import Store

    settings = load_settings()

    async def action(store: Store) -> dict[str, Any] | None:
        [full_id] = await resolve_event_ids(store, [event_id])
        return await read_event(store, local_identity(), full_id, zone=settings.zone)

    with why_stated(reason, settings):
        detail = with_store(action, settings, read_only=True)
    if detail is None:
        fail(f"no event with id {event_id}" if _looks_like_id(event_id) else "no such event", 2)
    if as_json:
        print_json(detail)
        return
    summary = Table(show_header=False, title=f"Event {detail['id']}")
    for key in (
        "type",
        "action",
        "zd_number",
        "provider",
        "provider_id",
        "patient_name",
        "patient_bsn",
        "source",
        "caller",
    ):
        summary.add_row(key, shown(str(detail[key] or "-")))
    summary.add_row("received_at", shown_time(detail["received_at"], settings.zone))
    if detail["pruned_at"] is not None:
        summary.add_row("payload pruned on", shown_time(detail["pruned_at"], settings.zone))
    console.print(summary)
    for warning in detail["zd_warnings"]:
        console.print(f"[yellow]Warning:[/] {shown(warning)}")
    if detail["unrouted"]:
        console.print(
            f"[yellow]Unrouted:[/] no message was made of it. Once a destination serves provider "
            f"{shown(detail['provider_id'])}, send it with: integrator events route "
            f'{detail["id"]} --reason "..."'
        )
    elif detail["pruned_at"] is not None and not detail["messages"]:
        console.print(
            "[yellow]Never routed:[/] no destination served its provider within "
            "INTEGRATOR_RETAIN_UNROUTED_DAYS, and its content was pruned; only the platform "
            "sending the event again, under a new event id, brings it back."
        )
    else:
        # As messages list shows them: short ids (taken back as a prefix), no time cut.
        table = messages_table(
            detail["messages"], width=console.width, zone=settings.zone, title="Messages"
        )
        console.print(table)
    for entry in detail["routings"]:
        made = ", ".join(m["destination"] for m in entry["details"].get("messages", []))
        at = shown_time(entry["at"], settings.zone)
        console.print(
            f"Routed to {shown(made)} by {shown(entry['actor'])} at {at}: "
            f"{shown(entry['reason'] or '')}"
        )


@events_app.command("route")
def events_route(
    event_ids: Annotated[list[str] | None, typer.Argument(help="Event ids.")] = None,
    provider: Annotated[
        str | None, typer.Option(help="Route this provider's unrouted events (instead of ids).")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help=f"Why (required; goes into the audit log; at most {MAX_REASON} characters).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be routed; change nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Map and queue events for the destinations that serve them now; audited.

    Named events get a message for each serving destination that has none of them yet;
    --provider takes that provider's unrouted events. Nothing is ever sent twice.
    """
    import dataclasses

    from integrator.events_routing import (
        RouteRequest,
        route_in_store,
        route_report,
        route_via_http,
        select_events,
    )
    from integrator.presence import engine_way
    from integrator.store_for import open_store_there

    settings = load_settings()
    request = RouteRequest(
        reason=reason or "",
        actor=local_actor(),
        event_ids=tuple(event_ids or ()),
        provider=provider,
        since=since,
        until=until,
        dry_run=dry_run,
    )

    async def go() -> dict[str, Any]:
        checked = request.checked(settings)  # exit 2 before the store is even opened
        store = await open_store_there(settings)  # never a new, empty one
        try:
            if checked.event_ids:  # one that names a message instead is told so, and its event
                full = await resolve_event_ids(store, checked.event_ids, option="EVENT_ID")
                checked = dataclasses.replace(checked, event_ids=tuple(full))
            selected = await select_events(store, settings, checked)
            if not selected:
                return route_report([], checked, via="store")
            live = await engine_way(settings, store)
            with progress_bar(
                len(selected), quiet=as_json or len(selected) < 2, label="routing"
            ) as advance:
                if live:
                    answer = await route_via_http(settings, selected, checked, progress=advance)
                    results = answer.results
                    checked = dataclasses.replace(checked, actor=answer.actor)
                else:
                    done = await route_in_store(
                        settings, store, selected, checked, progress=advance
                    )
                    results = [r.to_json() for r in done]
            return route_report(results, checked, via="engine" if live else "store")
        finally:
            await store.close()

    report = _guarded(go)
    _print_report(report, as_json=as_json, provider=provider)
    if report["skipped"]:
        raise typer.Exit(1)


def _print_report(report: dict[str, Any], *, as_json: bool, provider: str | None) -> None:
    if as_json:
        print_json(report)
        return
    total = report["total"]
    if total == 0:
        what = f"for provider {provider}" if provider else "selected"
        console.print(f"No unrouted events {shown(what)}: nothing to route.")
        return
    routed = report["routed"]
    where = "the store (sent when the engine runs)"
    if report["via"] == "engine":
        where = "the running engine"
    actor = shown(report["actor"])
    of_total = counted(total, "event")
    if report["dry_run"]:
        console.print(
            f"Dry run: {len(routed)} of {of_total} would be routed via {where}, as {actor}:"
        )
    elif not routed:  # said as the console heads it: "Routed 0 of 1" read as done
        console.print(f"Nothing routed: 0 of {of_total}, via {where}, as {actor}:")
    else:
        console.print(f"Routed {len(routed)} of {of_total} via {where}, as {actor}:")
    mark = "  would route" if report["dry_run"] else "[green]✓[/]"
    for r in routed:
        for m in r["messages"]:
            status = m["status"] if not report["dry_run"] else f"would be {m['status']}"
            line = (
                f"{mark} {r['event_id']}  {r['zd_number']}  {r['action']} → "
                f"{shown(m['destination'])} ({m['version']}, {status}"
            )
            line += f", message {m['message_id']})" if not report["dry_run"] else ")"
            console.print(line)
            for warning in m["warnings"]:
                console.print(f"    [yellow]note:[/] {shown(warning)}")
        if r["note"]:
            console.print(f"    [yellow]note:[/] {shown(r['note'])}")
    label = "would skip" if report["dry_run"] else "skipped"
    for r in report["skipped"]:
        console.print(f"[yellow]{label}[/] {r['event_id']}  {r['zd_number']}: {shown(r['note'])}")


def _guarded(go: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the command's work; refusals exit 2 naming the option, other failures exit 1."""
    from integrator.errors import IntegratorError
    from integrator.events_routing import EventsRefused
    from integrator.store.url import NoStore

    try:
        return run(go())
    except EventsRefused as exc:
        fail(exc.for_cli(), exc.exit_code)
    except NoStore as exc:  # run elsewhere than the engine's directory: nothing made
        fail(no_store_said(exc), exc.exit_code)
    except IntegratorError as exc:
        fail(said(exc), exc.exit_code)
    except RuntimeError as exc:
        fail(str(exc), 1)


def _looks_like_id(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True
