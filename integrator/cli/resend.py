"""``integrator resend``: resend messages by id, ZD number or filter, audited (docs/product.md §6).

With a running engine the resend goes through its HTTP API (a job whose progress drives the
bar), as the token of ``INTEGRATOR_TOKEN``; otherwise the resends are stored as queued messages,
as ``local:<user>``, and the engine sends them when it starts. A dry run takes the same way as
the real run would: through the engine's API (its dry run: the same token check, refused
alike) or in the store, with the same rules (``deadletter.resend``), and sends nothing; it says
which way and as whom. Which messages are resent or skipped is decided there, never here.
A filter selects with the filter of every message search (``message_reads.terms_filter``), by
the terms of the API's batch resend (its ``filter``), bar the BSN: a resend selected by a BSN
resends a patient's every message at once, so support looks first (``messages list --bsn -``,
which reads it unechoed, ``integrator.cli.bsn_input``) and resends by id or ZD number; a resend
by BSN is the API's only (in its body). An ``--event-id`` is also taken as a start only
one event id has, as ``messages list`` takes it, and made whole before it selects.
What is printed (ids, ZD numbers, destinations, versions, notes) holds no patient data, so no
view is recorded; the resends themselves are.

Exit codes, real run and dry run alike: 0 every selected message was (or would be) resent;
1 anything was (or would be) skipped, each with why, or nothing matched, or the engine failed;
2 bad input (no selector, no reason, unknown id, bad mode or target, not a dead letter, a
search term refused: named with its rule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from integrator.cli.common import (
    JsonOption,
    console,
    elsewhere_said,
    err_console,
    fail,
    load_settings,
    local_actor,
    local_identity,
    no_store_said,
    option_rule,
    print_json,
    progress_bar,
    resolve_event_ids,
    resolve_message_ids,
    run,
    said,
    stopped,
    terms_rule,
    value_rule,
)
from integrator.cli.shown import shown
from integrator.counting import counted
from integrator.period_words import since_help, until_help
from integrator.reasons import MAX_REASON

if TYPE_CHECKING:
    from deadletter import ResendRequest, Selection
    from integrator.settings import Settings
    from integrator.store import MessageFilter, Store

ModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="original: same bytes and MSH-10 (default); remap: map again in the destination's "
        "current version, new MSH-10 (always the case with --to another destination).",
    ),
]
ReasonOption = Annotated[
    str | None,
    typer.Option(
        "--reason",
        help=f"Why (required; goes into the audit log; at most {MAX_REASON} characters).",
    ),
]
ToOption = Annotated[str | None, typer.Option("--to", help="Send to this destination instead.")]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Show what the real run would do to each message (resend or skip, and why); "
        "send nothing. Same exit code as the real run.",
    ),
]

Selector = Callable[["Store"], Awaitable["Selection"]]
Pointers = Callable[["Store"], Awaitable[list[str]]]


def resend_command(
    message_ids: Annotated[list[str] | None, typer.Argument(help="Message ids.")] = None,
    zd: Annotated[str | None, typer.Option("--zd", help="ZD number.")] = None,
    control_id: Annotated[
        str | None,
        typer.Option(help="MSH-10 control id, as the hospital reads it out (any case)."),
    ] = None,
    event_id: Annotated[
        str | None, typer.Option(help="Event id, or a prefix only one event id has.")
    ] = None,
    destination: Annotated[str | None, typer.Option(help="Destination id.")] = None,
    status: Annotated[str | None, typer.Option(help="delivered, dead, cancelled…")] = None,
    version: Annotated[str | None, typer.Option(help="Message version.")] = None,
    event_type: Annotated[str | None, typer.Option(help="referral or diagnostic_request.")] = None,
    since: Annotated[str | None, typer.Option(help=since_help("Created"))] = None,
    until: Annotated[str | None, typer.Option(help=until_help("Created"))] = None,
    reason: ReasonOption = None,
    mode: ModeOption = None,
    to: ToOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Resend messages (one or a filtered batch) as new, linked messages; audited.

    Ids, a ZD number, an event id and an MSH-10 name messages: they are always resent.

    A broad filter (destination, status, version, period) skips a message that already has a
    live resend to the same destination, and says so. An event type is a broad filter too.
    Filters combine (AND), and select what the API's batch resend selects by the same terms.

    No message is ever in status sending (the engine does not write it): --status sending
    selects nothing and says why on stderr. There is no --bsn: find a patient's messages
    with messages list --bsn - (it asks for the BSN unseen), then resend them by id or ZD
    number.

    Exit codes: 0 every selected message resent (with --dry-run: would be); 1 any skipped, or
    nothing matched the filter; 2 bad input, nothing resent: no selector or reason, an id
    that names no message (or several), an --event-id that names no event (or several), a
    destination that is not configured, a term the search refuses (named, with its rule).
    """
    from deadletter import select_for_resend
    from integrator.message_reads import (
        MessageTerms,
        check_destination,
        elsewhere,
        terms_filter,
    )
    from integrator.search import BadSearch, status_note

    settings = load_settings()
    terms = MessageTerms(
        zd_number=zd,
        event_id=event_id,
        control_id=control_id,
        destination=destination,
        status=status,
        version=version,
        event_type=event_type,
        since=since,
        until=until,
    )
    try:
        flt = terms_filter(settings, terms)  # the filter of every message search
    except BadSearch as exc:
        fail(option_rule(exc), 2)
    ids = message_ids or []

    async def select(store: Store) -> Selection:
        full_ids = await resolve_message_ids(store, ids)
        await check_destination(store, settings, flt)  # a typo: exit 2, not "nothing matched"
        return await select_for_resend(store, message_ids=full_ids, flt=await whole(store, flt))

    async def elsewhere_lines(store: Store) -> list[str]:
        """Nothing selected by a ZD number: where the referral went instead, as ``messages
        list --zd`` says it (refused by intake, or arrived while no destination served it)."""
        if flt.zd_number is None:
            return []
        went = await elsewhere(store, local_identity(), flt)
        return elsewhere_said("no message to resend", flt.zd_number, went)

    run_resend(
        settings,
        select,
        reason=reason,
        mode=mode,
        to=to,
        dry_run=dry_run,
        as_json=as_json,
        note=status_note(flt.status),
        when_none=elsewhere_lines,
    )


