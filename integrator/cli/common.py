"""What every command shares: output consoles, settings, the event loop, errors, the store.

Exit codes: 0 ok, 2 bad input, 1 any other failure, 130 for Ctrl-C (``stopped``, an export cut
by it). Output for people goes to stdout; logs and warnings go to stderr; a failure is said on
stderr by ``fail``, and with ``--json`` as a JSON object on stdout too (``json_errors``).
Commands that only read open the store with ``read_only=True``: they never create one, and say
on stderr which one they read. They may still write the audit log
(a CSV export, a view of patient data): "only read" is about the data they show.

A command that shows patient data records the view (``patient_data.view``, as ``local:<user>``:
``local_identity``) inside its store action, through the services the API and the console use,
and prints only after that action has returned: when the entry cannot be written, the command
exits 1 with the store's error and the note that nothing was shown, and prints nothing else.

Every ``integrator`` call imports this module and every command module (typer builds the whole
command tree, ``--help`` included), so at module level they import only typer, rich and the
standard library. The settings, the store, the event loop and the engine's packages are
imported inside the functions that use them: each call pays for what its command needs, and
``integrator --help`` for none of it (``tests/integrator/test_cli_startup.py`` keeps it so).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO, TypeVar, cast

import typer

from integrator.cli.json_errors import BAD_SETTINGS, INTERRUPTED, json_written, note_json, say_error
from integrator.cli.shown import PlainSafeConsole, shown, shown_lines

if TYPE_CHECKING:
    from rich.progress import Progress

    from deadletter import RefusedValue, TermsRefused
    from integrator.access.permissions import Identity
    from integrator.eventloop import LoopKind
    from integrator.export_stream import Planned
    from integrator.message_reads import Elsewhere
    from integrator.operators import DestinationAdmin
    from integrator.search import BadSearch
    from integrator.settings import Settings
    from integrator.store import Store

T = TypeVar("T")

PIPED_WIDTH = 160


def _width(stream: TextIO) -> int | None:
    """A terminal's own width; piped output ``COLUMNS`` if set, else 160.

    Piped output is not cut at 80 columns by default: people paste it into tickets.
    """
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


# No emoji codes: what people typed (an address, a name, a reason) may hold ``:smile:``, which
# rich would print as a picture (``a:smile:@x.nl`` listed as something else); no text of the
# CLI's own uses one.
console = PlainSafeConsole(highlight=False, emoji=False, width=_width(sys.stdout))
err_console = PlainSafeConsole(stderr=True, highlight=False, emoji=False, width=_width(sys.stderr))

JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help='Machine-readable output; a failure too, as {"error": {...}}.',
        is_eager=True,  # noted before any other option's value is judged: its refusal is JSON
        callback=note_json,
    ),
]


_OPTIONS = {"zd_number": "--zd"}
"""A search term's option where it is not the term's name with dashes (``event_type``:
``--event-type``)."""


def option_rule(exc: BadSearch) -> str:
    """A refused search term as the command line names it: ``--event-type: not an event
    type; one of referral, diagnostic_request``, the option people typed, not the API's name.
    A period that holds nothing is about two options, and names both."""
    from integrator.search import BadPeriod

    if isinstance(exc, BadPeriod):
        return f"--since and --until: {exc.terms_rule('--since', '--until')}"
    option = _OPTIONS.get(exc.field, "--" + exc.field.replace("_", "-"))
    return f"{option}: {exc.command_line_rule or exc.rule}"


_VALUE_OPTIONS = {"message_ids": "MESSAGE_IDS", "to": "--to", "mode": "--mode"}
"""A refused value's field as the command line takes it, where it is not ``--field``."""


def value_rule(exc: RefusedValue) -> str:
    """A refused value (``deadletter.RefusedValue``) as the command line says it: the option
    people typed and the rule, naming the value only where the refusal allows it (a
    well-formed id; never what may be a BSN or a name): ``--to: destination lab is not
    configured``, ``--reason: at most 1000 characters``."""
    option = _VALUE_OPTIONS.get(exc.field, "--" + exc.field.replace("_", "-"))
    return f"{option}: {exc.named_rule(option)}"


