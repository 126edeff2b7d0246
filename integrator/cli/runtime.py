"""``integrator run``, ``demo`` and ``receiver``: the engine and a test receiver."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from integrator.cli.common import console, err_console, fail, load_settings, run


def run_command(
    http: Annotated[
        bool, typer.Option("--http/--no-http", help="Serve the HTTP API (--no-http: do not).")
    ] = True,
) -> None:
    """Run the engine: intake, delivery and the HTTP API, until SIGTERM or Ctrl-C."""
    from integrator.engine import Engine
    from integrator.errors import IntegratorError
    from integrator.presence import EngineDisagrees
    from integrator.runner import HttpPortUnavailable, HttpTlsUnavailable, run_engine
    from integrator.searchkey import SearchKeyError
    from integrator.store.errors import DataKeyError, SearchKeyMismatch

    settings = load_settings(service=True)

    def refused(message: str, code: int = 1) -> NoReturn:
        """Why the engine did not start (or stopped), as its log says everything else: with
        ``INTEGRATOR_LOG_FORMAT=json`` one JSON line (``engine could not run``), which a log
        shipper reads; the plain ``error:`` line was the one line of the run it could not."""
        if settings.log_format != "json":
            fail(message, code)
        from integrator.logging import get_logger

        get_logger("integrator.runner").error(
            "engine could not run", reason=message, exit_code=code
        )
        raise typer.Exit(code)

    try:
        run(run_engine(Engine(settings, http=http)))
    except HttpPortUnavailable as exc:
        refused(str(exc))  # before anything started: one line, nothing to clean up
    except HttpTlsUnavailable as exc:
        refused(str(exc), 2)  # a setting is wrong; nothing started
    except DataKeyError as exc:
        refused(f"the engine could not start: {exc}", 2)  # at open: nothing was written with it
    except (SearchKeyMismatch, SearchKeyError) as exc:
        refused(f"the engine could not start: {exc}", 2)  # at open: nothing was written with it
    except EngineDisagrees as exc:
        refused(f"the engine could not start: {exc}", 2)  # before it resumed or sent anything
    except IntegratorError as exc:
        # Its own exit code: 2 for what a person must mend first (an older store with engines
        # of the old version still on it, EnginesStillRunning), 1 for the rest.
        refused(f"the engine could not run: {exc}", exc.exit_code)


def demo() -> None:
    """Start the engine with local receivers, submit the sample events, show what arrived."""
    from integrator.demo import run_demo
    from integrator.logging import configure_logging
    from integrator.settings import unknown_variables

    # The demo chooses its own store and destinations; the rest comes from the environment.
    unknown = unknown_variables(os.environ)
    if unknown:
        fail(f"bad settings: {'; '.join(unknown)}", 2)
    configure_logging(level="warning")
    raise typer.Exit(run(run_demo(console)))


def receiver(
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=0, max=65535)] = 2575,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    ack_code: Annotated[
        str | None, typer.Option("--ack", help="MSA-1 to answer with (AA when not given).")
    ] = None,
    delay: Annotated[
        str | None,
        typer.Option(
            "--delay",
            metavar="DURATION",
            help="Answer each message this long after it came (500ms, 30s, 10m; at most 1h): "
            "later than the destination's ack_timeout, it rehearses the engine's timeout. "
            "Answers stay in order on each connection.",
        ),
    ] = None,
    no_answer: Annotated[
        bool,
        typer.Option(
            "--no-answer",
            help="Take, print and save messages but never answer, keeping the connection open: "
            "each attempt fails after the destination's ack_timeout, and the engine closes the "
            "connection and retries with the same MSH-10 until it gives up (a dead letter).",
        ),
    ] = False,
    save: Annotated[
        Path | None,
        typer.Option(
            help="Save each message to this folder, as files only you can read (0600; a new "
            "folder is made 0700): they are full HL7, with patient data."
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Print one line per message only.")
    ] = False,
) -> None:
    """A test MLLP receiver that ACKs and prints (or saves) what it gets.

    On a terminal: a rule between messages, long values shortened. To a file or a pipe: each
    message's segments exactly, one per line, and an empty line after each.

    To rehearse an ACK that never comes: --no-answer (integrator receiver --port 2575
    --no-answer); one that comes too late: --delay longer than the destination's ack_timeout.
    The engine's attempt then fails (AckTimeout), it closes the connection, and it sends the
    message again later on a new one with the same MSH-10, until it makes it a dead letter."""
    from destinations.config import TIMEOUT_MAX, Rule, parse_duration, readable_duration
    from destinations.receiver import MllpReceiver
    from integrator.hl7view import decode_message, segment_lines

    given = [name for name, value in (("--ack", ack_code), ("--delay", delay)) if value is not None]
    if no_answer and given:
        fail(
            f"--no-answer cannot go with {' or '.join(given)}: a receiver that never answers "
            "has no code to answer with nor a time to answer at",
            2,
        )
    ack_code = (ack_code or "AA").strip().upper()  # in any case, as statuses and versions are read
    if ack_code not in {"AA", "AE", "AR", "CA", "CE", "CR"}:
        fail("--ack: one of AA, AE, AR, CA, CE, CR", 2)
    seconds = 0.0
    if delay is not None:
        try:
            seconds = parse_duration(delay)
        except Rule:
            # The files' rule but for its 24h example, which this option would refuse.
            fail(
                "--delay: must be a duration like 500ms, 30s or 10m (a bare number means "
                "seconds), 1h at most",
                2,
            )
        if seconds > TIMEOUT_MAX:
            # As long as the longest ack_timeout: a longer wait shows nothing more, and a
            # mistyped unit (10000h for 10000ms) would hold every answer for a year.
            fail(
                f"--delay: must be {readable_duration(TIMEOUT_MAX)} at most (the longest "
                "ack_timeout; for no answer at all: --no-answer)",
                2,
            )
    if no_answer:
        doing = "never answering (the connection stays open until the sender closes it)"
    elif seconds > 0:
        doing = f"answering {ack_code} after {readable_duration(seconds)}"
    else:
        doing = f"answering {ack_code}"
    # Written to a file or read by a program, the terminal's view was wrapped at spaces to the
    # width and cut values short (``…(+5 chars)``): what arrived could not be read back whole.
    exact = not sys.stdout.isatty()

    def show(data: bytes) -> None:
        if exact:
            lines = segment_lines(decode_message(data), max_field=None)
            if quiet:
                lines = lines[:1] or ["(empty message)"]
            else:
                lines.append("")  # after each message
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()
            return
        lines = segment_lines(decode_message(data))
        if quiet:
            console.print(lines[0] if lines else "(empty message)", markup=False, emoji=False)
            return
        console.rule()
        for line in lines:
            console.print(line, markup=False, emoji=False)

    import asyncio

    async def serve() -> None:
        server = MllpReceiver(
            host,
            port,
            ack_code=ack_code,
            save_dir=save,
            on_message=show,
            answer_delay=seconds,
            answering=not no_answer,
        )
        bound = await server.start()
        if server.save_dir_shared:
            err_console.print(
                f"warning: other users may read or enter {save}; the messages saved there are "
                f"readable by you only, but consider: chmod 700 {save}",
                soft_wrap=True,
                markup=False,
            )
        console.print(f"Listening for MLLP on {host}:{bound}; {doing}. Ctrl-C stops.")
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        run(serve())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        if exc.filename is not None:  # making the --save folder, before anything listens
            fail(f"--save: {exc.filename} cannot be the folder to save into: {exc.strerror}", 2)
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")
