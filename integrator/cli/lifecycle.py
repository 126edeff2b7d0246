"""``integrator prune`` and ``integrator backup FILE``: the data lifecycle on the server.

Both work on the store directly (no engine needed); ``prune`` is recorded in the audit trail
as ``local:<user>``. The decisions live in ``integrator.lifecycle``; this module only reads
options and prints. SIGINT, SIGTERM and SIGHUP stop either at its next step
(``integrator.interruptions``): a stopped prune has audited what it did, and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    progress_bar,
    stopped,
    with_store,
)
from integrator.cli.shown import shown_lines

if TYPE_CHECKING:
    from integrator.lifecycle.prune import PruneReport

LABELS = {
    "messages": "message payloads (delivered)",
    "dead_letters": "dead letters (resolved, discarded)",
    "events": "event payloads",
    "unrouted": "unrouted event payloads (no destination served them)",
    "rejected": "rejected input (deleted)",
    "jobs": "finished batch jobs (deleted)",
    "confirmations": "console confirmations, expired (deleted)",
    "searches": "console searches by BSN, expired (deleted)",
    "answers": "console answers to form posts, expired (deleted)",
    "idempotency_keys": "API idempotency keys, expired (deleted)",
    "sessions": "console sessions, ended (deleted)",
    "audit": "audit entries (deleted, oldest first)",
}


def prune_command(
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Count what would be pruned; change nothing. Beside a running engine that "
            "keeps some kind longer it still counts, and warns that the real prune would be "
            "refused.",
        ),
    ] = False,
    vacuum: Annotated[
        bool,
        typer.Option(
            "--vacuum",
            help="SQLite: rewrite the file with VACUUM afterwards (once for a store made "
            "before auto_vacuum; holds the store for writing meanwhile).",
        ),
    ] = False,
    batch: Annotated[int, typer.Option(help="Rows per transaction.", min=1, max=10000)] = 500,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Prune what is past its retention period (INTEGRATOR_RETAIN_*): payloads of delivered
    messages and their events, resolved or discarded dead letters, rejected input, the oldest
    audit entries (the chain still verifies); and the console's expired one-time
    confirmations and kept searches by BSN, and its sessions 30 days after they ended. Rows
    and attempts stay; held, queued and retrying messages are never pruned. Ctrl-C or SIGTERM
    stops it after the batch under way; what was pruned is audited (stopped), and a second
    run prunes the rest."""
    from integrator.clock import SystemClock
    from integrator.interruptions import Interruptions
    from integrator.lifecycle.prune import prune
    from integrator.lifecycle.retention import SESSION_DAYS, Retention
    from integrator.store import Store
    from integrator.store.old_pages import OLD_PAGES_LEFT

    if dry_run and vacuum:
        fail("--vacuum changes the store; it does not go with --dry-run", 2)
    settings = load_settings()
    retention = Retention.from_settings(settings)

    interruptions = Interruptions()

    async def action_on(store: Store) -> PruneReport:
        with progress_bar(0, quiet=quiet or as_json, label="pruning") as advance:
            return await prune(
                store,
                retention,
                now=SystemClock().now(),
                actor=local_actor(),
                dry_run=dry_run,
                batch=batch,
                progress=advance,
                vacuum=vacuum,
                stop=lambda: interruptions.stopped,
                zone=settings.zone,
            )

    with interruptions:
        report = with_store(action_on, settings, read_only=True)
    if report.old_pages_left:
        err_console.print(f"[yellow]warning:[/] {shown_lines(OLD_PAGES_LEFT)}", soft_wrap=True)
    if as_json:
        print_json(report.to_json(settings.zone))
        _warn(report)
        _stopped(report, interruptions.exit_code)
        return
    days = {
        "messages": retention.payload_days,
        "dead_letters": retention.dead_letter_days,
        "events": retention.payload_days,
        "unrouted": retention.unrouted_days,
        "rejected": retention.rejected_days,
        "jobs": retention.payload_days,
        "audit": retention.audit_days,
    }
    table = Table(title="would prune (dry run)" if dry_run else "pruned")
    for column in ("kind", "kept for", "count"):
        table.add_column(column)
    for kind, count in report.counts.items():
        if kind == "sessions":  # a fixed time after it ended, whatever the periods
            kept = f"{SESSION_DAYS} days after it ended"
        elif kind not in days:  # a confirmation or kept search has no period: it expires
            kept = "until it expires"
        else:
            number = days[kind]
            kept = "for ever" if number == 0 else f"{number} day{'' if number == 1 else 's'}"
        table.add_row(LABELS[kind], kept, str(count))
    console.print(table)
    if report.space_said is not None:
        console.print(f"space: {report.space_said}", soft_wrap=True, markup=False)
    _warn(report)
    _stopped(report, interruptions.exit_code)


