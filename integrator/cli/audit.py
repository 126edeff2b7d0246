"""``integrator audit list|verify|summary``: read the audit trail, check its hash chain, and
count who viewed patient data or exported listings (the access-log review).

None of them creates a store (``summary`` records itself in the trail: who reviewed it).
``verify`` exits 0 when the chain is intact and 1 naming the first broken entry (edited,
removed, inserted or moved); it prints the newest entry's hash, which, kept elsewhere, also
shows later that nothing was cut off the end.

``list --bsn`` shows who looked at a patient: a view of patient data, recorded as
``audit.search`` (``patient_views.record_search``, as the API and the console record it) before
the entries are shown; ``--csv`` records its export instead.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import tzinfo
from typing import TYPE_CHECKING, Annotated, Any

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
    local_identity,
    option_rule,
    print_json,
    progress_bar,
    resolve_message_ids,
    say_shown,
    stream_csv,
    with_store,
)
from integrator.cli.shown import shown
from integrator.cli.views import ACTOR_MIN, Column, fits, fitted_table, short_ids
from integrator.cli.why import WhyOption, why_stated
from integrator.ids import ID_PATTERN
from integrator.period_words import since_help, until_help
from integrator.presenters import shown_time

if TYPE_CHECKING:
    from integrator.settings import Settings
    from integrator.store import Store

HEX = frozenset("0123456789abcdef")
_UUID = re.compile(ID_PATTERN)
"""A target that is an id (a message's, an event's): shortened in the table."""

audit_app = typer.Typer(
    help="The audit trail: who did what, when and why; and its hash chain.",
    no_args_is_help=True,
)


@audit_app.command("list")
def audit_list(
    actor: Annotated[
        str | None,
        typer.Option(
            help="Who, exactly as recorded: person:<email>, token:<name>, local:<user> or "
            "engine:<job> (or system, file)."
        ),
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(
            help="E.g. message.resend; one the engine does not record is refused, listing those "
            "it does."
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(help="The entry's target, exactly; an id also shortened, as listed."),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(help="A message id (or a unique prefix): entries about it or that made it."),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option(
            help="A destination id: its changes, and routings to it (also one removed since)."
        ),
    ] = None,
    bsn: Annotated[
        str | None,
        typer.Option(
            "--bsn", help=bsn_help("Patient BSN (looked up by its keyed hash, never stored)")
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help=since_help("Recorded")),
    ] = None,
    until: Annotated[str | None, typer.Option(help=until_help("Recorded"))] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="At most this many entries (newest first).")
    ] = 100,
    as_json: JsonOption = False,
    reason: WhyOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout (for reports).")] = False,
) -> None:
    """List audit entries, newest first. Filters combine (AND)."""
    from integrator.audit import audit_entry_view, build_audit_filter, check_audit_destination
    from integrator.audit_reads import audit_total
    from integrator.patient_views import record_search
    from integrator.presenters import audit_view
    from integrator.search import BadSearch
    from integrator.store import AuditRecord
    from integrator.store.idprefix import partial_id

    if as_json and as_csv:
        fail("--json and --csv: choose one", 2)
    settings = load_settings()
    bsn = given_bsn(bsn)
    terms = {
        "actor": actor,
        "action": action,
        "target": target,
        "message": message,
        "destination": destination,
        "bsn": bsn,
        "since": since,
        "until": until,
    }
    try:
        flt = build_audit_filter(settings, **terms)
    except BadSearch as exc:
        fail(option_rule(exc), 2)  # the option as typed here

    tokens_too: list[str] = []

    async def action_on(store: Store) -> tuple[list[AuditRecord], Shown | None]:
        # A destination nobody has is refused (exit 2), not listed as empty; one removed since
        # stays searchable while the trail or a message names it.
        try:
            await check_audit_destination(store, settings, flt)
        except BadSearch as exc:
            fail(option_rule(exc), 2)
        if flt.actor is not None:
            tokens_too[:] = await _token_actors(store, settings, flt.actor)
        found = flt
        if flt.message is not None:  # as listings show it: a unique prefix is made whole
            [full_id] = await resolve_message_ids(store, [flt.message], option="--message")
            found = dataclasses.replace(flt, message=full_id)
        if flt.target is not None and partial_id(flt.target):  # as this command's table shows
            found = dataclasses.replace(found, target=await _whole_target(store, flt.target))
        if as_csv:  # audited before a row is written, then written a page at a time
            from integrator.audit import CSV_COLUMNS
            from integrator.export_stream import Planned, audit_pages

            # The newest entry now bounds the pages: the export's own entry, written before
            # its first row, is not in the file, as it was not when the file was built whole.
            newest = await store.list_audit(found, limit=1)

            async def count(at_most: int) -> int:
                return await store.count_audit(found, at_most=at_most)

            written = await csv_shown(count, limit) if newest else Shown(0)
            # On stderr, as the table says it: a CSV that looks complete when it is not
            # misses entries.
            say_shown(written)
            pages = audit_pages(
                store, found, settings.zone, below=newest[0].id + 1 if newest else 0
            )
            planned = Planned("audit", CSV_COLUMNS, written.count, pages)
            await stream_csv(store, planned, terms=terms, bsn_hash=flt.bsn_hash, limit=limit)
            return [], None
        entries, shown = first_rows(await store.list_audit(found, limit=limit + 1), limit)
        if shown.more:  # of how many ("N of M", as `messages list` says it), counted only now
            total = await audit_total(store, found, offset=0, shown=limit, more=True)
            shown = Shown(len(entries), total=total.count, beyond=total.beyond)
        # A search by BSN is a view of patient data, as through the API.
        await record_search(
            store,
            local_identity(),
            "audit.search",
            bsn_hash=flt.bsn_hash,
            found=len(entries),
            source=None,
        )
        return entries, shown

    with why_stated(reason, settings):
        entries, shown = with_store(action_on, settings, read_only=True)
    if shown is not None:  # else the CSV, written as it was read
        say_shown(shown)
        if as_json:
            print_json([audit_entry_view(e, settings.zone) for e in entries])
        else:
            rows = [audit_view(e, settings.zone) for e in entries]
            title = f"Audit ({shown})"
            for part in _listing(rows, title, zone=settings.zone, width=console.width):
                console.print(part)
    if tokens_too and flt.actor is not None:
        _say_tokens_too(flt.actor, tokens_too)


async def _token_actors(store: Store, settings: Settings, actor: str) -> list[str]:
    """The actor names of the tokens of the person ``actor`` names, as the access service
    finds them (``AccessService.token_actors_of``); none for any other actor."""
    from integrator.access.setup import access_service
    from integrator.clock import SystemClock

    return await access_service(store, SystemClock(), settings).token_actors_of(
        local_identity(), actor
    )


def _say_tokens_too(actor: str, tokens: list[str]) -> None:
    """On stderr, after the entries: what the person did with their tokens is recorded as the
    tokens (docs/access.md, "Finding entries"), so a review of the person that stopped at
    ``person:<email>`` would miss it. Named with the command for each, not searched: the
    listing stays exactly what ``--actor`` asked for."""
    err_console.print(
        f"{actor}'s tokens act as {', '.join(tokens)}, which this search does not take in; "
        "search them too:",
        markup=False,
        soft_wrap=True,
    )
    for token in tokens:
        err_console.print(f"  integrator audit list --actor {token}", markup=False, soft_wrap=True)


async def _whole_target(store: Store, typed: str) -> str:
    """The target an id shortened in the table stands for; as typed when no entry's target
    starts so (the listing is then empty, as for any target nobody acted on). Several such
    targets are refused, listed, as ``--message`` refuses an ambiguous prefix."""
    from integrator.cli.badid import BadId
    from integrator.store.idprefix import AmbiguousIdPrefix, UnknownIdPrefix

    try:
        return await store.resolve_audit_target(typed)
    except UnknownIdPrefix:
        return typed
    except AmbiguousIdPrefix as exc:
        raise BadId(f"--target: {exc}") from None


def _listing(rows: list[dict[str, Any]], title: str, *, zone: tzinfo, width: int) -> list[Any]:
    """Audit entries as a table that fits the terminal: the time, what and the target whole (a
    target that is an id shortened, as ``--message`` and the show commands take it back); a
    long actor (an e-mail address) wraps rather than push them off; the details, the reason
    and the entry's id come as the width allows, the details first.

    Every entry's details are shown (``key: value``, as ``_details_cell``): where the table has
    no room for them, they follow it, one line an entry, under its id, which the table then
    shows."""
    short = short_ids(r["target"] for r in rows if _UUID.fullmatch(r["target"]))
    columns = {
        "id": Column("id", lambda r: str(r["id"]), "right"),
        "at": Column("at", lambda r: shown_time(r["at"], zone)),
        "actor": Column("actor", lambda r: shown(r["actor"]), free_text=True, least=ACTOR_MIN),
        "action": Column("action", lambda r: shown(r["action"])),
        "target": Column("target", lambda r: shown(short.get(r["target"], r["target"]))),
        "reason": Column("reason", lambda r: shown(r["reason"] or ""), free_text=True),
        "details": Column("details", lambda r: _details_cell(r, zone), free_text=True),
    }
    always = ("at", "actor", "action", "target")
    if fits(columns, rows, {*always, "details"}, width=width):
        table = fitted_table(
            rows,
            columns,
            always=always,
            optional=("details", "reason", "id"),
            width=width,
            title=title,
        )
        return [table]
    table = fitted_table(
        rows, columns, always=("id", *always), optional=("reason",), width=width, title=title
    )
    below = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), show_header=False)
    below.add_column(justify="right", no_wrap=True)
    below.add_column(overflow="fold")
    for r in rows:
        if cell := _details_cell(r, zone):
            below.add_row(str(r["id"]), cell)
    return [table] if not below.rows else [table, "details (by id):", below]


def _details_cell(row: dict[str, Any], zone: tzinfo) -> str:
    """An entry's details as ``key: value`` pairs (``integrator.audit_details``, as the
    console's audit page shows them), one after the other: what ``--json`` and ``--csv``
    give, in words rather than JSON, its times as the table's, escaped for rich."""
    from integrator.audit_details import detail_pairs

    pairs = detail_pairs(row["details"], times=lambda moment: shown_time(moment, zone))
    return shown("; ".join(f"{key}: {value}" for key, value in pairs))


