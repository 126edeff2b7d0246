"""``integrator destinations …``: operators add, change, pause, test destinations (product.md §6).

Every change goes through ``integrator.operators.DestinationAdmin``: validated like the engine
would, written into the destination file (its comments kept), recorded as a revision. A running
engine notices the file within a second. A destination whose file is refused is listed as
``broken`` and every command works on its last good definition. Exit codes: 0 ok, 2 bad input
(a rule broken, unknown id), 1 other, among them a refusal by the destination's state (messages
waiting, paused, changed since: ``integrator.errors.StateConflict``, the API's 409).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from integrator.cli.common import (
    JsonOption,
    console,
    err_console,
    fail,
    load_settings,
    local_actor,
    print_json,
    stopped,
    with_admin,
)
from integrator.cli.json_errors import INTERRUPTED
from integrator.cli.shown import shown, shown_lines
from integrator.cli.try_now import MAX_REASON_HELP, try_now_in_store
from integrator.cli.views import Column, fitted_table, shown_ack, shown_text
from integrator.counting import counted
from integrator.presenters import iso_time, shown_time
from integrator.reasons import MAX_REASON

if TYPE_CHECKING:
    from destinations.config import DestinationConfig
    from integrator.destination_check import FilesChecked
    from integrator.engine_applied import EngineApplied
    from integrator.last_attempt import LastAttempt
    from integrator.operators import Change, DestinationAdmin, DestinationView
    from integrator.refused_edits import RefusedCopy

destinations_app = typer.Typer(
    help="Per-provider destinations: list, check, add, change, pause, test, history.",
    no_args_is_help=True,
)

ReasonOption = Annotated[
    str | None,
    typer.Option(help=f"Why; kept in the history (at most {MAX_REASON} characters)."),
]
DestinationIdArgument = Annotated[
    str, typer.Argument(help="Destination id (as `destinations list` shows it).")
]


def _report(change: Change, as_json: bool, *, engine: tuple[str, bool] | None = None) -> None:
    """The change as made; ``engine``: what the running engine made of it (a pause or a
    resume, ``_applied``), and whether it is in force: only then is the change ✓."""
    # On stderr, with --json too: a forced remove's dead letters are what to act on next.
    if change.dead_lettered:
        are = "is a dead letter" if change.dead_lettered == 1 else "are dead letters"
        err_console.print(
            f"{counted(change.dead_lettered, 'waiting message')} of {change.destination_id} "
            f"{are} now: integrator deadletter list --destination {change.destination_id}",
            markup=False,
            soft_wrap=True,
        )
    said, in_force = engine if engine is not None else (None, True)
    if as_json:
        print_json(change.to_json())
        if said is not None:
            warned = "" if in_force else "warning: "
            err_console.print(
                f"{warned}{change.destination_id}: {said}", markup=False, soft_wrap=True
            )
        return
    if change.changed:
        head = f"{change.destination_id}: {change.action} (revision {change.revision})"
        if said is None:
            console.print(f"[green]✓[/] {head}")
        elif in_force:
            console.print(f"[green]✓[/] {shown(head)}; {shown(said)}", soft_wrap=True)
        else:
            console.print(f"{shown(head)} recorded, not in force yet", soft_wrap=True)
    elif change.rewrote_refused_file:
        console.print(
            f"[green]✓[/] {change.destination_id}: {shown(change.rewrote_refused_file)} "
            "rewritten from the definition in service (which this does not change; no revision "
            "recorded)"
        )
    else:
        console.print(
            f"[green]✓[/] {change.destination_id}: no change "
            "(the definition already says this; no revision recorded)"
        )
    if change.diff:
        console.print(change.diff.rstrip("\n"), soft_wrap=True, markup=False)
    for warning in change.warnings:
        err_console.print(f"[yellow]warning:[/] {shown_lines(warning)}")
    if said is not None and not in_force:
        err_console.print(
            f"[yellow]warning:[/] {shown(change.destination_id)}: {shown(said)}", soft_wrap=True
        )


WithStrayFilesOption = Annotated[
    bool,
    typer.Option(
        "--with-stray-files",
        help='With --json: print an object instead of the list, {"destinations": [...], '
        '"stray_files": [...]}, as the API\'s ?stray_files=true: each refused file that is '
        "no destination's own (lab-west.yml) as {file, claims, problems}.",
    ),
]


@destinations_app.command("list")
def list_destinations(
    as_json: JsonOption = False, with_stray_files: WithStrayFilesOption = False
) -> None:
    """Every destination with its state, address, versions and message counts.

    queued, retrying, held, delivered: messages in that status. dead: the open dead letters,
    what `deadletter list` shows (a dead letter discarded, or resent and the resend delivered,
    is not counted); in --json `dead_letters`, while `counts.dead` counts the messages in
    status dead, those a delivered resend resolved too.

    last: what came of its last delivery attempt (delivered, retry, failed, deadletter; - before
    any); one that did not deliver, or has messages retrying that it is not of (ordering:
    rotate), is said below the table with when and why, as `destinations show` says it; in
    --json `last_attempt` (at, outcome, ack_code, reason, retrying).

    A destination whose file is refused is listed as broken, with the file, key and rule; files
    refused without being any destination's own (a copy, a wrong name) are named on stderr,
    and with --json --with-stray-files in the JSON too. A provider that more than one
    destination serves (a file copied with its providers unchanged, say) is warned of on
    stderr, once per destination serving it.
    """
    from integrator.catalog import shared_provider_notes
    from integrator.operators import stranded_said
    from integrator.stray_files import StrayFile

    if with_stray_files and not as_json:
        fail("--with-stray-files: only together with --json (the table names them on stderr)", 2)

    settings = load_settings()

    async def go(
        admin: DestinationAdmin,
    ) -> tuple[
        list[dict[str, Any]],
        list[str],
        list[StrayFile],
        list[RefusedCopy],
        list[str],
        tuple[str, str] | None,
        dict[str, int],
    ]:
        catalog = await admin.catalog()
        # The server's CLI sees every destination and every file, and why each last failed.
        rows, strays = await admin.listing(
            lambda cluster: True,
            catalog=catalog,
            reads_messages=lambda cluster: True,
            zone=settings.zone,
        )
        gone = catalog.directory_problem  # the directory itself: no file is refused
        return (
            rows,
            [str(e) for e in catalog.stray_errors if e is not gone],
            strays,
            admin.orphaned_refused_copies(catalog),
            [str(note) for note in shared_provider_notes(catalog)],
            None if gone is None else (gone.file, gone.rule),
            {} if gone is not None else await admin.stranded(catalog),
        )

    rows, stray, strays, orphaned, shared, gone, stranded = with_admin(go, settings, read_only=True)
    if gone is not None:
        # Not an empty list: a running engine keeps its destinations in service meanwhile (its
        # API lists them), and "none" would be read as "none configured".
        where, rule = gone
        fail(
            f"destinations directory unusable: {where} (INTEGRATOR_DESTINATIONS_DIR) {rule}; a "
            "running engine keeps the destinations it has in service (its API and console list "
            "them) until it is back",
            1,
        )
    for problem in stray:
        err_console.print(f"[yellow]refused file, not in service:[/] {shown(problem)}")
    for note in shared:  # a copied file with its providers unchanged shows here too
        err_console.print(f"[yellow]warning:[/] {shown_lines(note)}")
    for destination_id, waiting in stranded.items():  # its file deleted by hand
        err_console.print(
            f"[yellow]warning:[/] {shown_lines(stranded_said(destination_id, waiting))}",
            soft_wrap=True,
        )
    if as_json:
        if with_stray_files:
            print_json({"destinations": rows, "stray_files": [s.to_json() for s in strays]})
        else:
            print_json(rows)  # the list scripts read since before stray files were in it
        _say_orphaned(orphaned)
        return
    console.print(destinations_table(rows, width=console.width))
    for r in rows:
        if r["state"] == "broken":
            problem = r["problem"]
            running = (
                f"running on its last good definition (revision {r['revision']})"
                if r["revision"] is not None
                else "not in service: no good definition is known"
            )
            more = len(r["problems"]) - 1
            also = (
                f" (and {more} more: integrator destinations show {shown(r['id'])})" if more else ""
            )
            console.print(
                f"[red]broken[/] {shown(r['id'])}: {shown(problem['file'])}: "
                f"{shown(problem['key'])}: {shown(problem['rule'])}{also} — {running}"
            )
    for r in rows:
        if r["refused_copies"]:
            console.print(_refused_copies_line(r["id"], r["refused_copies"]), soft_wrap=True)
    for r in rows:
        attempt = r["last_attempt"]
        if attempt is not None and (attempt["outcome"] != "delivered" or attempt["retrying"]):
            said = shown(attempt_said(attempt))
            console.print(f"[yellow]last attempt[/] {shown(r['id'])}: {said}", soft_wrap=True)
    _say_orphaned(orphaned)


def _refused_copies_line(destination_id: str, copies: list[dict[str, Any]]) -> str:
    """One destination's kept refused edits in the list, below the table."""
    said = shown(_refused_copies_said(copies))
    return f"[yellow]refused edits kept[/] {shown(destination_id)}: {said}"