def _warn(report: PruneReport) -> None:
    """A dry run beside an engine that keeps some kind longer: on stderr, after the counts, that
    the real prune would be refused (with ``--json`` the report carries it too)."""
    if report.warning is not None:
        err_console.print(f"[yellow]warning:[/] {shown_lines(report.warning)}", soft_wrap=True)


def _stopped(report: PruneReport, exit_code: int) -> None:
    """A run stopped by a signal: say what it did and how to finish, and exit as the signal
    asks (130 for SIGINT, 143 for SIGTERM), as a shell reports a process it ended."""
    if not report.stopped:
        return
    done = ", ".join(f"{kind} {count}" for kind, count in report.counts.items() if count)
    if report.dry_run:
        said = "dry run stopped: nothing was changed; run `integrator prune --dry-run` again"
    else:
        what = "nothing pruned" if not done else f"{report.total} pruned ({done})"
        said = f"stopped after {what}; run `integrator prune` again to finish"
    stopped(said, exit_code)


def backup_command(
    file: Annotated[Path, typer.Argument(help="Where the copy goes; FILE.search-key beside it.")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Copy the SQLite store consistently while the engine runs, with its search key file.
    For PostgreSQL use pg_dump (docs/operators.md)."""
    from integrator.errors import IntegratorError
    from integrator.lifecycle.backup import BackupReport, make_backup, plan_backup
    from integrator.settings import Settings
    from integrator.store import Store

    settings = load_settings()
    # ``load_settings`` fills in the key file's key when the setting is unset; read unresolved,
    # the setting says whether it is the key in use (then a key file beside the store is not).
    key_in_setting = Settings().search_key is not None
    try:
        plan = plan_backup(settings.database_url, file, force=force, key_in_setting=key_in_setting)
    except IntegratorError as exc:
        fail(str(exc), exc.exit_code)

    async def copied_and_audited(store: Store) -> BackupReport:
        with progress_bar(0, quiet=quiet or as_json, label="copying pages") as advance:
            return await make_backup(store, plan, actor=local_actor(), progress=advance)

    # Opening the store checks its data keys and schema: a refusal comes before the first page.
    report = with_store(copied_and_audited, settings, read_only=True)
    if as_json:
        print_json(report.to_json())
        return
    console.print(f"backup: {report.path} ({report.pages} pages)")
    if report.key_file is not None:
        console.print(f"search key: {report.key_file} (keep it with the backup)")
    elif key_in_setting:
        console.print(
            "search key: not in a file (INTEGRATOR_SEARCH_KEY); keep that setting with the backup"
        )
    else:  # a missing key file of a store that has a search key was refused by plan_backup
        console.print("search key: none yet (no BSN was stored with a search key)")
    if report.data_keys:
        console.print(
            f"data keys: {', '.join(report.data_keys)} (the copy opens only with them: keep "
            "them in your secret store, apart from the backup, as long as it is kept)",
            soft_wrap=True,
            markup=False,
        )
    else:
        console.print("data keys: none (nothing in the copy is sealed)")
    if report.key_file_not_copied is not None:
        console.print(
            f"not copied: {report.key_file_not_copied}, the key file beside the store: "
            "INTEGRATOR_SEARCH_KEY is the key in use",
            soft_wrap=True,
            markup=False,
        )
    if report.stale_key_file is not None:
        console.print(
            f"removed {report.stale_key_file}: an earlier backup's search key, not this copy's",
            soft_wrap=True,
            markup=False,
        )
    if report.left_behind is not None:
        console.print(
            f"could not delete {report.left_behind}, the older backup's search key, set aside: "
            "delete it by hand",
            soft_wrap=True,
            markup=False,
        )
