"""``integrator keys generate|list|rotate``: the data keys that seal at rest the patient data
(event and message payloads, rejected bodies, ACKs and error texts) and the people's TOTP
secrets: every column in ``integrator.store.rotation.SEALED_COLUMNS``.

``generate`` only prints a new ``INTEGRATOR_DATA_KEYS`` entry: the key lives in the settings
of the engine and the commands, never in the store. ``list`` shows the keys configured beside
the key ids the store knows (in use, or retired by a rotation). ``rotate`` moves every sealed
value (and every value still plain) to the current key, the setting's first entry; see
``integrator.store.rotation``. It can be stopped and run again: it resumes. SIGINT, SIGTERM and
SIGHUP stop it after the batch under way (``integrator.interruptions``); it says and audits
how far it got, and exits 130 or 143 as a shell reports a process such a signal ended.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

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
    run,
    said,
    stopped,
    with_store,
)
from integrator.cli.shown import shown, shown_lines
from integrator.counting import counted

UNSEALED = (
    "no data key configured (INTEGRATOR_DATA_KEYS): payloads and TOTP secrets are stored "
    "unsealed; docs/operators.md, 'Encryption at rest', says how to turn it on"
)
"""What ``keys list`` says without a key, in the table and in ``--json``'s ``warnings``."""

keys_app = typer.Typer(
    help="Data keys: payloads and TOTP secrets sealed at rest (INTEGRATOR_DATA_KEYS).",
    no_args_is_help=True,
)


@keys_app.command("generate")
def keys_generate(
    key_id: Annotated[
        str | None,
        typer.Option("--id", help="The key id (default: k<today's date>, e.g. k20261130)."),
    ] = None,
) -> None:
    """Print a new entry for INTEGRATOR_DATA_KEYS: <key id>:<256-bit key in base64>.

    The id is never one the setting or the store already has (exit 2 for such an --id; the
    default takes the next free one of the day): a second key under an id would be taken for
    the first, and what that one sealed would not open."""
    from integrator.datakeys import DataKeysSettingError, fresh_key_id, new_key_entry

    try:
        kid = fresh_key_id(key_id, _key_ids_taken(), datetime.now(UTC).date())
        entry = new_key_entry(kid)
    except DataKeysSettingError as exc:
        fail(str(exc), 2)
    sys.stdout.write(entry + "\n")
    err_console.print(
        "Put it FIRST in INTEGRATOR_DATA_KEYS (comma-separated) for the engine and every "
        "command, keep the older entries until 'integrator keys rotate' has run, and keep a "
        "copy safe: without it the values sealed with it cannot be read.",
        soft_wrap=True,
    )


def _key_ids_taken() -> dict[str, str]:
    """The key ids the setting and the store (where there is one yet) already have, each with
    where, in words. A store not made yet has none: a first key is often made before it. A
    store that cannot be read fails the command: a key printed unchecked might collide."""
    from integrator.datakeys import SETTING
    from integrator.errors import IntegratorError
    from integrator.store.url import NoStore
    from integrator.store_for import open_store

    settings = load_settings()  # a malformed setting is refused here, naming the rule
    taken = {kid: f"in {SETTING}" for kid in settings.sealer().kids}

    async def known() -> dict[str, bool]:
        try:
            store = await open_store(settings, existing=True)
        except NoStore:
            return {}
        try:
            return await store.known_data_keys()
        finally:
            await store.close()

    try:
        in_store = run(known())
    except IntegratorError as exc:
        fail(f"the store's key ids could not be read, so none was generated: {said(exc)}", 1)
    for kid, in_use in in_store.items():
        taken.setdefault(kid, f"known to the store ({'in use' if in_use else 'retired'})")
    return taken


@keys_app.command("list")
def keys_list(as_json: JsonOption = False) -> None:
    """The data keys: those configured (the current one first) and those the store knows.

    With --json, an object with "keys" and "warnings", whether a key is configured or not.
    """
    # An object, not a bare list: a list dropped the warning that nothing is sealed, which the
    # table gives.
    from integrator.store import Store

    settings = load_settings()
    configured = settings.sealer().kids

    async def known(store: Store) -> dict[str, bool]:
        return await store.known_data_keys()

    in_store = with_store(known, settings, read_only=True)
    rows = []
    for kid in dict.fromkeys([*configured, *in_store]):
        role = None
        if kid in configured:
            role = "current" if kid == configured[0] else "older"
        state = None
        if kid in in_store:
            state = "in use" if in_store[kid] else "retired"
        rows.append({"key": kid, "configured": role, "store": state})
    # An empty listing alone reads as "nothing to see"; it means nothing is sealed.
    warnings = [] if configured else [UNSEALED]
    if as_json:
        print_json({"keys": rows, "warnings": warnings})
        return
    table = Table(title=f"Data keys ({len(rows)})")
    for column in ("key", "configured", "in the store"):
        table.add_column(column)
    for row in rows:
        table.add_row(shown(str(row["key"])), row["configured"] or "-", row["store"] or "-")
    console.print(table)
    for warning in warnings:
        console.print(warning)