def _refused_copies_said(copies: list[dict[str, Any]]) -> str:
    """Kept refused edits, plain text: how many, the oldest's age, their names, what to do."""
    from datetime import timedelta

    from integrator.refused_edits import shown_age

    oldest = shown_age(timedelta(seconds=copies[0]["age_seconds"]))
    names = ", ".join(c["file"] for c in copies)
    return (
        f"{len(copies)} cop{'y' if len(copies) == 1 else 'ies'} beside its file, the oldest "
        f"{oldest} old: {names} — put back what was meant, then delete them (the engine never "
        "does)"
    )


def _say_orphaned(orphaned: list[RefusedCopy]) -> None:
    """Refused copies of a file no destination has any more, on stderr like stray files."""
    from integrator.clock import SystemClock
    from integrator.refused_edits import shown_age

    now = SystemClock().now()
    for kept in orphaned:
        err_console.print(
            f"[yellow]refused edit kept, its destination's file is gone:[/] {shown(kept.name)}"
            f" ({shown_age(kept.age(now))} old)"
        )


_STATE_STYLE = {"active": "active", "paused": "[yellow]paused[/]", "broken": "[red]broken[/]"}


def destinations_table(rows: Sequence[dict[str, Any]], *, width: int) -> Table:
    """``destinations list``'s rows in ``width`` with no id cut (``views.fitted_table``): on an
    80-column terminal a boxed table cut ``ziekenhuis-noord`` and ``ziekenhuis-zuid`` both to
    ``ziek…``. The id, state and open figures are always shown; the delivered count, address,
    name and versions follow as the width allows, the last attempt's outcome first (``--json``
    has everything)."""

    def count(status: str) -> Column:
        return Column(status, lambda r: str(r["counts"][status]), "right")

    columns = {
        "id": Column("id", lambda r: shown(r["id"])),
        "name": Column("name", lambda r: shown(r["name"] or "-"), free_text=True),
        "address": Column("address", lambda r: shown(r["address"] or "-")),
        "versions": Column(
            "versions",
            lambda r: ", ".join(f"{k}={v}" for k, v in r["messages"].items()) or "-",
            free_text=True,
        ),
        "state": Column("state", lambda r: _STATE_STYLE[r["state"]]),
        "queued": count("queued"),
        "retrying": count("retrying"),
        "held": count("held"),
        "dead": Column("dead", lambda r: str(r["dead_letters"]), "right"),
        "delivered": count("delivered"),
        "last": Column("last", lambda r: (r["last_attempt"] or {"outcome": "-"})["outcome"]),
    }
    return fitted_table(
        rows,
        columns,
        always=("id", "state", "queued", "retrying", "held", "dead"),
        optional=("last", "delivered", "address", "name", "versions"),
        width=width,
        title=f"Destinations ({len(rows)})",
    )


