"""``integrator deadletter list|show|resend|discard``: dead letters for support (product.md §6).

A dead letter stays ``dead`` for good; once a later resend of it was delivered it is
*resolved*, and so is one discarded (``cancelled``): ``list`` hides them unless ``--all`` (a
discarded one with state ``discarded``, by whom and when), and ``resend --all`` leaves them out
(resend one by its id if you must). So ``--all`` means "also the resolved ones" for ``list``
but "every unresolved one", exactly what ``list`` shows, for ``resend``.

``discard`` closes the dead letter's resend chain with it (``deadletter.plan_discard``); its
``--dry-run`` and ``show`` say which, and what stays open, first. ``show`` of one discarded
since says by whom, when and why, as ``list --all`` lists it.

Exit codes: 0 ok, 2 bad input (unknown id, not a dead letter, missing reason, no selector),
1 anything else (``discard`` of one already resolved: nothing done); ``resend`` exits 1 also
when anything was (or, in a dry run, would be) skipped or nothing matched (see
``integrator.cli.resend``).

``show`` prints the ACKs as received, and a receiver's words in them may name the patient: it
reads through ``message_reads.read_dead_letter``, which records the view in the audit log
(``patient_data.view``, as ``local:<user>``) before anything is printed. ``list`` shows only the
ACK code and a short reason, as the API's listing does, and records nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from integrator.cli.common import (
    JsonOption,
    Shown,
    console,
    err_console,
    fail,
    first_rows,
    load_settings,
    local_actor,
    local_identity,
    option_rule,
    print_json,
    progress_bar,
    resolve_message_ids,
    say_shown,
    stopped,
    value_rule,
    with_store,
)
from integrator.cli.shown import shown, visible
from integrator.cli.views import (
    Column,
    attempts_table,
    fits,
    fitted_table,
    short_ids,
    shown_ack,
    shown_text,
)
from integrator.cli.why import WhyOption, why_stated
from integrator.counting import counted
from integrator.period_words import since_help, until_help
from integrator.presenters import dead_letter_summary, shown_time
from integrator.reasons import MAX_REASON

if TYPE_CHECKING:
    from deadletter import DeadLetter, EachDiscarded, Selection
    from integrator.settings import Settings
    from integrator.store import Store

deadletter_app = typer.Typer(
    help="Dead letters: messages the engine gave up on.", no_args_is_help=True
)


def _detail(letter: DeadLetter, zone: tzinfo) -> dict[str, Any]:
    from integrator.presenters import attempt_history, attempt_view, dead_letter_summary

    # One dead letter in full, on the server's CLI (trusted): the receiver's words included.
    detail = dead_letter_summary(letter, zone)
    detail["reason"] = letter.reason
    last_ack = letter.last_ack
    detail["last_ack"] = (
        attempt_view(last_ack, receiver_text=True)["ack"] if last_ack is not None else None
    )
    detail["attempt_history"] = attempt_history(
        letter.message, letter.attempts, zone, receiver_text=True
    )
    # A discarded one: why, as given to the discard (who and when are the summary's).
    detail["discard_reason"] = letter.discarded.reason if letter.discarded is not None else None
    return detail


_TIMES = frozenset({"created_at", "dead_since"})
"""The summary's times: to the second in the table (``shown_time``), in full in ``--json``."""


NOT_KEPT_LEGEND = (
    "died ≥TIME: when it died was not kept (discarded before discards recorded it, or its "
    "audit entry gone with the trail's period); TIME is its last attempt, so it died then or "
    "later. died unknown: not kept, and never attempted."
)
"""Under ``deadletter list``'s table when a row's ``died`` is one of the short cells
``_died(..., listed=True)`` gives; said in ``--help`` too."""