_TERM_OPTIONS = {"message_ids": "message ids", "zd_number": "--zd", "every": "--all"}
"""A request's term as the command line takes it, where it is not ``--term``."""


def terms_rule(exc: TermsRefused) -> str:
    """A refusal about the request's terms together (``deadletter.TermsRefused``: none
    selects, or they select too many) as the command line says it, naming its options (``--zd``,
    ``--since``) where the API names its fields (``zd_number``, ``since``)."""
    return exc.terms_rule(lambda term: _TERM_OPTIONS.get(term, "--" + term.replace("_", "-")))


def fail(message: str, code: int = 1) -> NoReturn:
    """The one way a command fails: ``error: message`` on stderr and exit ``code``; with
    ``--json``, the error as JSON on stdout too (``integrator.cli.json_errors``). ``message``
    names the option it refuses first (``--since: rule``), as ``option_rule`` does: the JSON
    gives that option and the rule apart."""
    # Not wrapped by us: an id or a store's URL in it stays whole for copying.
    err_console.print(f"[red]error:[/] {shown_lines(message)}", soft_wrap=True)
    say_error(code, message)
    raise typer.Exit(code)


def stopped(said: str, exit_code: int) -> NoReturn:
    """A long command a signal stopped between two steps (``integrator.interruptions``): what
    it did and how to finish, on stderr, then the exit a shell reports for that signal (130
    for SIGINT, 143 for SIGTERM). ``prune``, ``keys rotate``, ``resend`` and ``deadletter
    discard`` say it the same way."""
    err_console.print(said, soft_wrap=True, markup=False)
    say_error(exit_code or 1, said)  # with --json, unless the command's report is out already
    raise typer.Exit(exit_code or 1)


def tell_rejected(nothing: str, zd_number: str, count: int | None) -> None:
    """Say on stderr that an empty search by ZD number has rejected input with that number
    (``rejected_reads.rejected_for_zd``): "not received" is then "refused by intake", and the
    command that shows it is named. stdout stays the (empty) listing; the exit code stays 0."""
    _say(rejected_said(nothing, zd_number, count))


def rejected_said(nothing: str, zd_number: str, count: int | None) -> str | None:
    """``tell_rejected``'s line, or None when there is nothing to tell."""
    if not count:
        return None
    pieces = "1 rejected input" if count == 1 else f"{count} rejected inputs"
    return f"{nothing}; {pieces} with this ZD number: integrator rejected list --zd {zd_number}"


def unrouted_said(nothing: str, zd_number: str, count: int) -> str | None:
    """An empty search by ZD number whose referral arrived unrouted: the line, or None when
    there is nothing to tell (it arrived, but no destination served its provider then, so it
    made no message)."""
    if not count:
        return None
    pieces = "1 unrouted event" if count == 1 else f"{count} unrouted events"
    return (
        f"{nothing}; {pieces} with this ZD number (no destination served its provider when "
        f"it arrived): integrator events list --zd {zd_number}, then integrator events route"
    )


def elsewhere_said(nothing: str, zd_number: str | None, went: Elsewhere | None) -> list[str]:
    """What an empty search or selection says on stderr of where the referral went instead
    (``message_reads.elsewhere``): by ``zd_number`` when it had one, else by the patient's BSN,
    which no line shows (each names the command that asks for it unechoed, ``--bsn -``). No
    line when there is nothing to tell."""
    if went is None:
        return []
    if went.outside_terms:  # it did become messages: those, not where else it went
        return [outside_terms_said(nothing, zd_number, went.outside_terms)]
    if zd_number is not None:
        lines = [
            rejected_said(nothing, zd_number, went.rejected),
            unrouted_said(nothing, zd_number, went.unrouted),
        ]
    else:
        lines = [
            bsn_rejected_said(nothing, went.rejected),
            bsn_unrouted_said(nothing, went.unrouted),
        ]
    return [line for line in lines if line is not None]