@keys_app.command("rotate")
def keys_rotate(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be sealed again.")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Values per transaction.")] = 500,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Seal every stored value with the current data key (the first in INTEGRATOR_DATA_KEYS).

    Values sealed with an older key, and values stored before there was a key, are sealed
    again in batches, one transaction each; stopped, it resumes. When nothing is left under an
    older key, that key is marked retired and may be removed from the setting, but must be kept
    as long as any backup made before is kept (such a backup opens only with it). Audited.
    Refused (exit 2, also with --dry-run) while an engine runs on the store without that key.
    """
    from integrator.interruptions import Interruptions
    from integrator.presence import (
        describe_engine,
        engines_not_sealing_with,
        engines_unsure_of_key,
    )
    from integrator.store import Store, keycheck
    from integrator.store.old_pages import OLD_PAGES_LEFT
    from integrator.store.rotation import RotationReport

    settings = load_settings()
    if settings.data_keys is None:
        fail(
            "INTEGRATOR_DATA_KEYS is not set: generate a key (integrator keys generate) and "
            "configure it first",
            2,
        )

    current = settings.sealer().current_kid
    assert current is not None  # data keys are set

    async def engines_have_key(store: Store) -> None:
        # Checked first, so a refused rotation seals nothing; an engine started later
        # without the key is the docs' concern (restart engines first, then rotate).
        for engine in await engines_unsure_of_key(store, current):
            err_console.print(
                f"[yellow]warning:[/] a running engine did not say which data keys it has "
                f"({shown(describe_engine(engine))}): it must have {shown(current)}, or its "
                "reads of the values sealed now fail until it is restarted with it",
                soft_wrap=True,
            )

    async def count(store: Store) -> dict[str, int]:
        await engines_have_key(store)
        return await store.count_to_reseal()

    async def rotate(store: Store) -> RotationReport:
        await engines_have_key(store)
        planned = await store.count_to_reseal()
        total = sum(planned.values())
        done = 0
        with progress_bar(total, quiet=quiet or as_json, label="sealing") as advance:

            def step(handled: int) -> None:
                nonlocal done
                done += handled
                advance(done, max(total, done))

            return await store.rotate_data_keys(
                actor=local_actor(),
                batch=batch,
                progress=step,
                planned=planned,
                stop=lambda: interruptions.stopped,
                holders=lambda: engines_not_sealing_with(store, current),
            )

    async def refused_first(store: Store) -> None:
        # Before the store is opened to write: a writer registers its first key as one that
        # seals values (``keycheck``), so a rotation refused only then left the store needing
        # a key that had sealed nothing, and refusing every start without it.
        await engines_unsure_of_key(store, current)

    if dry_run:
        counts = with_store(count, settings, read_only=True)
        _show_counts(current, counts, as_json=as_json)
        return
    with_store(refused_first, settings, read_only=True)
    interruptions = Interruptions()
    with interruptions:
        report = with_store(rotate, settings)
    if report.stopped:
        planned = sum(report.counts.values())
        if as_json:
            print_json({"key": report.to_kid, "resealed": report.resealed, "stopped": True})
        stopped(
            f"stopped after {report.resealed} of {planned} values; run `integrator keys "
            "rotate` again to finish",
            interruptions.exit_code,
        )
    if report.old_pages_left:
        err_console.print(f"[yellow]warning:[/] {shown_lines(OLD_PAGES_LEFT)}", soft_wrap=True)
    view: dict[str, Any] = {
        "key": report.to_kid,
        "counts": report.counts,
        "resealed": report.resealed,
        "left": report.skipped,
        "retired": list(report.retired),
        "kept_for": [describe_engine(engine) for engine in report.kept_for],
        "old_pages_left": report.old_pages_left,
    }
    if as_json:
        print_json(view)
    else:
        console.print(
            f"{counted(report.resealed, 'value')} sealed with data key {shown(report.to_kid)}"
        )
        if report.retired:
            names = ", ".join(shown(kid) for kid in report.retired)
            console.print(
                f"no value is sealed with {names} any more: it may be removed from "
                f"{keycheck.SETTING}, but keep it in your secret store, with the backups, as "
                "long as any backup made before now is kept: such a backup opens only with it "
                f"({keycheck.RETIRED_KEYS_DOCS})",
                soft_wrap=True,
            )
    if report.kept_for:
        listed = "; ".join(describe_engine(engine) for engine in report.kept_for)
        one = len(report.kept_for) == 1
        seals = "it still seals" if one else "they still seal"
        fail(
            f"no older key was retired: {counted(len(report.kept_for), 'running engine')} "
            f"(started during the rotation?) {'does' if one else 'do'} not have "
            f"{report.to_kid} first in {keycheck.SETTING}, so {seals} new values with another "
            f"key ({listed}): restart {'it' if one else 'each'} with "
            f"{report.to_kid} first, keeping the older keys after it, then run keys rotate "
            "again",
            2,
        )
    if report.skipped:
        fail(
            f"{counted(report.skipped, 'value')} {'is' if report.skipped == 1 else 'are'} not "
            f"sealed with {report.to_kid} yet: written or "
            "changed while rotating (by an engine whose first key is another?); run keys "
            "rotate again"
        )


def _show_counts(current: str | None, counts: dict[str, int], *, as_json: bool) -> None:
    if as_json:
        print_json({"key": current, "counts": counts, "total": sum(counts.values())})
        return
    table = Table(title=f"Values to seal with data key {shown(current or '')} (dry run)")
    table.add_column("column")
    table.add_column("values", justify="right")
    for name, number in counts.items():
        table.add_row(name, str(number))
    table.add_row("total", str(sum(counts.values())))
    console.print(table)