async def whole(store: Store, flt: MessageFilter) -> MessageFilter:
    """``flt`` with its event id made whole, as ``messages list --event-id`` makes it: the id
    as a listing shows it (a start only one event id has) is looked up first, so the store
    matches the whole id, as the API, which takes ids whole only, matches it. One that names
    no event, or several, is refused naming --event-id (exit 2), not "nothing matched"."""
    if flt.event_id is None:
        return flt
    [full_id] = await resolve_event_ids(store, [flt.event_id], option="--event-id")
    return dataclasses.replace(flt, event_id=full_id)


@dataclass
class Outcome:
    """What a run did, or a dry run would do, as ``report`` prints it."""

    dry_run: bool
    request: ResendRequest
    selection: Selection
    results: list[dict[str, Any]] = field(default_factory=list)
    via: str | None = None  # "engine" or "store", dry run or not; None when nothing was selected
    note: str | None = None  # about the selection (a status no message is ever in), for stderr
    elsewhere: list[str] = field(default_factory=list)  # nothing selected: where to look instead
    outside: int = 0  # broadly selected, left out: outside the clusters of the token sent
    stopped: int = 0  # the exit code of the signal that stopped it between chunks (0: none)


def run_resend(
    settings: Settings,
    select: Selector,
    *,
    reason: str | None,
    mode: str | None,
    to: str | None,
    dry_run: bool,
    as_json: bool,
    note: str | None = None,
    when_none: Pointers | None = None,
) -> None:
    """Select, then resend through the engine or the store; shared with ``deadletter resend``.

    ``note``: said on stderr with the outcome, as ``messages list`` says it beside a listing
    (``search.status_note``: a selection by a status no message is ever in). ``when_none``:
    lines said on stderr after "nothing resent" when nothing was selected (by a ZD number that
    only rejected input or unrouted events have: where to look instead).

    The dry run takes the real run's way, decided the same way (``engine_way``: an engine that
    runs on the store but not where the CLI looks refuses both, exit 2, nothing done): with an
    engine it asks the engine's API for its plan, so a run the engine would refuse (no token,
    or one without the role) is refused in the dry run too, with the same error and exit code,
    and the actor reported is the token's, as the audit log will record it. Both apply the same
    rules to the same selection (the named ids go along to the engine), so both report the same
    per message unless the store changed in between.
    """
    from deadletter import RefusedValue, ResendRequest, TargetNotConfigured, TermsRefused
    from integrator.engine_api import EngineGone, LeftRunning
    from integrator.errors import IntegratorError
    from integrator.interruptions import Interrupted, Interruptions
    from integrator.message_reads import configured_catalog, configured_destinations
    from integrator.presence import engine_way
    from integrator.resending import resend_in_store, resend_via_http
    from integrator.search import BadSearch
    from integrator.store.url import NoStore
    from integrator.store_for import open_store_there
    from integrator.token_scope import within_token_clusters

    request = ResendRequest(reason=reason or "", actor=local_actor(), mode=mode, to=to)
    # Ctrl-C (or SIGTERM) is acted on between chunks: those done are committed and audited,
    # and the command says how far it got, instead of ending silently where it stood.
    interruptions = Interruptions()

    def say_job(job_id: str) -> None:
        # First, on stderr: if this terminal goes, the batch goes on in the engine, and this
        # is how to find it again (the audit's message.resend entries carry it too).
        err_console.print(
            f"job {job_id}: the engine resends in the background; "
            f"GET /api/v1/jobs/{job_id} follows it",
            soft_wrap=True,
        )

    async def go() -> Outcome:
        store = await open_store_there(settings)  # never a new, empty one
        live = False
        try:
            checked = request.checked()  # reason and mode first: exit 2 before any work
            selection = await select(store)
            for message in selection:
                checked.mode_for(message)  # original to another destination: exit 2
            outcome = Outcome(dry_run=dry_run, request=checked, selection=selection, note=note)
            live = await engine_way(settings, store)
            # Said with nothing selected too: the way a run would go, and as whom (--json's
            # ``via`` and ``actor`` were null and the local user where the engine would act).
            outcome.via = "engine" if live else "store"
            if live:  # only what the token may resend goes: the engine refuses the rest whole
                catalog = await configured_catalog(store, settings)
                narrowed = await within_token_clusters(store, catalog, selection)
                if narrowed.token is not None:
                    outcome.request = dataclasses.replace(checked, actor=narrowed.token)
                if (refused := narrowed.refused()) is not None:
                    raise TokenClustersRefused(refused)
                if (leaving := narrowed.said()) is not None:
                    err_console.print(leaving, soft_wrap=True, markup=False)
                selection = narrowed.selection
                outcome.selection, outcome.outside = selection, narrowed.outside
            if not selection:
                if when_none is not None and not outcome.outside:
                    outcome.elsewhere = await when_none(store)
                return outcome
            # A dry run in the store decides message by message, and shows its progress (8,000
            # took 10 s without a sign); the engine answers one all at once, so no bar.
            quiet = as_json or len(selection) < 2 or (dry_run and live)
            interruptions.check()  # Ctrl-C while selecting: nothing is resent
            with progress_bar(len(selection), quiet=quiet, label="resending") as advance:
                if live:
                    answer = await resend_via_http(
                        settings,
                        selection,
                        checked,
                        progress=advance,
                        dry_run=dry_run,
                        on_job=say_job,
                        stop=lambda: interruptions.stopped,
                    )
                    outcome.results = answer.results
                    outcome.request = dataclasses.replace(checked, actor=answer.actor)
                else:
                    done = await resend_in_store(
                        settings,
                        store,
                        selection,
                        checked,
                        progress=advance,
                        dry_run=dry_run,
                        stop=lambda: interruptions.stopped,
                    )
                    outcome.results = [r.to_json() for r in done]
                    if len(done) < len(selection):
                        outcome.stopped = interruptions.exit_code or 1
            return outcome
        except TargetNotConfigured as refused:
            if not live:  # through the engine, a token sees its clusters' destinations only
                refused.known = tuple(sorted(await configured_destinations(store, settings)))
            raise
        finally:
            await store.close()

    try:
        with interruptions:
            outcome = run(go())
    except Interrupted as exc:
        fail("stopped before anything was resent", exc.exit_code)
    except LeftRunning as exc:  # the engine goes on; this terminal only stopped watching
        fail(
            f"stopped following job {exc.job_id} at {exc.done} of {exc.total}: the engine goes "
            f"on resending in the background; GET /api/v1/jobs/{exc.job_id} follows it",
            interruptions.exit_code or 1,
        )
    except EngineGone as exc:  # stopped or crashed under the job: how far, and how to finish
        fail(
            f"{exc}: a message a filter picks that was resent is skipped; one named by its id "
            "would be resent again, so name only those not done",
            exc.exit_code,
        )
    except TokenClustersRefused as exc:  # a named message the token may not resend
        fail(str(exc), 1)
    except RefusedValue as exc:  # names the option; the value only if it is a well-formed id
        fail(value_rule(exc), exc.exit_code)
    except TermsRefused as exc:  # no selector, or too many: names the options
        fail(terms_rule(exc), exc.exit_code)
    except NoStore as exc:  # run elsewhere than the engine's directory: nothing made
        fail(no_store_said(exc), exc.exit_code)
    except IntegratorError as exc:
        fail(said(exc), exc.exit_code)
    except BadSearch as exc:  # a term only the store can judge (a destination that is none)
        fail(option_rule(exc), 2)
    except RuntimeError as exc:  # the engine's job failed, or it answered an error
        fail(str(exc), 1)
    report(outcome, as_json=as_json)


