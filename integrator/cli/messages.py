"""``integrator messages list|show|try-now``: browse messages, attempts and ACKs.

``try-now`` is ``integrator.cli.try_now``'s. ``list`` and ``show`` only read: they never
create a store (``with_store(read_only=True)``). Times are shown in
``INTEGRATOR_TIMEZONE`` with their offset, the form ``--since`` and ``--until`` accept; ids in
tables are shortened, and ``show`` takes such a prefix back.

They search and read through ``integrator.message_reads``, as the API and the console do, so a
view of patient data (``show``, a search by ``--bsn``) is recorded in the audit log as
``local:<user>`` by the same code, before it is printed.
"""

from __future__ import annotations

import dataclasses
from datetime import tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from integrator.cli.bsn_input import bsn_help, given_bsn
from integrator.cli.common import (
    JsonOption,
    Shown,
    console,
    err_console,
    fail,
    first_rows,
    load_settings,
    local_identity,
    option_rule,
    print_json,
    resolve_event_ids,
    resolve_message_ids,
    say_shown,
    stream_csv,
    tell_elsewhere,
    with_store,
)
from integrator.cli.shown import shown, shown_lines, visible
from integrator.cli.try_now import MAX_REASON_HELP, try_now_in_store
from integrator.cli.views import (
    ACTOR_MIN,
    Column,
    attempts_table,
    fitted_table,
    last_ack_said,
    late_answers_said,
    messages_table,
    short_ids,
    shown_text,
    status_cell,
)
from integrator.cli.why import WhyOption, why_stated
from integrator.period_words import since_help, until_help
from integrator.presenters import shown_time

if TYPE_CHECKING:
    from integrator.message_reads import Elsewhere
    from integrator.store import MessageFilter, Store

messages_app = typer.Typer(help="Browse messages, their attempts and ACKs.", no_args_is_help=True)

SHOWN_VALUE_MAX = 2_000
"""Longer HL7 values are cut in ``messages show``: base64 attachments, not text people read
(a clinical question or an answer runs to a few hundred characters and is shown whole)."""