def outside_terms_said(nothing: str, zd_number: str | None, count: int) -> str:
    """An empty search whose ZD number (or else BSN) alone finds ``count`` messages, which its
    other terms left out: the line, naming the search by it alone (the BSN unechoed)."""
    pieces = "1 message" if count == 1 else f"{count} messages"
    if zd_number is not None:
        return (
            f"{nothing} with these terms; {pieces} with this ZD number outside them: "
            f"integrator messages list --zd {zd_number}"
        )
    return (
        f"{nothing} with these terms; {pieces} of this patient outside them: "
        "integrator messages list --bsn -"
    )


def tell_elsewhere(nothing: str, zd_number: str | None, went: Elsewhere | None) -> None:
    """Say ``elsewhere_said``'s lines on stderr: stdout stays the (empty) listing; the exit
    code stays 0."""
    for line in elsewhere_said(nothing, zd_number, went):
        _say(line)


def bsn_rejected_said(nothing: str, count: int | None) -> str | None:
    """An empty search by BSN whose patient has rejected input: the line, without the BSN."""
    if not count:
        return None
    pieces = "1 rejected input" if count == 1 else f"{count} rejected inputs"
    return f"{nothing} for this BSN; {pieces} of this patient: integrator rejected list --bsn -"


def bsn_unrouted_said(nothing: str, count: int) -> str | None:
    """An empty search by BSN whose patient has unrouted events: the line, without the BSN."""
    if not count:
        return None
    pieces = (
        "1 event of this patient arrived unrouted (no destination serves its provider)"
        if count == 1
        else f"{count} events of this patient arrived unrouted (no destination serves their "
        "provider)"
    )
    return (
        f"{nothing} for this BSN; {pieces}: integrator events list --unrouted --bsn -, then "
        "integrator events route"
    )


def _say(line: str | None) -> None:
    if line is not None:
        err_console.print(line, soft_wrap=True, markup=False)


def load_settings(*, service: bool = False) -> Settings:
    """Settings from the environment, with the store's search key; logging set up.

    Commands people type show their result on stdout; routine info lines on stderr would only
    get in the way, so they log warnings and errors unless INTEGRATOR_LOG_LEVEL says otherwise.
    """
    from integrator.logging import configure_logging
    from integrator.searchkey import SearchKeyError, resolve_search_key

    settings = environment_settings()
    try:
        # Read here, created by whatever writes first (the engine, ``submit``).
        settings = resolve_search_key(settings, create=False)
    except SearchKeyError as exc:
        fail(f"bad settings: {exc}", 2)
    level = settings.log_level
    if not service and "INTEGRATOR_LOG_LEVEL" not in os.environ and level == "info":
        level = "warning"
    configure_logging(level=level, fmt=settings.log_format)
    return settings