@destinations_app.command("show")
def show(destination_id: DestinationIdArgument, as_json: JsonOption = False) -> None:
    """One destination's definition in service; for a broken one, why and its last good one;
    the refused hand edits kept beside its file; since when it is paused and when it was last
    resumed, as the engine saw it (its max_age counts from that resume at the earliest; who
    and why: `destinations history`)."""
    from destinations.cert_expiry import expires_soon
    from destinations.config import definition_of, dump_destination
    from integrator.operators import problem_view

    settings = load_settings()

    async def read(
        admin: DestinationAdmin,
    ) -> tuple[
        DestinationView,
        list[dict[str, Any]],
        dict[str, Any],
        LastAttempt | None,
        list[str],
        dict[str, datetime],
    ]:
        view = await admin.view(destination_id)
        pauses = await admin.pause_times(view.id, settings.zone)
        copies = admin.refused_copies(view, zone=settings.zone)
        last = await admin.last_attempt(view.id)
        return (
            view,
            copies,
            pauses,
            last,
            admin.version_notices(view),
            admin.certificate_expiries(view),
        )

    view, copies, pauses, attempt, notices, expiries = with_admin(read, settings, read_only=True)
    # The CLI runs on the server with every permission: the reason too (never the
    # receiver's words: ``short_reason``).
    last_attempt = (
        attempt.to_json(reads_messages=True, zone=settings.zone) if attempt is not None else None
    )
    problems = view.broken.problems if view.broken else ()
    revision = view.revision
    if as_json:
        print_json(
            {
                "id": view.id,
                "file": view.file,
                "state": view.state,
                "problem": problem_view(problems[0]) if problems else None,
                "problems": [problem_view(p) for p in problems],
                "revision": revision,
                "definition": definition_of(view.config) if view.config else None,
                "refused_copies": copies,
                **pauses,
                "last_attempt": last_attempt,
                "warnings": notices,
                "certificates_expire": {
                    name: iso_time(at, settings.zone) for name, at in expiries.items()
                },
            }
        )
        return
    for notice in notices:  # a deprecated or retired version, as the API and console say it
        err_console.print(f"[yellow]warning:[/] {shown_lines(notice)}", soft_wrap=True)
    console.print(f"# {view.file}", markup=False, style="dim")
    for label, key in (("paused since", "paused_at"), ("last resumed", "resumed_at")):
        console.print(f"# {label}: {shown_time(pauses[key])}", markup=False, style="dim")
    if pauses["paused_by"] is not None:
        console.print(
            f"# paused by: {paused_by_said(pauses['paused_by'])}",
            markup=False,
            style="dim",
            soft_wrap=True,
        )
    console.print(
        f"# last attempt: {attempt_said(last_attempt)}",
        markup=False,
        style="dim",
        soft_wrap=True,
    )
    now = datetime.now(UTC)
    for name, at in expiries.items():
        days = (at - now).days
        said_at = shown_time(at, settings.zone)
        when = f"expired {said_at}" if at <= now else f"expires {said_at}"
        soon = expires_soon(at, now)  # as the alert fires
        left = "" if at <= now else f" (in {days} day{'s' if days != 1 else ''})"
        console.print(f"# tls.{name} {when}{left}", markup=False, style="yellow" if soon else "dim")
    for problem in problems:
        console.print(f"# refused: {problem}", markup=False, style="red")
    if copies:  # a comment: the output stays a definition that can be saved as a file
        said = f"# refused edits kept: {_refused_copies_said(copies)}"
        console.print(said, markup=False, style="yellow", soft_wrap=True)
    if view.broken is not None:
        console.print(
            f"# the definition in service: its last good one, revision {revision}"
            if view.config is not None
            else "# no good definition is known: fix the file",
            markup=False,
            style="dim",
        )
    if view.config is not None:
        text = dump_destination(view.config)
        console.print(text.rstrip("\n"), soft_wrap=True, markup=False)
        unset = _unset_ack_types(view.config)
        if unset:  # a comment again: what goes in MSH-15/16 while the keys are not written
            config = view.config
            sent = f"{config.msh_accept_ack_type}/{config.msh_application_ack_type}"
            said = f"# MSH-15/16 sent: {sent} ({' and '.join(unset)} not set: the default)"
            console.print(said, markup=False, style="dim", soft_wrap=True)


