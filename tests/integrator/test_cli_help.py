"""Every ``--help`` reads as plain help: each parameter says what it is for, no reST literals
(````--x````), no Python type labels (``<bool>``, ``<list[str]>``), no ``--no-x`` for a flag
that is off anyway. Type labels are left out for every command at once
(``integrator.cli.helpstyle``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from integrator.cli import app
from integrator.reasons import MAX_REASON
from tests.cli_in_process import run_cli

TYPE_LABEL = re.compile(r"<(bool|str|int|float|path|list\[|int range|float range|datetime)")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group under ``command`` (typer's own click-like classes)."""
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_walked() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "resend", "events route", "deadletter resend", "audit list"} <= paths


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_is_plain_and_says_what_each_parameter_is(path: tuple[str, ...], command: Any) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "``" not in result.output
    assert TYPE_LABEL.search(result.output) is None, result.output
    with command.context_class(command) as ctx:
        params = command.get_params(ctx)
    silent = [p.name for p in params if not getattr(p, "help", None)]
    assert silent == [], f"{' '.join(path)}: no help text for {silent}"
    # A flag that is off unless given has no --no-… form: it would only be noise.
    pointless = [p.name for p in params if getattr(p, "secondary_opts", None) and not p.default]
    assert pointless == [], f"{' '.join(path)}: --no- forms of {pointless}"


def test_every_reason_option_says_how_long_a_reason_may_be() -> None:
    """The services refuse a longer reason (``integrator.reasons``); the help says so first,
    for every command that takes one."""
    helps: dict[str, str] = {}
    for path, command in COMMANDS:
        with command.context_class(command) as ctx:
            for param in command.get_params(ctx):
                if "--reason" in getattr(param, "opts", ()):
                    helps[" ".join(path)] = getattr(param, "help", None) or ""
    assert {"destinations pause", "users grant", "tokens revoke", "events route"} <= set(helps)
    silent = [
        path for path, text in helps.items() if f"at most {MAX_REASON} characters" not in text
    ]
    assert silent == [], silent


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_paragraphs_flow_so_the_terminal_alone_breaks_lines(
    path: tuple[str, ...], command: Any
) -> None:
    """A docstring's line breaks, kept, came out ragged once the terminal wrapped them again."""
    for paragraph in (command.help or "").split("\n\n"):
        if paragraph.startswith("\b"):
            continue
        for line in paragraph.split("\n")[1:]:
            assert re.match(r"(\s|[-*•] |\d+[.)] )", line), (" ".join(path), line)


def test_a_paragraph_is_one_line_on_a_wide_terminal() -> None:
    shown = CliRunner().invoke(app, ["resend", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert (
        "A broad filter (destination, status, version, period) skips a message that already "
        "has a live resend to the same destination, and says so." in shown.output
    )


def _reason_help(path: tuple[str, ...]) -> str:
    command = dict(COMMANDS)[path]
    with command.context_class(command) as ctx:
        [reason] = [p for p in command.get_params(ctx) if p.name == "reason"]
    return str(reason.help)


@pytest.mark.parametrize("path", [("destinations", "try-now"), ("messages", "try-now")])
def test_a_try_nows_reason_is_said_to_go_to_the_audit_trail(path: tuple[str, ...]) -> None:
    """``destinations try-now --reason`` said "kept in the history", the destination commands'
    shared words; its reason is recorded in the audit trail (``destination.try_now``), and
    ``destinations history`` never shows it."""
    said = _reason_help(path)
    assert "audit trail" in said and "kept in the history" not in said


@pytest.mark.parametrize("name", ["add", "update", "pause", "resume", "remove", "rollback"])
def test_the_destination_changes_reason_is_kept_in_the_history(name: str) -> None:
    assert "kept in the history" in _reason_help(("destinations", name))


ARGUMENT_NAME = re.compile(r"(\[?)([A-Z][A-Z_]*)(\]?)(\.\.\.)?")
"""An argument on the usage line as click and the docs name it: ``MESSAGE_ID``,
``[MESSAGE_IDS]...`` (optional), ``FILES...``."""


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_usage_names_each_argument_in_upper_case_as_the_docs_do(
    path: tuple[str, ...], command: Any
) -> None:
    """Typer 0.29 wrote ``Usage: integrator messages show [OPTIONS] {message_id}``, where the
    docs and the ``--json`` error (``MESSAGE_ID: required``) say ``MESSAGE_ID``."""
    shown = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    [usage] = [line.strip() for line in shown.output.splitlines() if "Usage:" in line]
    with command.context_class(command) as ctx:
        arguments = [p for p in command.get_params(ctx) if p.param_type_name == "argument"]
    pieces = usage.split("[OPTIONS]", 1)[1].split()
    if hasattr(command, "commands"):
        assert pieces == ["COMMAND", "[ARGS]..."], usage
        return
    assert len(pieces) == len(arguments), usage
    for piece, argument in zip(pieces, arguments, strict=True):
        named = ARGUMENT_NAME.fullmatch(piece)
        assert named is not None, usage
        assert named.group(2) == str(argument.name).upper(), usage
        assert bool(named.group(1)) is not argument.required, usage
        assert bool(named.group(4)) is (argument.nargs != 1), usage


def test_a_missing_argument_is_named_as_usage_and_json_name_it() -> None:
    said = CliRunner().invoke(
        app, ["messages", "show"], prog_name="integrator", env={"COLUMNS": "200"}
    )
    assert said.exit_code == 2
    assert "Usage: integrator messages show [OPTIONS] MESSAGE_ID" in said.output
    assert "Missing argument 'MESSAGE_ID'." in said.output
    shown = CliRunner().invoke(app, ["messages", "show", "--help"], env={"COLUMNS": "200"})
    assert "message_id" not in shown.output and "MESSAGE_ID" in shown.output


def test_version_says_the_version_and_the_store_schema_it_migrates_to() -> None:
    """There was no ``--version``: the only way to learn which schema a version would migrate a
    restored store to was ``backup``'s refusal."""
    from importlib.metadata import version

    from integrator.store.schema_version import HEAD_REVISION

    shown = run_cli("--version", env={})
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"integrator {version('integrator')} (store schema {HEAD_REVISION})\n"