@audit_app.command("verify")
def audit_verify(
    expect: Annotated[
        str | None,
        typer.Option(
            help="ID:HASH of an entry as noted earlier (verify prints the newest): it must "
            "still be there with that hash."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Check the audit log's hash chain, oldest entry first (after entries pruned by retention,
    from the anchor they left): exit 0 when intact, 1 naming the first entry that was edited,
    removed, inserted or moved."""
    from integrator.audit import check_view
    from integrator.store import AuditCheck

    anchor = None
    if expect is not None:
        entry_id, _, digest = expect.strip().partition(":")
        if not (entry_id.isdigit() and len(digest) == 64 and all(c in HEX for c in digest)):
            fail("--expect: give ID:HASH, an entry's id and its 64 hex digits", 2)
        anchor = (int(entry_id), digest)
    settings = load_settings()

    async def action_on(store: Store) -> AuditCheck:
        total = await store.count_audit()
        done = 0
        with progress_bar(total, quiet=quiet or as_json, label="verifying") as advance:

            def step(count: int) -> None:
                nonlocal done
                done += count
                advance(done, total)

            # The anchor's time must fit the retention set now (audit_prune.retention_problem).
            return await store.verify_audit(
                progress=step, anchor=anchor, audit_days=settings.audit_days, zone=settings.zone
            )

    check = with_store(action_on, settings, read_only=True)
    view: dict[str, Any] = check_view(check)
    if as_json:
        print_json(view)
    elif check.starts_after is not None:
        console.print(
            f"the chain starts after pruned entries (up to {check.starts_after.seq}, pruned on "
            f"{shown_time(check.starts_after.pruned_at, settings.zone)})"
        )
    if check.intact and not as_json:
        console.print(f"audit log intact: {check.checked} entries checked")
        if check.last_hash is not None:
            console.print(f"newest entry: {check.last_id}, hash {check.last_hash}")
            console.print(f"note it elsewhere; later: --expect {check.last_id}:{check.last_hash}")
    if not check.intact:
        fail(
            f"audit log broken at entry {check.broken_id}: {check.problem} "
            f"({check.checked} entries before it are intact)"
        )


@audit_app.command("summary")
def audit_summary(
    since: Annotated[str | None, typer.Option(help=since_help("Recorded"))] = None,
    until: Annotated[str | None, typer.Option(help=until_help("Recorded"))] = None,
    action: Annotated[
        str | None,
        typer.Option(
            help="Count this one action instead of the views of patient data and the exports "
            "of messages and events (e.g. audit.export); one the engine does not record is "
            "refused, listing those it does."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Who viewed patient data or exported listings in a period, the review of the access log
    NEN 7513 asks for: per actor (person, token, local user) the views, the exports made by BSN
    (which hold patient data) and those without (listings, identifiers only), the distinct
    patients (by the keyed hash of their BSN, never the BSN) and the first and last time, most
    views first, with a total. Without --since: the 30 days up to --until (or up to now).
    Counted in the store, however long the trail; the summary is itself recorded in the audit
    trail (audit.summary)."""
    import contextlib

    from integrator.audit_reads import AuditSummary, summarise_audit, summary_terms
    from integrator.cli.common import err_console
    from integrator.search import BadSearch

    settings = load_settings()
    try:
        terms = summary_terms(settings, since=since, until=until, action=action)
    except BadSearch as exc:
        fail(option_rule(exc), 2)

    async def action_on(store: Store) -> AuditSummary:
        # One statement, which no batch divides into steps to show: a line on stderr while it
        # runs (on a terminal; a script or a pipe gets none), as long commands say theirs.
        working = (
            err_console.status("counting the audit trail…")
            if err_console.is_terminal and not as_json
            else contextlib.nullcontext()
        )
        with working:
            return await summarise_audit(store, local_identity(), terms, source=None)

    summary = with_store(action_on, settings, read_only=True)
    if as_json:
        print_json(summary.to_json(settings.zone))
        return
    console.print(_summary_table(summary, settings.zone, width=console.width))


def _summary_table(summary: Any, zone: tzinfo, *, width: int) -> Any:
    """The summary as a table that fits the terminal: one row an actor and the total under
    them; the times, and the entries of other actions when one was asked for, as the width
    allows."""
    from integrator.audit_reads import SUMMARY_ACTIONS

    rows = [a.to_json(zone) for a in summary.actors]
    total = summary.total.to_json(zone)
    rows.append({**total, "actor": f"total ({len(summary.actors)} actors)"})
    columns = {
        "actor": Column("actor", lambda r: shown(r["actor"]), free_text=True, least=ACTOR_MIN),
        "views": Column("views", lambda r: f"{r['views']:,}", "right"),
        "patients": Column("patients", lambda r: f"{r['patients']:,}", "right"),
        # Apart: only an export made by BSN holds patient data (``audit_reads.ActorSummary``);
        # the others are listings without it. Short, so an actor stays whole on 80 columns.
        "by BSN": Column("exports by BSN", lambda r: f"{r['exports_by_bsn']:,}", "right"),
        "other": Column("other exports", lambda r: f"{r['exports_without_bsn']:,}", "right"),
        "entries": Column("entries", lambda r: f"{r['entries']:,}", "right"),
        "no reason": Column("no reason", lambda r: f"{r['without_reason']:,}", "right"),
        "first": Column("first", lambda r: shown_time(r["first"], zone)),
        "last": Column("last", lambda r: shown_time(r["last"], zone)),
    }
    other = summary.terms.actions != SUMMARY_ACTIONS
    period = f"{shown_time(summary.terms.since, zone)} to {shown_time(summary.terms.until, zone)}"
    return fitted_table(
        rows,
        columns,
        always=(
            "actor",
            "views",
            "patients",
            "by BSN",
            "other",
            *(("entries",) if other else ()),
            *(("no reason",) if summary.asks_why else ()),
        ),
        optional=("first", "last"),
        width=width,
        title=f"Views of patient data and exports, {period} ({', '.join(summary.terms.actions)})",
    )