def attempt_said(attempt: dict[str, Any] | None) -> str:
    """Why the destination is not delivering, if it is not, from its ``last_attempt`` as
    ``--json`` gives it (``LastAttempt.to_json``, in the engine's zone): when delivery last
    tried and what came of it or why it failed; then the messages still retrying that it is
    not of, how many, since when the oldest was made and why that one last failed."""
    if attempt is None:
        return "-"
    said = f"{shown_time(attempt['at'])}: {attempt['reason'] or attempt['outcome']}"
    retrying = attempt.get("retrying")
    if retrying is None:
        return said
    oldest = retrying["last_attempt"]
    why = f": {oldest['reason'] or oldest['outcome']}" if oldest is not None else ""
    since = shown_time(retrying["since"])
    return f"{said}; {retrying['count']} retrying, the oldest since {since}{why}"


def paused_by_said(paused_by: dict[str, Any]) -> str:
    """Who paused the destination, with which change, when and why (``paused_by`` as
    ``--json`` gives it): ``anna (pause, revision 7, 2026-12-01T08:00:00+01:00): HIS down``."""
    reason = paused_by["reason"]
    change = f"{paused_by['action']}, revision {paused_by['revision']}"
    said = f"{paused_by['actor']} ({change}, {shown_time(paused_by['at'])})"
    return f"{said}: {reason}" if reason else f"{said}, no reason given"