@messages_app.command("list")
def messages_list(
    zd: Annotated[
        str | None, typer.Option("--zd", help="ZD number (any case, spaces allowed).")
    ] = None,
    bsn: Annotated[
        str | None,
        typer.Option(
            "--bsn",
            help=bsn_help("Patient BSN, spaces or dots allowed (looked up by its keyed hash)"),
        ),
    ] = None,
    event_id: Annotated[
        str | None, typer.Option(help="Event id, or a prefix only one event id has.")
    ] = None,
    control_id: Annotated[str | None, typer.Option(help="MSH-10 control id.")] = None,
    destination: Annotated[str | None, typer.Option(help="Destination id.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="queued, delivered, retrying, dead…; waiting: queued or retrying."),
    ] = None,
    version: Annotated[str | None, typer.Option(help="Message version.")] = None,
    event_type: Annotated[str | None, typer.Option(help="referral or diagnostic_request.")] = None,
    since: Annotated[str | None, typer.Option(help=since_help("Created"))] = None,
    until: Annotated[str | None, typer.Option(help=until_help("Created"))] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="At most this many messages (newest first).")
    ] = 50,
    as_json: JsonOption = False,
    reason: WhyOption = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV for reports (identifiers only, no BSN).")
    ] = False,
) -> None:
    """List messages, newest first. Filters combine (AND).

    A search by --bsn is recorded in the audit log (patient_data.view) before it is shown.
    A search by --status sending finds nothing (the engine never writes that status) and says
    so in a note on stderr, also with --json and --csv (stdout stays the listing alone).
    """
    from integrator.message_reads import (
        MessageTerms,
        check_destination,
        elsewhere,
        find_messages_in_store,
        listed_messages,
        terms_filter,
    )
    from integrator.search import BadSearch

    if as_json and as_csv:
        fail("--json and --csv: choose one", 2)
    settings = load_settings()
    bsn = given_bsn(bsn)
    terms = MessageTerms(
        zd_number=zd,
        bsn=bsn,
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
        flt = terms_filter(settings, terms)
    except BadSearch as exc:
        fail(option_rule(exc), 2)

    async def with_full_ids(store: Store) -> MessageFilter:
        """An event id as listings show it (a unique prefix) made whole, as ``show`` does; a
        destination that does not exist refused (exit 2) rather than listed as empty."""
        await check_destination(store, settings, flt)
        if flt.event_id is None:
            return flt
        [full_id] = await resolve_event_ids(store, [flt.event_id], option="--event-id")
        return dataclasses.replace(flt, event_id=full_id)

    if as_csv:  # audited before a row is written, then written a page at a time

        async def export(store: Store) -> None:
            from integrator.export_stream import Planned, message_pages
            from integrator.search import CSV_COLUMNS

            full = await with_full_ids(store)
            total = await store.count_messages(full)
            # On stderr, as for the table and --json: a file that looks complete when it is
            # not is how a batch gets missed. Stdout stays pure CSV.
            say_shown(Shown(min(total, limit), total=total))
            say_status_note(flt.status)
            pages = message_pages(store, full, settings.zone)
            planned = Planned("messages", CSV_COLUMNS, min(total, limit), pages)
            await stream_csv(
                store, planned, terms=terms.given(), bsn_hash=full.bsn_hash, limit=limit
            )

        with why_stated(reason, settings):
            with_store(export, settings, read_only=True)
        return

    async def action(
        store: Store,
    ) -> tuple[list[dict[str, Any]], Elsewhere | None, int | None, int]:
        full = await with_full_ids(store)
        found = await find_messages_in_store(
            store, local_identity(), full, limit=limit, one_more=True
        )
        listed = await listed_messages(store, found, settings.zone)
        # Short ids that name one message in the store, not only among the rows shown.
        shown_ids = [m.id for m in found] + [m.resend_of for m in found if m.resend_of]
        unique = 0 if as_json else await store.unique_prefix_length("message", shown_ids)
        # Cut by --limit: how many match in all ("N of M", as `rejected list` says it), one
        # COUNT that reads no body, made only then: a listing that fits costs none
        # (bench/bench_listing_total.py measures it on 50,000 messages).
        total = max(await store.count_messages(full), limit + 1) if len(found) > limit else None
        # By that ZD number or that patient's BSN: did intake refuse it, or did it arrive for
        # a provider no destination served (the classic "it never came")? Asked when messages
        # were found too: a patient's newest referral, refused, hid behind their older ones.
        # Part of the search by BSN, recorded already: nothing more is.
        went = await elsewhere(store, local_identity(), full, found=bool(found))
        return listed, went, total, unique

    with why_stated(reason, settings):
        every, went, total, unique = with_store(action, settings, read_only=True)
    rows, shown = first_rows(every, limit)
    if total is not None:
        shown = Shown(len(rows), total=total)
    say_shown(shown)
    tell_elsewhere("besides the messages listed" if rows else "no messages", flt.zd_number, went)
    say_status_note(flt.status)
    if as_json:
        print_json(rows)
        return
    title = f"Messages ({shown})"
    console.print(
        messages_table(rows, width=console.width, zone=settings.zone, title=title, unique=unique)
    )


def say_status_note(status: str | None) -> None:
    """The note of a search by a status no message is ever in (``search.status_note``), on
    stderr: the listing it goes with, table, JSON or CSV, stays on stdout unchanged."""
    from integrator.search import status_note

    note = status_note(status)
    if note is not None:
        err_console.print(f"note: {note}", soft_wrap=True, markup=False)


@messages_app.command("try-now")
def messages_try_now(
    message_id: Annotated[str, typer.Argument(help="Message id (or a prefix only it has).")],
    reason: Annotated[str | None, typer.Option(help=MAX_REASON_HELP)] = None,
    as_json: JsonOption = False,
) -> None:
    """Attempt a message waiting for its next retry now, not at its time.

    For when the receiver is back: the same message with the same MSH-10, attempted by the
    running engine that holds it within seconds (audited as local:<user>). A message that waits
    for no retry (delivered, queued, dead...) is left as it is: exit 1, naming its status.
    """
    try_now_in_store(message_id=message_id, destination_id=None, reason=reason, as_json=as_json)


@messages_app.command("show")
def messages_show(
    message_id: Annotated[
        str, typer.Argument(help="Message id, or its start as listings show it.")
    ],
    as_json: JsonOption = False,
    reason: WhyOption = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help=f"Show every HL7 value whole; without it, values longer than "
            f"{SHOWN_VALUE_MAX:,} characters (attachments in base64) are cut.",
        ),
    ] = False,
) -> None:
    """Show one message: summary, the HL7 field by field, every attempt and ACK.

    Recorded in the audit log (patient_data.view) before it is shown: it holds patient data.

    Exit codes: 0 shown; 2 an id that names no message (or several); 1 anything else (no
    store, the view could not be recorded).
    """
    from integrator.hl7view import field_rows, hl7_delimiters, reads_as
    from integrator.message_reads import read_message_in_store

    settings = load_settings()

    async def action(store: Store) -> dict[str, Any]:
        full_id = await _message_named(store, message_id)
        message = await store.get_message(full_id)
        if message is None:  # removed between the two reads
            fail(f"no message with id {full_id}", 2)
        reading = await read_message_in_store(
            store,
            local_identity(),
            message,
            receiver_text=True,  # the server's CLI is trusted with patient data
        )
        return reading.to_json(settings.zone)

    with why_stated(reason, settings):
        detail = with_store(action, settings, read_only=True)
    if as_json:
        print_json(detail)
        return
    zone = settings.zone
    summary = Table(show_header=False, title=f"Message {detail['id']}")
    for key in (
        "zd_number",
        "event_id",
        "event_type",
        "destination",
        "version",
        "message_type",
        "control_id",
        "status",
        "attempts",
        "created_at",
        "released_at",  # from held ("-": never held); one of the moments max_age counts from
        "updated_at",
        "next_attempt_at",
        "last_error",
    ):
        value = status_cell(detail) if key == "status" else detail[key]
        if key.endswith("_at"):
            value = shown_time(value, zone)
        # ``last_error`` may quote the receiver's words: a remote system's, shown safe.
        summary.add_row(key, shown(shown_text(str(value))) if value is not None else "-")
    for warning in detail["warnings"]:
        summary.add_row("warning", shown(warning))
    console.print(summary)
    if detail["event"] is not None:
        event = Table(show_header=False, title="Event")
        for key in ("type", "action", "zd_number", "provider", "patient_name", "patient_bsn"):
            event.add_row(key, shown(str(detail["event"][key] or "-")))
        event.add_row("received_at", shown_time(detail["event"]["received_at"], zone))
        if detail["event"]["pruned_at"] is not None:
            event.add_row("payload pruned on", shown_time(detail["event"]["pruned_at"], zone))
        console.print(event)
    if detail["pruned_at"] is not None:
        console.print(f"payload pruned on {shown_time(detail['pruned_at'], zone)} (retention)")
    else:
        fields = Table(title="HL7 fields")
        fields.add_column("field", no_wrap=True)
        # Folded, not cut with "…": a value has no spaces to wrap at (base64, an e-mail address
        # in PID-13), and rich would cut it to the column, hiding the end of the value, the
        # "(+N characters)" that says a value was cut, and all of what --full asks for.
        fields.add_column("value", overflow="fold")
        whole: list[tuple[str, str]] = []  # with --full: values too long for a cell
        delimiters = hl7_delimiters(detail["hl7"])
        for position, value in field_rows(
            detail["hl7"], max_value=None if full else SHOWN_VALUE_MAX, numbered=True
        ):
            if full and len(value) > SHOWN_VALUE_MAX:
                whole.append((position, value))
                value = f"(whole below the table: {len(value):,} characters)"
            reads = reads_as(position, value, delimiters)
            # A value with escapes also as text (a letter's \.br\ as its line breaks).
            fields.add_row(
                position, shown(value) + ("" if reads is None else f"\nreads: {shown_lines(reads)}")
            )
        console.print(fields)
        # Unframed, on lines of their own: folded inside the table, 5 MiB of base64 took
        # seconds to lay out and could not be copied whole (a border every line).
        for position, value in whole:
            console.print(f"{position}, whole ({len(value):,} characters):")
            console.out(visible(value), highlight=False)
    console.print(attempts_table(detail["attempt_history"], zone, width=console.width))
    if said := last_ack_said(detail["attempt_history"]):
        console.print("\n".join(said), markup=False, highlight=False)
    if late := late_answers_said(detail["late_answers"], zone):
        console.print("\n".join(late), markup=False, highlight=False)
    # A discarded dead letter is ``cancelled``, and that was all this said: support could not
    # tell a discard from any other end, nor whom to ask about it.
    if detail["discarded"] is not None:
        console.print(_discard_said(detail["discarded"], zone))
    _print_resends(detail, settings.zone)