def _died(row: Mapping[str, Any], when: Callable[[str], str], *, listed: bool = False) -> str:
    """When a dead letter died (``dead_since``, shown by ``when``), or, where the store does
    not know it, that it does not and the latest it does know: its last attempt, marked as
    such. A letter discarded before discards recorded it (an upgrade's older revision), or
    whose discard's audit entry went with the trail's period, said only ``-``, which read as
    "never died"; its last attempt is no time of death, so it is never shown as one.

    ``listed``: as a table's cell, ``≥12-01 03:14`` or ``unknown``, which ``NOT_KEPT_LEGEND``
    explains under it. ``not kept; last attempt 12-01 03:14`` took 34 columns, so on an
    80-column terminal the ``died`` column gave way for every row, and the state wrapped."""
    died = row["dead_since"]
    if died is not None:
        return when(died)
    last = row.get("last_attempt_at")
    if listed:
        return "unknown" if last is None else f"≥{when(last)}"
    if last is None:
        return "not kept; never attempted"
    return f"not kept; last attempt {when(last)}"


def _state(
    row: dict[str, Any], short: Mapping[str, str] | None = None, zone: tzinfo | None = None
) -> str:
    """The state with the message it points at: what support follows next. Its id whole, or
    as ``short`` shortens it (a table's ids). A discarded one says by whom and when (in
    ``zone``), as a second discard of it would."""
    if row["state"] == "discarded":
        by = f" by {row['discarded_by']}" if row["discarded_by"] else ""
        return f"discarded{by} at {shown_time(row['discarded_at'], zone)}"
    if row["resolved_by"]:
        return f"resolved by {_id(row['resolved_by'], short)}"
    latest = row["latest_resend"]
    if latest is not None:
        return f"{row['state']}; last resent as {_id(latest['id'], short)} ({latest['status']})"
    return str(row["state"])


def _id(message_id: str, short: Mapping[str, str] | None) -> str:
    return short[message_id] if short is not None else message_id


@deadletter_app.command("list")
def deadletter_list(
    destination: Annotated[str | None, typer.Option(help="Destination id.")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="At most this many dead letters (newest first).")
    ] = 100,
    include_resolved: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also the resolved ones: a later resend of them was delivered, or they were "
            "discarded (state discarded, with by whom and when).",
        ),
    ] = False,
    since: Annotated[str | None, typer.Option(help=since_help("Died"))] = None,
    until: Annotated[str | None, typer.Option(help=until_help("Died"))] = None,
    as_json: JsonOption = False,
) -> None:
    """List dead letters that still need support, newest first, with when they died, the
    reason and the last ACK code.

    --since and --until select on when each died (the "died" column, dead_since in --json);
    a discarded one (--all) on when it was discarded (discarded_at), though its "died" says
    when it died, as its discard recorded it.

    Where that was not kept, "died" says ≥TIME, TIME being its last attempt (it died then or
    later), or unknown when it was never attempted; a legend under the table says so, and
    --json has dead_since null beside last_attempt_at.
    """
    from deadletter import count_open_dead_letters, list_dead_letters
    from integrator.message_reads import MessageTerms, check_destination, terms_filter
    from integrator.search import BadSearch

    settings = load_settings()
    try:  # the period as every listing reads it; on when they died, not when they were made
        flt = terms_filter(
            settings, MessageTerms(destination=destination, since=since, until=until)
        )
    except BadSearch as exc:
        fail(option_rule(exc), 2)

    async def action(store: Store) -> tuple[list[dict[str, Any]], int | None, int]:
        await check_destination(store, settings, flt)
        letters = await list_dead_letters(
            store,
            destination_id=destination,
            limit=limit + 1,
            include_resolved=include_resolved,
            died_since=flt.since,
            died_until=flt.until,
        )
        summaries = [dead_letter_summary(letter, settings.zone) for letter in letters]
        # Short ids that name one message in the store, not only among the rows shown.
        unique = 0 if as_json else await store.unique_prefix_length("message", _ids(summaries))
        if len(letters) <= limit or include_resolved:
            # Whole; or with --all, which no count holds: "more match".
            return summaries, None, unique
        # Cut by --limit: how many in all ("N of M"), the dashboard's count of open ones (one
        # grouped query, made only when the listing is cut).
        counts = await count_open_dead_letters(store, died_since=flt.since, died_until=flt.until)
        counted = counts.get(destination, 0) if destination else sum(counts.values())
        return summaries, max(counted, limit + 1), unique

    found, total, unique = with_store(action, settings, read_only=True)
    rows, shown = first_rows(found, limit)
    if total is not None:
        shown = Shown(len(rows), total=total)
    say_shown(shown)
    if as_json:
        print_json(rows)
        return
    hidden = "" if include_resolved else "; resolved ones hidden, --all shows them"
    title = f"Dead letters ({shown}{hidden})"
    console.print(_table(rows, title, width=console.width, zone=settings.zone, unique=unique))


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    """The message ids a listing of dead letters shows: each letter's, and in its state the
    resend that resolved it and its latest resend."""
    linked = [r["resolved_by"] for r in rows if r["resolved_by"]]
    linked += [r["latest_resend"]["id"] for r in rows if r["latest_resend"]]
    return [r["id"] for r in rows] + linked