def environment_settings() -> Settings:
    """``Settings()`` from the environment, or exit 2 naming every problem: each ``INTEGRATOR_*``
    variable that nothing reads (with the name it probably meant) and each malformed value,
    by its variable and rule, never the value (it may be a password or a key).

    A misspelt variable is refused rather than ignored: ignored, a misspelt
    ``INTEGRATOR_DATABASE_URL`` started the engine on a new, empty SQLite store while the real
    one's messages waited.
    Every command that reads the settings comes through here, or refuses the same way.
    """
    from pydantic import ValidationError

    from integrator.settings import Settings, unknown_variables

    problems = unknown_variables(os.environ)
    settings = None
    try:
        settings = Settings()
    except ValidationError as exc:
        problems += [
            f"INTEGRATOR_{'_'.join(str(p) for p in e['loc']).upper()}: "
            + str(e["msg"]).removeprefix("Value error, ")
            if e["loc"]
            else str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        ]
    if problems or settings is None:
        fail(f"{BAD_SETTINGS}{'; '.join(problems)}", 2)
    return settings


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``coro`` on the command's event loop; where the command's work begins, so where what
    it imported is frozen and the collector runs again (``integrator.gcpolicy``)."""
    from integrator import eventloop, gcpolicy

    try:
        kind = _event_loop()
    except BaseException:
        coro.close()  # refused before it started: no "never awaited" warning after the line
        raise
    gcpolicy.release_after_imports()
    return eventloop.run(coro, kind)


def _event_loop() -> LoopKind:
    """``INTEGRATOR_EVENT_LOOP``: ``uvloop`` (the default) or ``asyncio``."""
    kind = os.environ.get("INTEGRATOR_EVENT_LOOP", "uvloop")
    if kind not in ("uvloop", "asyncio"):
        fail(f"bad settings: INTEGRATOR_EVENT_LOOP: 'uvloop' or 'asyncio', not {kind!r}", 2)
    return cast("LoopKind", kind)


def print_json(data: Any) -> None:
    """The command's JSON document; a failure after it adds no second one (``json_errors``)."""
    json_written()
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@dataclass(frozen=True, slots=True)
class Shown:
    """How many rows a listing shows, and whether ``--limit`` cut it.

    ``total``: how many matched in all, for a listing that counts them cheaply (``beyond``:
    more than that, counted no further: ``listing_totals``); otherwise ``more`` says that at
    least one more matched (the listing read one row beyond its limit: ``first_rows``). A
    listing that looks complete when it is not is how a batch gets missed.
    """

    count: int
    total: int | None = None
    more: bool = False
    beyond: bool = False

    @property
    def cut(self) -> bool:
        return self.more or (self.total is not None and (self.beyond or self.total > self.count))

    def __str__(self) -> str:
        if self.total is not None and self.beyond:
            return f"{self.count} of more than {self.total} shown"
        if self.total is not None and self.total > self.count:
            return f"{self.count} of {self.total} shown"
        if self.more:
            return f"{self.count} shown, more match"
        return f"{self.count} shown"


def first_rows(rows: Sequence[T], limit: int) -> tuple[list[T], Shown]:
    """The first ``limit`` of ``rows``, read with ``limit + 1``: one row more is cheap, where
    counting every match can take a while on a large store."""
    shown = list(rows[:limit])
    return shown, Shown(len(shown), more=len(rows) > limit)


async def csv_shown(count: Callable[[int], Awaitable[int]], limit: int) -> Shown:
    """How much of what matches a ``--csv`` file holds, said as the same command's table says
    it ("N of M", counted no further than ``listing_totals`` counts: past that "more than").
    ``count`` counts the matches no further than the number it is given. One count, made
    before the file is written (the export plans its rows): "more match" alone, as the CSV
    said before, left out the total the table gives."""
    from integrator import listing_totals

    at_most = listing_totals.counted_at_most(limit)
    found = await count(at_most + 1)
    if found <= limit:
        return Shown(found)
    if found > at_most:
        return Shown(limit, total=at_most, beyond=True)
    return Shown(limit, total=found)


def say_shown(shown: Shown) -> None:
    """Say on stderr that a listing was cut, also with ``--json`` (stdout stays the JSON)."""
    if shown.cut:
        err_console.print(f"{shown}; --limit to see more", soft_wrap=True)


def os_user() -> str:
    """The login name of the process's real user id, as the system's user database has it.

    Never ``$USER``, ``$LOGNAME`` or what ``getpass.getuser`` reads from them: the caller sets
    those (``USER=colleague integrator messages show …``), and the audit trail must name who
    looked, not whom they name. A user id with no name is recorded as the number.
    """
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def local_actor() -> str:
    """Who runs a command on the server: the operating-system user, as ``local:<user>``.

    Commands working on the store directly are trusted as that user (like ``rabbitmqctl``);
    every change they make is recorded under this one name.
    """
    return f"local:{os_user()}"


