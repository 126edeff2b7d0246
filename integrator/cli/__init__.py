"""The ``integrator`` command line (docs/product.md §6): one module per command group.

Exit codes: 0 ok, 2 bad input, 1 any other failure, 128 + the signal's number for a command a
signal stopped (130: Ctrl-C). Every listing has ``--json``; with it, a failure is a JSON object
on stdout too (``integrator.cli.json_errors``). Output for people goes to stdout; logs go to
stderr. Shared helpers live in ``integrator.cli.common``;
this module only assembles the commands.
"""

from __future__ import annotations

import sys

import typer

from integrator import gcpolicy
from integrator.cli.audit import audit_app
from integrator.cli.common import err_console
from integrator.cli.deadletter import deadletter_app
from integrator.cli.destinations import destinations_app
from integrator.cli.events import events_app
from integrator.cli.health import health
from integrator.cli.helpstyle import plain_help
from integrator.cli.json_errors import JsonErrorsGroup
from integrator.cli.keys import keys_app
from integrator.cli.lifecycle import backup_command, prune_command
from integrator.cli.messages import messages_app
from integrator.cli.output import OutputNotWritten, whole_stdout
from integrator.cli.rejected import rejected_app
from integrator.cli.resend import resend_command
from integrator.cli.runtime import demo, receiver, run_command
from integrator.cli.submit import submit
from integrator.cli.tokens import tokens_app
from integrator.cli.users import users_app
from integrator.cli.versions import versions

app = typer.Typer(
    cls=JsonErrorsGroup,  # with --json, a failure is a JSON object on stdout too
    help="Integrator: referrals and diagnostic requests to HL7 v2 over MLLP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(asked: bool) -> None:
    """``--version``: this version, and the store schema it migrates a store to, so that an
    operator can tell before an upgrade what opening a store with it would do."""
    if not asked:
        return
    from importlib.metadata import version

    from integrator.store_head import HEAD_REVISION

    print(f"integrator {version('integrator')} (store schema {HEAD_REVISION})")
    raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_version,
        help="Show this version and the store schema it migrates a store to, and exit.",
    ),
) -> None:
    """Integrator: referrals and diagnostic requests to HL7 v2 over MLLP."""


app.command("run")(run_command)
app.command()(demo)
app.command()(submit)
app.command()(receiver)
app.add_typer(messages_app, name="messages")
app.add_typer(events_app, name="events")
app.add_typer(rejected_app, name="rejected")
app.command("resend")(resend_command)
app.add_typer(deadletter_app, name="deadletter")
app.add_typer(destinations_app, name="destinations")
app.command()(versions)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.command()(health)
app.command("prune")(prune_command)
app.command("backup")(backup_command)
plain_help(app)  # after every command is added: no type labels in any --help


def main() -> None:
    """The ``integrator`` command: stdout written whole (``integrator.cli.output``), or exit 1
    saying that it was not, in place of a traceback or, worse, exit 0 after a cut listing.
    The collector waits until the command's work begins (``integrator.gcpolicy``)."""
    gcpolicy.hold_for_imports()
    whole_stdout()
    try:
        app()
    except OutputNotWritten as exc:  # stdout failed: not even a JSON error can go there
        if exc.help_cut_by_reader:  # ``--help | head``: the reader took what it wanted
            _stdout_to_nowhere()
            sys.exit(0)
        err_console.print(f"error: {exc}", soft_wrap=True, markup=False)
        sys.exit(1)


def _stdout_to_nowhere() -> None:
    """Point stdout at /dev/null, so Python's last flush at exit finds no closed pipe to
    write to (and says nothing about it)."""
    import os

    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, sys.stdout.fileno())
    os.close(nowhere)


__all__ = ["app", "main"]
