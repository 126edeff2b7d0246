"""``integrator submit``: validate and submit event files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from integrator.cli.common import (
    JsonOption,
    console,
    fail,
    load_settings,
    local_actor,
    no_store_said,
    print_json,
    run,
    said,
)
from integrator.cli.shown import shown, shown_lines


def submit(
    files: Annotated[
        list[Path],
        typer.Argument(help="Event JSON files.", exists=True, dir_okay=False, readable=True),
    ],
    as_json: JsonOption = False,
) -> None:
    """Validate and submit events; prints the event id and message ids.

    Exit codes: 0 every file accepted; 2 bad input: a file that does not exist or cannot be
    read (named, and then no file is submitted), or an event refused with its field errors
    (the other files are still submitted); 1 a file the engine did not take at all, such as
    a 503 while its store is away (the other files are still submitted), or another failure.
    """
    # A file that is not there is refused whole by typer (``exists=True``), before anything
    # is submitted: what was typed is wrong (exit 2, product.md §6), and submitting the rest
    # would leave a half-done batch to be sorted out by hand. The help said "1 when a file
    # was not taken at all", which reads as if a missing file were skipped: it is said apart.
    from integrator.engine_api import engine_running
    from integrator.submit import read_files, submit_to_store, submit_via_http

    settings = load_settings()
    contents = read_files(files)

    async def go() -> tuple[bool, list[Any]]:
        if await engine_running(settings):
            return True, await submit_via_http(settings, contents)
        # EngineElsewhere: one runs on the store, not where we look; nothing is written.
        return False, await submit_to_store(settings, contents, caller=local_actor())

    from integrator.errors import IntegratorError
    from integrator.store.url import NoStore

    try:
        live, outcomes = run(go())
    except NoStore as exc:  # nothing made, nothing submitted
        fail(no_store_said(exc), exc.exit_code)
    except IntegratorError as exc:
        # Our own refusals, each with its text and exit code, as ``with_store`` says them for
        # every other command: the engine refused the token (1), an engine runs elsewhere on
        # this store (2), the store refuses the data keys (``DataKeyError``) or the search key
        # (``SearchKeyMismatch``) at open (2, naming the setting, never a key). Nothing was
        # written.
        fail(said(exc), exc.exit_code)
    except Exception as exc:
        fail(f"submit failed: {type(exc).__name__}: {exc}")
    if as_json:
        print_json([o.to_json() for o in outcomes])
    else:
        where = (
            "Sent to the running engine"
            if live
            else "Written to the store (sent when the engine runs)"
        )
        console.print(f"{where}: {_tally(outcomes)}")
        for outcome in outcomes:
            data = outcome.to_json()
            if data["accepted"]:
                dup = " [yellow](duplicate: accepted before)[/]" if data["duplicate"] else ""
                console.print(
                    f"[green]✓[/] {data['file']}: event {data['event_id']} "
                    f"({data['zd_number']}){dup}"
                )
                for m in data["messages"]:
                    console.print(
                        f"    message {m['message_id']} → {m['destination']} "
                        f"{m['version']} MSH-10 {m['control_id']} \\[{m['status']}]"
                    )
                    # A message's own (``8 characters outside ISO 8859-1 were transliterated``):
                    # only --json gave them, where docs/product.md §6 says submit prints them.
                    for warning in m.get("warnings", ()):
                        console.print(f"      [yellow]warning:[/] {shown_lines(warning)}")
                for warning in data["warnings"]:
                    console.print(f"    [yellow]warning:[/] {shown_lines(warning)}")
            elif outcome.failed is not None:
                console.print(f"[red]✗[/] {data['file']}: {shown(outcome.failed)}")
            else:
                console.print(
                    f"[red]✗[/] {data['file']}: refused "
                    f"(kept as rejected event {data['rejected_id']})"
                )
                for e in data["errors"]:
                    console.print(
                        f"    {shown(e['path'])}: {shown(e['message'])} \\[{shown(e['rule'])}]"
                    )
    if any(o.failed is not None for o in outcomes):
        raise typer.Exit(1)  # not taken at all: try those files again
    if any(not o.to_json()["accepted"] for o in outcomes):
        raise typer.Exit(2)


def _tally(outcomes: list[Any]) -> str:
    """How the files fared, as "1 accepted, 1 refused", so the line above a refusal does not
    read as if everything was submitted."""
    accepted = sum(1 for o in outcomes if o.failed is None and o.to_json()["accepted"])
    failed = sum(1 for o in outcomes if o.failed is not None)
    refused = len(outcomes) - accepted - failed
    parts = [f"{accepted} accepted", f"{refused} refused"]
    if failed:
        parts.append(f"{failed} not taken")
    return ", ".join(parts)