def local_identity() -> Identity:
    """``local_actor`` as the identity the shared services record views of patient data under
    (``integrator.message_reads``, ``integrator.event_reads``): every role in every cluster."""
    from integrator.access.permissions import local_identity as trusted

    return trusted(local_actor())


def with_store(
    action: Callable[[Store], Awaitable[T]],
    settings: Settings | None = None,
    *,
    read_only: bool = False,
    existing: bool = False,
    rehearse: Callable[[Store], Awaitable[object]] | None = None,
    not_new: Callable[[], str | None] | None = None,
) -> T:
    """Open the configured store, run ``action``, map our errors to exit codes.

    ``read_only``, for commands that only read: no store is created (a missing one exits 1,
    naming where it was looked for), and the store read is named on stderr, so an empty answer
    from the wrong store is told from an empty answer from the right one. ``--json`` output on
    stdout stays pure JSON. ``existing``, for commands that write only about what a store
    already holds (a retry made due now): no store is created either, as a writer; a new,
    empty one could hold nothing for them, and left behind in the wrong directory it would
    take the next command run there.

    Otherwise a store that is not there is made, but only for a change that is made:
    ``rehearse``, given, is run first on a new, empty store of its own in a temporary
    directory, thrown away after, and a refusal it raises is the command's, with no store made
    where the settings point (a mistyped ``INTEGRATOR_DATABASE_URL`` and a refused command
    would leave a stray empty store, and every read there would answer "nothing found"
    instead of "no store at …"). It must do nothing outside that store; it may end by raising
    ``Rehearsed`` where the change would be made. The real store is then made and ``action``
    run on it. ``not_new``, given, is asked after the rehearsal where no store is: a reason
    the store the change belongs in must be another one (exit 1, "no store at …: <reason>",
    nothing made), or None.
    """
    from deadletter import TermsRefused
    from integrator.errors import IntegratorError
    from integrator.search import BadSearch
    from integrator.store.url import NoStore
    from integrator.store_for import open_store, open_store_there, require_store

    settings = settings or load_settings()

    async def go() -> T:
        if read_only:
            store = await open_store(settings, existing=True)
            err_console.print(f"store: {shown(store.location)}", soft_wrap=True)
        elif existing:
            store = await open_store_there(settings)
        else:
            # Opened as a writer (which registers the configured data keys), once it is known
            # whether a store was there: a write is kept in a new one, and said to be there.
            try:
                await require_store(settings)
                made = False
            except NoStore as missing:
                if rehearse is not None:
                    await _rehearsed(rehearse)  # refused: raised here, nothing made
                why = None if not_new is None else not_new()
                if why is not None:  # a change that is right, in the wrong store
                    raise NoStore(missing.display, why) from None
                made = True
            store = await open_store(settings)
            if made:
                err_console.print(f"[yellow]warning:[/] {shown_lines(new_store_said(store))}")
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return run(go())
    except NoStore as exc:
        fail(no_store_said(exc), exc.exit_code)
    except TermsRefused as exc:  # a selection refused whole: named by the options, not the API's
        fail(terms_rule(exc), exc.exit_code)
    except IntegratorError as exc:
        fail(said(exc), exc.exit_code)
    except BadSearch as exc:  # a term only the store can judge (a destination that is none)
        fail(option_rule(exc), 2)


class Rehearsed(Exception):
    """Raised by a rehearsal (``with_store``'s ``rehearse``) where the change would be made:
    everything that could refuse it has passed."""


async def _rehearsed(rehearse: Callable[[Store], Awaitable[object]]) -> None:
    """Run ``rehearse`` on a new, empty store in a temporary directory, then remove it. A
    store that cannot be made there (a temporary directory unusable) skips the rehearsal: the
    command goes on as it did before there was one."""
    import tempfile

    from integrator.store import Store
    from integrator.store.errors import StoreError

    with tempfile.TemporaryDirectory(prefix="integrator-rehearsal-") as where:  # absolute
        try:
            store = await Store.open(f"sqlite:///{where}/empty.db")
        except StoreError:
            return
        try:
            await rehearse(store)
        except Rehearsed:
            pass
        finally:
            await store.close()