def _table(
    rows: list[dict[str, Any]], title: str, *, width: int, zone: tzinfo, unique: int = 0
) -> Table:
    """Dead letters as a table that fits the terminal: ids (shortened as ``resend`` and
    ``deadletter show`` take them back, also those in the state), ZD numbers and the ACK code
    whole; the reason and the state wrap; when each died, the attempts and the MSH-10 as the
    width allows. The reason goes before the time, being what support reads first; when the
    full time (to the second, as ``--since`` and ``--until`` take it back) leaves no room for
    both, the time is shown to the minute, ``12-01 03:14`` (``compact_time``), so that an
    80-column terminal still says when each died (``--json`` has the full time). ``unique``:
    the fewest characters that tell each id apart from every message in the store."""
    from datetime import UTC, datetime

    from integrator.presenters import compact_time

    short = short_ids(_ids(rows), at_least=unique)
    columns = {
        "id": Column("id", lambda r: short[r["id"]]),
        "destination": Column("destination", lambda r: shown(r["destination"])),
        "zd": Column("ZD number", lambda r: shown(r["zd_number"])),
        "control_id": Column("MSH-10", lambda r: shown(r["control_id"])),
        "attempts": Column("tries", lambda r: str(r["attempts"]), "right"),
        "ack": Column("ACK", lambda r: r["last_ack_code"] or "-"),
        "died": Column("died", lambda r: _died(r, lambda at: shown_time(at, zone), listed=True)),
        "reason": Column("reason", lambda r: shown(r["reason"] or ""), free_text=True),
        "state": Column("state", lambda r: shown(_state(r, short, zone)), free_text=True),
    }
    always: tuple[str, ...] = ("id", "destination", "zd", "ack", "state")
    if not fits(columns, rows, {*always, "reason", "died"}, width=width):
        now = datetime.now(UTC)
        columns["died"] = Column(
            "died", lambda r: _died(r, lambda at: compact_time(at, zone, now), listed=True)
        )
        # Worth a word of the reason folded (``ConnectionRefusedE``/``rror``), where the
        # other optional columns give way to keep its words whole.
        if fits(columns, rows, {*always, "reason", "died"}, width=width, words_whole=False):
            always = (*always, "reason", "died")
    table = fitted_table(
        rows,
        columns,
        always=always,
        optional=("reason", "died", "attempts", "control_id"),
        width=width,
        title=title,
    )
    died_shown = any(column.header == "died" for column in table.columns)
    if died_shown and any(r["dead_since"] is None for r in rows):
        table.caption = NOT_KEPT_LEGEND
        table.caption_justify = "left"
    return table


