"""``integrator resend``: resend messages by id, ZD number or filter, audited (docs/product.md §6).

With a running engine the resend goes through its HTTP API (a job whose progress drives the
bar); otherwise the resends are stored as queued messages and the engine sends them when it
starts. Exit codes: 0 ok (also when some selected messages were skipped, which the output
lists), 2 bad input (no selector, no reason, unknown id, bad mode or target, nothing resendable
for a single id), 1 anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer
from rich.markup import escape

from deadletter import DeadLetterError, ResendRequest
from integrator.cli.common import (
    JsonOption,
    console,
    fail,
    load_settings,
    local_actor,
    print_json,
    progress_bar,
    run,
)
from integrator.settings import Settings
from integrator.store import MessageFilter, MessageRecord

ModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="original: same bytes and MSH-10 (default); remap: map again in the destination's "
        "current version, new MSH-10 (always the case with --to another destination).",
    ),
]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why (required; goes into the audit log).")
]
ToOption = Annotated[str | None, typer.Option("--to", help="Send to this destination instead.")]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Only show how many and which; send nothing.")
]


def resend_command(
    message_ids: Annotated[list[str] | None, typer.Argument(help="Message ids.")] = None,
    zd: Annotated[str | None, typer.Option("--zd", help="ZD number.")] = None,
    destination: Annotated[str | None, typer.Option(help="Destination id.")] = None,
    status: Annotated[str | None, typer.Option(help="delivered, dead, cancelled…")] = None,
    version: Annotated[str | None, typer.Option(help="Message version.")] = None,
    since: Annotated[str | None, typer.Option(help="From (ISO date or date-time).")] = None,
    until: Annotated[str | None, typer.Option(help="Until (a date includes that day).")] = None,
    reason: ReasonOption = None,
    mode: ModeOption = None,
    to: ToOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Resend messages (one or a filtered batch) as new, linked messages; audited."""
    from integrator.search import BadSearch, build_filter

    settings = load_settings()
    try:
        flt = build_filter(
            settings,
            zd_number=zd,
            destination=destination,
            status=status,
            version=version,
            since=since,
            until=until,
        )
    except BadSearch as exc:
        fail(str(exc), 2)
    run_resend(
        settings,
        message_ids or [],
        flt,
        reason=reason,
        mode=mode,
        to=to,
        dry_run=dry_run,
        as_json=as_json,
    )


def run_resend(
    settings: Settings,
    message_ids: Sequence[str],
    flt: MessageFilter | None,
    *,
    reason: str | None,
    mode: str | None,
    to: str | None,
    dry_run: bool,
    as_json: bool,
    check: Callable[[MessageRecord], None] | None = None,
) -> None:
    """Select, then resend through the engine or the store; shared with ``deadletter resend``.

    ``check`` may refuse a selected message (raising a ``DeadLetterError``) before anything is
    sent, e.g. "not a dead letter".
    """
    from deadletter import select_for_resend
    from integrator.resending import resend_in_store, resend_via_http
    from integrator.store import Store
    from integrator.submit import engine_running

    request = ResendRequest(
        reason=reason or "",
        actor=local_actor(),
        mode=mode,
        to=to,
    )

    async def go() -> dict[str, Any]:
        store = await Store.open(settings.database_url)
        try:
            checked = request.checked()  # reason and mode first: exit 2 before any work
            selected = await select_for_resend(store, message_ids=message_ids, flt=flt)
            for message in selected:
                if check is not None:
                    check(message)
                checked.mode_for(message)
            if dry_run or not selected:
                return {"dry_run": True, "selected": selected}
            live = await engine_running(settings)
            named = None if flt is None else set(message_ids)  # by filter: not twice
            with progress_bar(
                len(selected), quiet=as_json or len(selected) < 2, label="resending"
            ) as advance:
                if live:
                    results = await resend_via_http(
                        settings,
                        [m.id for m in selected],
                        checked,
                        progress=advance,
                        explicit_ids=named,
                    )
                else:
                    done = await resend_in_store(
                        settings, store, selected, checked, progress=advance, explicit_ids=named
                    )
                    results = [r.to_json() for r in done]
            return {"dry_run": False, "live": live, "results": results, "request": checked}
        finally:
            await store.close()

    try:
        outcome = run(go())
    except DeadLetterError as exc:
        fail(str(exc), exc.exit_code)
    _report(outcome, as_json=as_json, single=len(message_ids) == 1 and flt is None)


def _report(outcome: dict[str, Any], *, as_json: bool, single: bool) -> None:
    from integrator.presenters import message_summary

    if outcome["dry_run"]:
        selected: list[MessageRecord] = outcome["selected"]
        if as_json:
            print_json(
                {
                    "dry_run": True,
                    "total": len(selected),
                    "messages": [message_summary(m) for m in selected],
                }
            )
            return
        console.print(f"Dry run: {len(selected)} message(s) would be resent.")
        for m in selected:
            console.print(
                f"  {m.id}  {m.zd_number}  → {m.destination_id}  {m.version}  \\[{m.status}]"
            )
        return
    results: list[dict[str, Any]] = outcome["results"]
    request: ResendRequest = outcome["request"]
    resent = [r for r in results if r["resent"]]
    skipped = [r for r in results if not r["resent"]]
    if as_json:
        print_json(
            {
                "via": "engine" if outcome["live"] else "store",
                "actor": request.actor,
                "reason": request.reason,
                "resent": resent,
                "skipped": skipped,
            }
        )
    else:
        where = "the running engine" if outcome["live"] else "the store (sent when the engine runs)"
        console.print(f"Resent {len(resent)} of {len(results)} via {where}:")
        for r in resent:
            console.print(
                f"[green]✓[/] {r['original_id']} → new message {r['message_id']} "
                f"({r['destination']}, {r['version']}, {r['mode']}, MSH-10 {r['control_id']})"
            )
        for r in skipped:
            console.print(f"[yellow]skipped[/] {r['original_id']}: {escape(r['note'])}")
    if single and skipped and not resent:
        raise typer.Exit(2)