def new_store_said(store: Store) -> str:
    """A command that writes made the store it writes to: said, as run elsewhere than the
    engine's directory (the default store is a relative path) no engine would ever read it.
    On PostgreSQL there is no directory to be in: the database was one without the engine's
    tables, so the advice is the URL alone."""
    if store.backend == "postgresql":
        return (
            f"no store was at {store.location}, so a new, empty one was made there for this "
            "(the database held no engine's tables); if the engine uses another database, set "
            "INTEGRATOR_DATABASE_URL to its store"
        )
    return (
        f"no store was at {store.location}, so a new, empty one was made there for this; if "
        "the engine runs elsewhere, run this from its directory or set INTEGRATOR_DATABASE_URL "
        "to its store"
    )


def no_store_said(exc: Exception) -> str:
    """A missing store (``NoStore``) with what to do. A command looks where the settings
    point, so the usual cause is a command run elsewhere than the engine's directory (the
    default store is a relative path); on a new database, the engine makes the store. A
    PostgreSQL database that does not exist is made by its administrator first."""
    if getattr(exc, "missing_database", False):
        return (
            f"{exc}; check INTEGRATOR_DATABASE_URL, or create the database first, as the "
            "postgres user: createdb -O <role> <database> (the engine makes its tables, not "
            "the database), then start the engine: integrator run"
        )
    return (
        f"{exc}; run this from the engine's directory or set INTEGRATOR_DATABASE_URL to the "
        "engine's store (a new store is made by the engine's first start: integrator run)"
    )


def said(exc: BaseException) -> str:
    """An error's text with its notes: a view of patient data that could not be recorded says
    so there (``integrator.patient_views.NOT_SHOWN``)."""
    return "; ".join([str(exc), *getattr(exc, "__notes__", ())])


def with_admin(
    action: Callable[[DestinationAdmin], Awaitable[T]],
    settings: Settings | None = None,
    *,
    read_only: bool = False,
    existing: bool = False,
    sends: bool = False,
) -> T:
    """Like ``with_store``, with the operators' destination service on that store; a reason
    it refuses is named as the option people typed (``--reason: at most 1000 characters``),
    exit 2 like every refused value. The service is the command line's: its changes may name
    TLS files anywhere (``DestinationAdmin.trusting_tls_paths``), as whoever runs it on the
    server can read them anyway.

    A destinations directory this user may not read or write (``DirectoryUnusable``: the
    documented layout keeps it to the service's user) exits 1 with one line naming the
    directory, the operation and the permission it takes, and what to do instead, for every
    ``destinations`` command: this is where they all open the service.

    A change where no store is yet, while the destinations directory holds destination files,
    is refused (``not_new``): those files are recorded in the store the engine uses, and the
    engine would take the change in from the file with its reason and author recorded nowhere
    it looks (a relative ``INTEGRATOR_DATABASE_URL`` run from another directory paused a
    destination of the running engine and called it "not in force"). Into an empty directory
    (a new deployment's first destinations) the change is made, in a new store.

    A change where no store is yet is rehearsed first (``with_store``'s ``rehearse``): the
    same ``action`` on the service over a new, empty store of its own, stopped where the
    change would be written (the service takes its ``lock`` around every write of a file and
    its revision), or, ``sends``, where a test message would be made (the service reads its
    clock for it, after every check). Refused there, it is refused before the store the
    settings point at is made. An ``action`` therefore raises its refusals (a ``StateConflict``
    too), rather than return them: a rehearsal that returns counts as accepted.
    """
    import asyncio

    from integrator.clock import SystemClock
    from integrator.destination_dir import DirectoryUnusable
    from integrator.errors import ConfigurationError
    from integrator.operators import DestinationAdmin, ReasonRefused

    settings = settings or load_settings()
    clock = SystemClock()

    def today() -> date:
        return clock.now().astimezone(settings.zone).date()

    async def action_on_store(store: Store) -> T:
        admin = DestinationAdmin(store=store, settings=settings, today=today, now=clock.now)
        return await action_of(admin.trusting_tls_paths())

    class WriteStops(asyncio.Lock):
        async def __aenter__(self) -> None:
            raise Rehearsed

    def sending() -> datetime:
        raise Rehearsed

    async def rehearsal(store: Store) -> None:
        await action_of(
            DestinationAdmin(
                store=store,
                settings=settings,
                today=today,
                now=sending if sends else clock.now,
                lock=WriteStops(),
            ).trusting_tls_paths()
        )

    async def action_of(admin: DestinationAdmin) -> T:
        try:
            return await action(admin)
        except ReasonRefused as exc:  # the service names the API's field; people typed this
            raise ConfigurationError(exc.explain("--reason")) from None
        except DirectoryUnusable as exc:
            if exc.denied:
                exc.add_note(
                    f"this command works on the files as {os_user()}: run it as the engine's "
                    "user, or change destinations through the console or the API "
                    "(docs/deploy.md)"
                )
            raise

    def not_new() -> str | None:
        from destinations.config import destination_entries

        try:
            held = len(destination_entries(settings.destinations_dir))
        except OSError:  # the change then says why, as it would have
            return None
        if not held:
            return None
        return (
            f"{settings.destinations_dir} holds {held} destination "
            f"file{'s' if held > 1 else ''}, recorded in the engine's store, not in a new one: "
            "this change would reach a running engine through the file, without its reason "
            "and author in that store's history; nothing was changed (before an engine's "
            "first start, edit the file itself)"
        )

    return with_store(
        action_on_store,
        settings,
        read_only=read_only,
        existing=existing,
        rehearse=rehearsal,
        not_new=not_new,
    )