class TokenClustersRefused(Exception):
    """A named message lies outside the clusters of the token the CLI sends: nothing goes."""


def _say_stopped(outcome: Outcome) -> NoReturn:
    """A run in the store stopped by a signal: how far it got, and how to finish."""
    selected, done = len(outcome.selection), len(outcome.results)
    verb = "decided" if outcome.dry_run else "done"
    others = "the other one was" if selected - done == 1 else f"the other {selected - done} were"
    stopped(
        f"stopped after {done} of {counted(selected, 'message')} {verb} (each chunk committed "
        f"and audited); {others} not resent. Run the command again for "
        "them: a message a filter picks that was resent is skipped; one named by its id would "
        "be resent again, so name only those not done.",
        outcome.stopped,
    )


def report(outcome: Outcome, *, as_json: bool) -> None:
    """Print what happened (or would) to each message; exit 1 unless every one went out."""
    sent = [r for r in outcome.results if r["outcome"] in ("resent", "would resend")]
    skipped = [r for r in outcome.results if r["outcome"] in ("skipped", "would skip")]
    left_out = [x.to_json() for x in outcome.selection.left_out]
    if outcome.note is not None:
        err_console.print(f"note: {outcome.note}", soft_wrap=True, markup=False)
    if as_json:
        done_key, skip_key = (
            ("would_resend", "would_skip") if outcome.dry_run else ("resent", "skipped")
        )
        print_json(
            {
                "dry_run": outcome.dry_run,
                "via": outcome.via,
                "actor": outcome.request.actor,
                "reason": outcome.request.reason,
                "total": len(outcome.results),
                done_key: sent,
                skip_key: skipped,
                "left_out": left_out,
                "outside_token_clusters": outcome.outside,
            }
        )
    else:
        _print(outcome, sent, skipped, left_out)
    if outcome.stopped:
        _say_stopped(outcome)
    # The error line on stderr also with --json (docs/product.md §6): stdout is the report.
    if not outcome.results:
        what = "no message matches the selection"
        if outcome.outside:
            what = "none of the selected messages lies in the token's clusters"
        err_console.print(f"[red]error:[/] {what}; nothing resent")
        for line in outcome.elsewhere:
            err_console.print(line, soft_wrap=True, markup=False)
        raise typer.Exit(1)
    if skipped:
        one = len(skipped) == 1
        verb = "would not be" if outcome.dry_run else ("was not" if one else "were not")
        where = "in the report" if as_json else "above"
        err_console.print(
            f"[red]error:[/] {counted(len(skipped), 'message')} {verb} resent (see why {where})"
        )
        raise typer.Exit(1)
    if outcome.outside:  # said above the results; not every selected message went out
        raise typer.Exit(1)