@deadletter_app.command("show")
def deadletter_show(
    message_id: Annotated[str, typer.Argument(help="Message id.")],
    as_json: JsonOption = False,
    reason: WhyOption = None,
) -> None:
    """One dead letter: why it died, every attempt, and the last ACK as received.

    One discarded since (listed by list --all) is shown too, saying by whom, when and why it
    was discarded; nothing is left to discard with it, so no resend chain.

    Recorded in the audit log (patient_data.view) before it is shown: a receiver's words in
    its ACK may name the patient.
    """
    from deadletter import chain_of
    from integrator.message_reads import read_dead_letter

    settings = load_settings()

    async def action(store: Store) -> dict[str, Any]:
        [full_id] = await resolve_message_ids(store, [message_id])
        letter = await read_dead_letter(store, local_identity(), full_id)
        if letter.discarded is not None:  # closed already: a discard has nothing to close
            return {**_detail(letter, settings.zone), "resend_chain": [], "stays_open": []}
        # What a discard of it would close with it, and what would stay open: seen before.
        chain = await chain_of(store, letter)
        return {
            **_detail(letter, settings.zone),
            "resend_chain": [
                {"id": m.id, "destination": m.destination_id, "status": m.status}
                for m in chain.chain
            ],
            "stays_open": [s.to_json() for s in chain.stays_open],
        }

    with why_stated(reason, settings):
        detail = with_store(action, settings, read_only=True)
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
        "resend_of",
    ):
        value = detail[key]
        if key == "dead_since":
            value = _died(detail, lambda at: shown_time(at, settings.zone))
        elif key in _TIMES:
            value = shown_time(value, settings.zone)
        # ``reason`` may quote the receiver's words: a remote system's, shown safe (and as
        # text: a ``[`` in them is no markup).
        summary.add_row(key, shown(shown_text(str(value))) if value is not None else "-")
    summary.add_row("state", shown(_state(detail, zone=settings.zone)))
    if detail["state"] == "discarded":
        summary.add_row("discard reason", shown(detail["discard_reason"] or "-"))
    for member in detail["resend_chain"]:
        summary.add_row(
            "resend chain", f"{member['id']} (the same message, dead too; discarded with it)"
        )
    for stays in detail["stays_open"]:
        summary.add_row("stays open", shown(f"{stays['id']}: {stays['why']}"))
    console.print(summary)
    attempts = attempts_table(detail["attempt_history"], settings.zone, width=console.width)
    console.print(attempts)
    if detail["last_ack"]:
        console.print("Last ACK:")
        console.print("\n".join(shown_ack(detail["last_ack"])), markup=False)


# The selectors `deadletter resend` and `deadletter discard` share: what `deadletter list`
# shows with the same options, or ids.
LetterIds = Annotated[list[str] | None, typer.Argument(help="Dead letter ids.")]
AllOpen = Annotated[
    bool,
    typer.Option(
        "--all", help="Every unresolved dead letter (what `deadletter list` shows without --all)."
    ),
]
OfDestination = Annotated[
    str | None, typer.Option(help="The unresolved dead letters of one destination.")
]
DiedSince = Annotated[str | None, typer.Option(help=since_help("The unresolved ones that died"))]
DiedUntil = Annotated[str | None, typer.Option(help=until_help("The unresolved ones that died"))]