async def resolve_message_ids(
    store: Store, ids: Sequence[str], *, option: str | None = None
) -> list[str]:
    """The full ids of message ids as people give them: whole, or a prefix only one id has.

    For every command that takes message ids, inside its store action (one line:
    ``ids = await resolve_message_ids(store, ids)``). An unknown id, a prefix shorter than
    four characters or one that several ids start with (they are listed) is a ``BadId``
    (``integrator.cli.badid``), which the commands' error mapping turns into exit 2; raised,
    not exited here, so that a command's own handling (a batch's, say) stays in charge.
    ``option``: the option the ids came with (``--message``), named first in the refusal, as
    every refused option is; an id given as the command's argument needs no name. The id
    itself is said only where it cannot be patient data (``idprefix.shown``). An id that
    names no message but an event, rejected input or an MSH-10 is refused with a note saying
    which, and the command that shows it (``message_reads.named_instead``): every command that
    takes message ids, not only ``messages show``.
    """

    async def instead(given: str) -> str | None:
        from integrator.message_reads import named_instead

        other = await named_instead(store, local_identity(), given)
        return None if other is None else _other_said(*other, given=given)

    return [await _resolved(store.resolve_message_id, given, option, instead) for given in ids]


async def resolve_event_ids(
    store: Store, ids: Sequence[str], *, option: str | None = None
) -> list[str]:
    """Like ``resolve_message_ids``, for event ids; a message's id given for one is refused
    with a note saying so and the command that shows it."""

    async def instead(given: str) -> str | None:
        from integrator.store import NotFound
        from integrator.store.idprefix import AmbiguousIdPrefix, BadIdPrefix

        try:
            found = await store.resolve_message_id(given)
        except (NotFound, AmbiguousIdPrefix, BadIdPrefix):
            return None
        message = await store.get_message(found, payload=False)
        event = "" if message is None else f"; its event is {message.event_id}"
        return f"it is a message's id{event}: integrator messages show {found}"

    return [await _resolved(store.resolve_event_id, given, option, instead) for given in ids]