def _print(
    outcome: Outcome,
    sent: list[dict[str, Any]],
    skipped: list[dict[str, Any]],
    left_out: list[dict[str, Any]],
) -> None:
    total = len(outcome.results)
    # Of all the selection chose: "1 of 1" above a "left out" line did not add up to the two
    # dead letters the person selected (a support walkthrough's finding).
    chosen = counted(total + len(left_out), "message")
    aside = f" ({len(left_out)} left out, below)" if left_out else ""
    where = "the store (sent when the engine runs)"
    if outcome.via == "engine":
        where = "the running engine"
    actor = shown(outcome.request.actor)
    if outcome.dry_run and total:
        console.print(
            f"Dry run: {len(sent)} of {chosen} would be resent via {where}, as {actor}{aside}."
        )
    elif total:
        console.print(f"Resent {len(sent)} of {chosen} via {where}, as {actor}{aside}:")
    for r in sent:
        target = f"{r['destination']}, {r['version']}, {r['mode']}"
        if outcome.dry_run:
            console.print(f"  would resend {r['original_id']} → {shown(target)}")
        else:
            console.print(
                f"[green]✓[/] {r['original_id']} → new message {r['message_id']} "
                f"({shown(target)}, MSH-10 {r['control_id']})"
            )
            if r["note"]:  # stored, but the broker is away: it goes out when it is back
                console.print(f"    [yellow]note:[/] {shown(r['note'])}")
    label = "  would skip" if outcome.dry_run else "skipped"
    for r in skipped:
        console.print(f"[yellow]{label}[/] {r['original_id']}: {shown(r['note'] or '')}")
    for x in left_out:
        console.print(f"left out {x['id']}: {shown(x['note'])}")