def _discard_said(gone: dict[str, Any], zone: tzinfo) -> str:
    """The line under the attempts, from the detail's ``discarded``: ``Discarded by … at …:
    reason``; who and why are gone once the audit trail's period pruned the discard's entry,
    and the line says so."""
    by = shown(gone["by"]) if gone["by"] else "someone no longer recorded (audit entry pruned)"
    why = f": {shown(gone['reason'])}" if gone["reason"] else ""
    return f"Discarded by {by} at {shown_time(gone['at'], zone)}{why}"


async def _message_named(store: Store, given: str) -> str:
    """The full id of the message ``given`` names (``resolve_message_ids``: when it names
    none, the refusal says what it names instead). Still exit 2, as for any unknown id."""
    [full_id] = await resolve_message_ids(store, [given], option="MESSAGE_ID")
    return full_id


def _print_resends(detail: dict[str, Any], zone: tzinfo) -> None:
    origin = detail["resent_from"]
    if origin is not None:
        console.print(
            f"This message resends {origin['original_id']} ({origin['mode']}), "
            f"by {shown(origin['actor'])} at {shown_time(origin['at'], zone)}: "
            f"{shown(origin['reason'])}"
        )
    if not detail["resends"]:
        console.print("Resends: none")
        return
    short = short_ids(r["message_id"] for r in detail["resends"])
    columns = {
        "message": Column("message", lambda r: short[r["message_id"]]),
        "at": Column("at", lambda r: shown_time(r["at"], zone)),
        "by": Column("by", lambda r: shown(r["actor"]), free_text=True, least=ACTOR_MIN),
        "mode": Column("mode", lambda r: shown(r["mode"])),
        "destination": Column("destination", lambda r: shown(r["destination"])),
        "control_id": Column("MSH-10", lambda r: shown(r["control_id"])),
        "status": Column("status", lambda r: shown(r["status"])),
        "reason": Column("reason", lambda r: shown(r["reason"]), free_text=True),
    }
    console.print(
        fitted_table(
            detail["resends"],
            columns,
            always=("message", "at", "status"),
            optional=("destination", "mode", "by", "reason", "control_id"),
            width=console.width,
            title="Resends of this message",
        )
    )