def _other_said(kind: str, found: str, *, given: str) -> str:
    """Where to look at what a message's id was mistaken for."""
    if kind == "event":
        return (
            f"it is an event's id: integrator events show {found} (its messages: "
            f"integrator messages list --event-id {found})"
        )
    if kind == "MSH-10":
        return (
            f"it is an MSH-10: message {found} was sent with it (integrator messages show "
            f"{found}; every message with it: integrator messages list --control-id "
            f"{given.strip().upper()})"
        )
    return f"it is a rejected input's id: integrator rejected show {found}"


async def resolve_rejected_id(store: Store, given: str) -> str:
    """Like ``resolve_message_ids``, for the id of one piece of rejected input."""
    return await _resolved(store.resolve_rejected_id, given)


async def _resolved(
    resolve: Callable[[str], Awaitable[str]],
    given: str,
    option: str | None = None,
    instead: Callable[[str], Awaitable[str | None]] | None = None,
) -> str:
    """``resolve(given)``; a ``BadId`` when it names none or several, with ``instead``'s note
    (what an unknown id names instead) when it has one."""
    from integrator.cli.badid import BadId
    from integrator.store import NotFound
    from integrator.store.idprefix import AmbiguousIdPrefix, BadIdPrefix

    try:
        return await resolve(given)
    except (NotFound, AmbiguousIdPrefix, BadIdPrefix) as exc:
        text = str(exc) if option is None else f"{option}: {exc}"
        unknown = isinstance(exc, NotFound)
        note = await instead(given) if unknown and instead is not None else None
    refused = BadId(text, unknown=unknown)
    if note is not None:
        refused.add_note(note)
    raise refused


async def stream_csv(
    store: Store,
    planned: Planned,
    *,
    terms: dict[str, Any],
    bsn_hash: str | None,
    limit: int,
) -> None:
    """Write a ``--csv`` export to stdout a page at a time (``integrator.export_stream``),
    audited as ``local:<user>`` before its first row; a bar on stderr when it is a terminal
    and the export runs to more than a page. Cut short (the store failed, stdout closed): what
    went out and what the audit log says, on stderr, and exit 1, never 0 after a cut file;
    stopped by Ctrl-C, the same said, and exit 130 (128 + SIGINT), as ``stopped`` exits."""
    from integrator.export_stream import PAGE, ExportCut, write_export

    with progress_bar(planned.rows, quiet=planned.rows <= PAGE, label="exporting") as advance:
        try:
            written = await write_export(
                store,
                planned,
                actor=local_actor(),
                terms=terms,
                bsn_hash=bsn_hash,
                limit=limit,
                write=sys.stdout.write,
                progress=lambda done: advance(done, planned.rows),
            )
        except ExportCut as exc:
            fail(str(exc), INTERRUPTED if exc.interrupted else 1)
    if written < planned.rows:  # the file is whole as the store now stands; the trail says so
        err_console.print(
            f"note: {written:,} rows written, not the {planned.rows:,} counted at the start: "
            "fewer matched by the end (recorded in the audit log as export.cut)",
            soft_wrap=True,
            markup=False,
        )


class progress_bar:
    """A rich progress bar on stderr for batches; ``advance(done, total)`` moves it.

    Only on a terminal: piped or redirected (cron, a journal, a script), rich would still
    print the bar's last state as a line of its own on stop, and a log is no place for a bar.
    The command's summary goes to stdout either way, so nothing is lost.
    """

    def __init__(self, total: int, *, quiet: bool, label: str = "working") -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._total = total
        self._progress: Progress | None = (
            None
            if quiet or not err_console.is_terminal
            else Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=False,
            )
        )
        self._task: Any = None

    def __enter__(self) -> Callable[[int, int], None]:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("batch", total=self._total)

        def advance(done: int, total: int) -> None:
            if self._progress is not None:
                self._progress.update(self._task, completed=done, total=total)

        return advance

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