def _unset_ack_types(config: DestinationConfig) -> list[str]:
    """The MSH-15/16 keys an enhanced-mode destination leaves to their defaults."""
    if config.ack_mode != "enhanced":
        return []
    keys = {
        "accept_ack_type": config.accept_ack_type,
        "application_ack_type": config.application_ack_type,
    }
    return [key for key, value in keys.items() if value is None]


@destinations_app.command("add")
def add(
    file: Annotated[str, typer.Argument(help="A destination YAML file, or - for stdin.")],
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a destination from a YAML definition (docs/product.md §5.1)."""

    source = "(standard input)" if file == "-" else file  # named in a refusal, as typed
    if file == "-":
        raw = sys.stdin.buffer.read()
    else:
        path = Path(file)
        if path.is_dir():
            fail(f"{file}: is a directory, not a destination file", 2)
        if not path.is_file():
            fail(f"{file}: no such file", 2)
        raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # As the engine and `destinations list` refuse such a file (a hand edit saved as
        # Latin-1, say): the rule, not a traceback.
        fail(f"{source}: (file): is not UTF-8 text; save it as UTF-8", 2)
    change = with_admin(
        lambda admin: admin.add(text, actor=local_actor(), reason=reason, source=source)
    )
    _report(change, as_json)


@destinations_app.command("check")
def check(
    files: Annotated[
        list[str],
        typer.Argument(help="Destination YAML files to check.", show_default=False),
    ],
    as_json: JsonOption = False,
) -> None:
    """Check destination files as the engine would read them, changing nothing.

    Each file is held to every rule the engine holds a file in the destinations directory to
    (keys and values, message versions, TLS files there and loadable, the cluster's name, the
    file named <id>.yaml and no other destination's file there, no id of another file
    given), and every mistake is named with file, key and rule. No engine and no store are
    needed, and none is written: no file, no revision, no audit entry. What needs the store
    (a removed destination's id, a retired version already in service, a cluster nobody
    holds) is said to be skipped, and why. Exit 0: every file accepted; 2: any refused.
    """
    from integrator.cli.common import environment_settings
    from integrator.clock import SystemClock
    from integrator.destination_check import check_destination_files
    from integrator.logging import configure_logging

    settings = environment_settings()  # no search key: no store is read
    configure_logging(level="warning", fmt=settings.log_format)
    today = SystemClock().now().astimezone(settings.zone).date()
    checked = check_destination_files(
        [Path(file) for file in files], directory=settings.destinations_dir, today=today
    )
    if as_json:
        print_json(checked.to_json())
    else:
        _say_checked(checked)
    if checked.refused:
        raise typer.Exit(2)


def _say_checked(checked: FilesChecked) -> None:
    """Each file's verdict, its mistakes (file: key: rule, as ``list`` and ``show`` say them)
    and warnings; then what was not checked, and the count."""
    for verdict in checked.files:
        if verdict.refused:
            count = len(verdict.problems)
            mistakes = f"{count} mistake{'s' if count != 1 else ''}"
            console.print(f"[red]✗[/] {shown(verdict.file)}: refused, {mistakes}", soft_wrap=True)
        else:
            what = (
                f"replaces {verdict.replaces}"
                if verdict.replaces
                else "a new destination"
                if verdict.new
                else "its file in the destinations directory"
            )
            console.print(
                f"[green]✓[/] {shown(verdict.file)}: accepted: destination "
                f"{shown(verdict.destination_id or '')}, {shown(what)}",
                soft_wrap=True,
            )
        for problem in verdict.problems:
            console.print(f"  refused: {problem}", markup=False, soft_wrap=True)
        for warning in verdict.warnings:
            console.print(f"  warning: {warning}", markup=False, soft_wrap=True)
    for skipped in checked.skipped:
        console.print(
            f"not checked: {skipped.check}: {skipped.why}",
            markup=False,
            style="dim",
            soft_wrap=True,
        )
    refused = sum(1 for verdict in checked.files if verdict.refused)
    total = len(checked.files)
    console.print(
        f"{total} file{'s' if total != 1 else ''} checked: {total - refused} accepted, "
        f"{refused} refused"
    )


@destinations_app.command("update")
def update(
    destination_id: DestinationIdArgument,
    assignments: Annotated[
        list[str],
        typer.Option("--set", help="KEY=VALUE, e.g. port=2576 or retry.max_attempts=5."),
    ],
    reason: ReasonOption = None,
    expect_revision: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Change only if the destination is still at this revision (see show --json or "
            "history); else nothing is changed, exit 1.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change keys of a destination; applies to the next attempt.

    With --expect-revision, a script that read a revision never undoes a change made since.
    """
    change = with_admin(
        lambda admin: admin.update(
            destination_id,
            assignments,
            actor=local_actor(),
            reason=reason,
            expected_revision=expect_revision,
        )
    )
    _report(change, as_json)


@destinations_app.command("pause")
def pause(
    destination_id: DestinationIdArgument,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stop delivering; messages stay queued.

    With an engine running on this store, waits until it has stopped delivering (an attempt
    on the wire is finished first: at most the destination's connect and ACK timeouts and a
    few seconds, said while it waits) and says when; if it has not by then, says so and how
    to check. Without one, says that the next engine to start takes the pause in.
    """
    _set_enabled(destination_id, False, reason, as_json)


@destinations_app.command("resume")
def resume(
    destination_id: DestinationIdArgument,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deliver again, starting with what queued up.

    Waits for the running engine as pause does, until it delivers to it again.
    """
    _set_enabled(destination_id, True, reason, as_json)


def _set_enabled(destination_id: str, enabled: bool, reason: str | None, as_json: bool) -> None:
    """Pause or resume, and say what the running engine made of it.

    The file and the revision are written at once, but delivery stops (or starts) only when
    the engine has applied them: a ✓ on the write alone told an operator, about to take the
    receiver down, that nothing went out any more while it still did
    (``integrator.engine_applied``). ``--json`` prints the change as ever; what the engine
    made of it is said on stderr then.
    """
    from integrator.engine_applied import engine_applies, wait_s

    def waiting(bound: float) -> None:
        doing = "deliver to it again" if enabled else "stop delivering to it"
        first = "" if enabled else ", and finishes an attempt on the wire first"
        err_console.print(
            f"{destination_id}: waiting for the running engine to {doing} (at most "
            f"{bound:.0f} s: it sees the file within a second{first})…",
            markup=False,
            soft_wrap=True,
        )

    made: list[Change] = []

    async def go(admin: DestinationAdmin) -> tuple[Change, EngineApplied | None]:
        before = await admin.store.destination_pause(destination_id)
        change = await admin.set_enabled(
            destination_id, enabled, actor=local_actor(), reason=reason
        )
        if not change.changed:
            return change, None
        made.append(change)
        applied = await engine_applies(
            admin.store,
            change.destination_id,
            enabled=enabled,
            before=before,
            wait=wait_s(change.config, enabled=enabled),
            waiting=waiting,
        )
        return change, applied

    settings = load_settings()
    try:
        change, applied = with_admin(go, settings)
    except KeyboardInterrupt:
        if not made:
            raise
        # Ctrl-C while waiting: the change is made all the same, and the engine applies it.
        done = made[0]
        line = "last resumed" if enabled else "paused since"
        stopped(
            f"{done.destination_id}: {done.action} (revision {done.revision}) recorded; "
            f"stopped waiting for the running engine to apply it: `integrator destinations "
            f"show {done.destination_id}` says '# {line}: …' once it has",
            INTERRUPTED,
        )
    engine = None if applied is None else _applied(change, applied, settings.zone)
    _report(change, as_json, engine=engine)


def _applied(change: Change, applied: EngineApplied, zone: tzinfo) -> tuple[str, bool]:
    """What the engines on the store made of ``change``, a pause or a resume, and whether it
    is in force (False: no engine had applied it within the wait)."""
    dest = change.destination_id
    paused = change.action != "resume"
    next_one = "does not deliver to it" if paused else "delivers to it"
    if applied.engines == 0:
        return f"no engine runs on this store, and the next to start {next_one}", True
    if applied.stopped:
        return (
            f"the running engine stopped before it applied this; no engine runs on this store "
            f"now, and the next to start {next_one}",
            True,
        )
    when = shown_time(applied.at, zone)
    others = (
        f" ({applied.engines} engines run on this store: each applies it when it sees the file)"
        if applied.engines > 1
        else ""
    )
    if applied.at is None and not applied.already:
        doing = "stopped delivering to it" if paused else "delivered to it again"
        line = "paused since" if paused else "last resumed"
        return (
            f"the running engine has not {doing} within {applied.waited_s:.0f} s; it "
            f"applies the file when it sees it: `integrator destinations show {dest}` says "
            f"'# {line}: …' once it has, and the engine's log says why if it cannot",
            False,
        )
    if paused and not applied.already and applied.engines > 1:
        # The pause is recorded once, by the first engine that applied it: most often one
        # that was not delivering to the destination, while the one that is may still have
        # an attempt on the wire. Which engine delivers is the broker's choice, unseen here.
        return (
            f"one of the {applied.engines} engines on this store applied it at {when}; the one "
            "delivering to it stops once its attempt on the wire is finished (at most its "
            "connect timeout and twice its ACK timeout after it sees the file)",
            False,
        )
    if paused and applied.already:
        return f"the running engine has not delivered to it since {when}{others}", True
    if paused:
        return f"the running engine stopped delivering to it at {when}{others}", True
    if applied.already:
        return f"the running engine had not taken the pause in: it delivers to it{others}", True
    return f"the running engine delivers to it again since {when}{others}", True


@destinations_app.command("try-now")
def try_now(
    destination_id: DestinationIdArgument,
    reason: Annotated[str | None, typer.Option(help=MAX_REASON_HELP)] = None,
    as_json: JsonOption = False,
) -> None:
    """Attempt every message waiting for its next retry now, not at its time.

    For when the receiver is back after an outage: each waiting retry of the destination is
    attempted within seconds by the running engine that holds it, with the same MSH-10
    (audited as local:<user>). None waiting is said, and is no error.
    """
    try_now_in_store(message_id=None, destination_id=destination_id, reason=reason, as_json=as_json)


@destinations_app.command("remove")
def remove(
    destination_id: DestinationIdArgument,
    force: Annotated[
        bool, typer.Option("--force", help="Dead-letter messages still waiting.")
    ] = False,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a destination; refused while messages wait (exit 1, nothing removed), unless
    --force."""
    from integrator.errors import StateConflict
    from integrator.operators import DestinationBusy

    async def go(admin: DestinationAdmin) -> Change:
        try:
            return await admin.remove(
                destination_id, actor=local_actor(), force=force, reason=reason
            )
        except DestinationBusy as refused:  # raised, not returned: ``with_admin`` rehearses
            raise StateConflict(refused.explain("remove with --force")) from None

    _report(with_admin(go), as_json)


@destinations_app.command("rollback")
def rollback(
    destination_id: DestinationIdArgument,
    revision: Annotated[int, typer.Argument(help="The revision to go back to (see history).")],
    reason: ReasonOption = None,
    expect_revision: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Roll back only if the destination is still at this revision (see history); "
            "else nothing is changed, exit 1.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Restore an earlier revision of a destination; whether it is paused stays as it is.

    Pausing and resuming are actions of their own (pause, resume): a rollback to the revision
    before a pause leaves the destination paused.
    """
    change = with_admin(
        lambda admin: admin.rollback(
            destination_id,
            revision,
            actor=local_actor(),
            reason=reason,
            expected_revision=expect_revision,
        )
    )
    _report(change, as_json)


@destinations_app.command("history")
def history(
    destination_id: DestinationIdArgument,
    last: Annotated[
        int | None,
        typer.Option("--last", min=1, help="Only the newest N changes (still oldest first)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every change: revision, when, who, what, why, and the diff."""
    from integrator.history_actions import told

    settings = load_settings()
    rows = with_admin(
        lambda admin: admin.history(destination_id, settings.zone, last=last),
        settings,
        read_only=True,
    )
    if as_json:
        print_json(rows)
        return
    for r in rows:
        why = f" — {r['reason']}" if r["reason"] else ""
        at = shown_time(r["at"], settings.zone)
        console.rule(
            f"revision {r['revision']}: {told(r['action'], r['actor'], at)}{why}",
            align="left",
        )
        if r["diff"]:
            console.print(r["diff"].rstrip("\n"), soft_wrap=True, markup=False)


@destinations_app.command("test")
def send_test(
    destination_id: DestinationIdArgument,
    event_type: Annotated[
        str | None,
        typer.Option(
            help="referral or diagnostic_request (default: the first event type the "
            "destination's `messages` maps, in its file's order)."
        ),
    ] = None,
    even_if_paused: Annotated[
        bool,
        typer.Option(
            "--even-if-paused",
            help="Send it although the destination is paused (recorded in the audit log).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Send one test message (MSH-11 T) and show the ACK and the round-trip time.

    A paused destination is refused (exit 1, nothing sent): its traffic was stopped on purpose.
    --even-if-paused sends it all the same, and the audit entry says so.
    """
    from destinations.event_types import EVENT_TYPES
    from integrator.errors import StateConflict
    from integrator.operators import DestinationPaused, TestResult
    from integrator.search import closed_value

    if event_type is not None:  # named as every command names it, not as a kind not taken
        event_type = closed_value(event_type, EVENT_TYPES)
        if event_type == "":
            fail(f"--event-type: not an event type; one of {', '.join(EVENT_TYPES)}", 2)

    async def go(admin: DestinationAdmin) -> TestResult:
        try:
            return await admin.test(
                destination_id, event_type, actor=local_actor(), even_if_paused=even_if_paused
            )
        except DestinationPaused as refused:  # raised, not returned: ``with_admin`` rehearses
            raise StateConflict(refused.explain("send one anyway with --even-if-paused")) from None

    result = with_admin(go, sends=True)  # a new store is made only for a message sent
    if as_json:
        print_json(result.__dict__)
    else:
        colour = "green" if result.outcome == "delivered" else "red"
        console.print(
            f"{destination_id}: {result.version} test message {result.control_id} → "
            f"[{colour}]{result.outcome}[/] in {result.round_trip_ms:.1f} ms"
            + (f", ACK {result.ack_code}" if result.ack_code else "")
        )
        # The receiver's words, a remote system's: shown safe for the terminal, and cut.
        for segment in shown_ack(result.ack or ""):
            console.print(f"  {segment}", markup=False, soft_wrap=True)
        if result.error:
            console.print(f"  {shown_text(result.error)}", markup=False)
    if result.outcome != "delivered":
        raise typer.Exit(1)