@deadletter_app.command("discard")
def deadletter_discard(
    message_ids: LetterIds = None,
    all_dead: AllOpen = False,
    destination: OfDestination = None,
    since: DiedSince = None,
    until: DiedUntil = None,
    reason: Annotated[
        str | None,
        typer.Option(
            help=f"Why it is discarded (required; audited; at most {MAX_REASON} characters)."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Say what would be discarded and what stays open; do it not."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Close dead letters as cancelled, each with its resend chain; history stays, audit says why.

    Its resend chain is the other open dead letters of the same message to the same
    destination (it was resent, and the resend died too): they are closed with it, each with an
    audit entry. What stays open is named with why: a dead letter of the same message for
    another destination, a resend still in delivery. --dry-run says all of it and changes
    nothing (`deadletter show` lists the chain too).

    One id, or in bulk: several ids, --all, --destination or a period on when they died,
    --since/--until (the unresolved ones, exactly what `deadletter list` shows with the same
    options), with a progress bar; Ctrl-C stops after the one under way, and says how far it
    got. One already resolved (discarded before, or a later resend of it delivered) is left as
    it is: exit 1, saying how and when.
    """
    from deadletter import (
        AlreadyResolved,
        DeadLetterError,
        DiscardPlan,
        RefusedValue,
        checked_reason,
        discard,
        plan_discard,
    )

    try:  # the service's rule, said before the store is opened: a dry run exits as the real
        checked_reason(reason)  # run will, as resend --dry-run does
    except RefusedValue as exc:
        fail(value_rule(exc), exc.exit_code)
    except DeadLetterError as exc:
        fail(str(exc), exc.exit_code)
    who = local_actor()
    settings = load_settings()
    ids = message_ids or []
    if len(ids) != 1 or all_dead or destination or since or until:
        _discard_in_bulk(
            settings,
            ids,
            every=all_dead,
            destination=destination,
            since=since,
            until=until,
            reason=reason,
            dry_run=dry_run,
            as_json=as_json,
        )
        return
    [message_id] = ids

    async def action(store: Store) -> DiscardPlan | AlreadyResolved:
        [full_id] = await resolve_message_ids(store, [message_id])
        try:
            if dry_run:
                return await plan_discard(store, full_id)
            return await discard(store, full_id, actor=who, reason=reason or "")
        except AlreadyResolved as done:
            return done  # said below, its time in INTEGRATOR_TIMEZONE like every time shown

    result = with_store(action, settings, read_only=dry_run, existing=True)
    if isinstance(result, AlreadyResolved):
        fail(result.explain(settings.zone), result.exit_code)
    if as_json:
        done = {"status": "cancelled", "actor": who, "reason": reason}
        print_json({**result.to_json(), "dry_run": dry_run, **({} if dry_run else done)})
        return
    asked = result.letter.message.id
    chain = ", ".join(m.id for m in result.chain)
    what = f"{asked} and its resend chain: {chain}" if chain else asked
    if dry_run:
        console.print(f"Dry run: would discard {what}; nothing was changed", soft_wrap=True)
    else:
        console.print(
            f"Discarded {what} (now cancelled), by {shown(who)}: {shown(reason or '')}",
            soft_wrap=True,
        )
    for stays in result.stays_open:
        console.print(
            f"  stays open: {stays.message_id} ({stays.status}): {visible(stays.why)}",
            markup=False,
            soft_wrap=True,
        )


def _dead_letters_selected(
    settings: Settings,
    ids: list[str],
    every: bool,
    destination: str | None,
    since: str | None,
    until: str | None,
    *,
    discarding: bool = False,
) -> Callable[[Store], Awaitable[Selection]]:
    """What ``deadletter resend`` and ``discard`` select: ids, or the unresolved dead letters
    ``deadletter list`` shows with the same options. The period is read now, with the
    listing's refusals (exit 2); a destination nobody has is refused in the store, naming it,
    not answered "nothing matched". ``discarding``: a named one discarded already is kept, for
    the discard to say so (``keep_discarded``)."""
    from deadletter import select_dead_letters
    from integrator.message_reads import MessageTerms, check_destination, terms_filter
    from integrator.search import BadSearch

    try:
        flt = terms_filter(
            settings, MessageTerms(destination=destination, since=since, until=until)
        )
    except BadSearch as exc:
        fail(option_rule(exc), 2)

    async def select(store: Store) -> Selection:
        await check_destination(store, settings, flt)
        return await select_dead_letters(
            store,
            message_ids=await resolve_message_ids(store, ids),
            every=every,
            destination_id=destination,
            died_since=flt.since,
            died_until=flt.until,
            keep_discarded=discarding,
        )

    return select


def _discard_in_bulk(
    settings: Settings,
    ids: list[str],
    *,
    every: bool,
    destination: str | None,
    since: str | None,
    until: str | None,
    reason: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """``deadletter discard`` of several: selected as ``deadletter resend`` selects them, then
    each discarded with its chain in a transaction of its own (``discard_each``)."""
    from deadletter import discard_each, left_open
    from integrator.interruptions import Interrupted, Interruptions

    select = _dead_letters_selected(
        settings, ids, every, destination, since, until, discarding=True
    )
    who = local_actor()
    interruptions = Interruptions()

    async def action(store: Store) -> tuple[Selection, list[EachDiscarded], bool]:
        selection = await select(store)
        interruptions.check()  # Ctrl-C while selecting: nothing discarded
        quiet = as_json or len(selection) < 2
        with progress_bar(len(selection), quiet=quiet, label="discarding") as advance:
            done, halted = await discard_each(
                store,
                [m.id for m in selection],
                actor=who,
                reason=reason,
                dry_run=dry_run,
                progress=lambda n: advance(n, len(selection)),
                stop=lambda: interruptions.stopped,
            )
        return selection, done, halted

    try:
        with interruptions:
            selection, done, halted = with_store(action, settings, read_only=dry_run, existing=True)
    except Interrupted as exc:
        fail("stopped before anything was discarded", exc.exit_code)
    _say_discarded(
        selection,
        done,
        who=who,
        reason=reason,
        dry_run=dry_run,
        as_json=as_json,
        zone=settings.zone,
    )
    if halted:
        stopped(
            f"stopped after {len(done)} of {counted(len(selection), 'dead letter')} (each one "
            "done is "
            "committed and audited); run the command again for the rest",
            interruptions.exit_code,
        )
    if not done or any(d.refused is not None for d in done) or left_open(selection, done):
        raise typer.Exit(1)


def _say_discarded(
    selection: Selection,
    done: list[EachDiscarded],
    *,
    who: str,
    reason: str | None,
    dry_run: bool,
    as_json: bool,
    zone: tzinfo,
) -> None:
    from deadletter import AlreadyResolved, left_open

    def why(refused: Exception) -> str:
        # Its time in the zone every time the CLI shows is in, as a single discard says it.
        return refused.explain(zone) if isinstance(refused, AlreadyResolved) else str(refused)

    discarded = [d.plan for d in done if d.plan is not None]
    refused = [d for d in done if d.refused is not None]
    chained = [d for d in done if d.with_chain_of is not None]
    left_out = [x.to_json() for x in left_open(selection, done)]
    if as_json:
        print_json(
            {
                "dry_run": dry_run,
                "actor": who,
                "reason": reason,
                "total": len(selection),
                "would_discard" if dry_run else "discarded": [p.to_json() for p in discarded],
                "with_chain_of": {d.message_id: d.with_chain_of for d in chained},
                "not_discarded": [
                    {"id": d.message_id, "why": why(d.refused)} for d in refused if d.refused
                ],
                "left_out": left_out,
            }
        )
        return
    # The messages of their resend chains closed with them, beyond the dead letters themselves:
    # said only when there are any ("3 with their resend chains" read as chains of 3).
    chained_too = sum(len(p.discarded) for p in discarded) - len(discarded)
    chains = f" and {counted(chained_too, 'message')} of their resend chains" if chained_too else ""
    if not selection:
        err_console.print("[red]error:[/] no dead letter matches the selection; nothing discarded")
    elif dry_run:
        console.print(
            f"Dry run: {len(discarded)} of {counted(len(selection), 'dead letter')}{chains} "
            "would be "
            "discarded; nothing was changed",
            soft_wrap=True,
        )
    else:
        console.print(
            f"Discarded {len(discarded)} of {counted(len(selection), 'dead letter')}{chains} (now "
            f"cancelled), by {shown(who)}: {shown(reason or '')}",
            soft_wrap=True,
        )
    for d in refused:
        assert d.refused is not None
        console.print(
            f"  not discarded: {d.message_id}: {visible(why(d.refused))}",
            markup=False,
            soft_wrap=True,
        )
    for x in left_out:
        console.print(f"  left out: {x['id']}: {visible(x['note'])}", markup=False, soft_wrap=True)


@deadletter_app.command("resend")
def deadletter_resend(
    message_ids: LetterIds = None,
    all_dead: AllOpen = False,
    destination: OfDestination = None,
    since: DiedSince = None,
    until: DiedUntil = None,
    reason: Annotated[
        str | None,
        typer.Option(
            help=f"Why they are resent (required; audited; at most {MAX_REASON} characters)."
        ),
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="original (same bytes, default) or remap.")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Send to this destination instead.")] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what the real run would do to each; send nothing."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Resend dead letters, singly or in bulk, as new linked messages; the dead ones stay dead.

    Say which: ids (always resent, resolved or not; a discarded one is refused, saying to resend
    it as any message, with `integrator resend`), --all, --destination or a period on when
    they died, --since/--until (the unresolved ones, exactly what `deadletter list` shows with
    the same options; one whose resend to the same destination is still under way is skipped,
    and says so). --dry-run says what the real run would do, with the same selection.

    Exit codes: 0 every selected dead letter resent (with --dry-run: would be); 1 any skipped,
    or none to resend; 2 bad input, nothing resent: no selector or reason, an id that names no
    message (or several) or one that is not dead.
    """
    from integrator.cli.resend import run_resend

    settings = load_settings()
    select = _dead_letters_selected(
        settings, message_ids or [], all_dead, destination, since, until
    )
    run_resend(
        settings,
        select,
        reason=reason,
        mode=mode,
        to=to,
        dry_run=dry_run,
        as_json=as_json,
    )
