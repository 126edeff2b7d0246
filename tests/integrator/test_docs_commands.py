"""Every ``integrator …`` command the operator's pages show parses with the CLI as it is.

A newcomer types the commands of README.md, docs/deploy.md, docs/operators.md and the pages they
send operators to (access, metrics, amqp) as written: a subcommand renamed or an option
misspelt in the docs would stop them at the first step. Each command line in a code block, and
each one quoted inline, goes through the CLI's own parser (nothing runs); a synopsis's notation
(``[--json]``, ``ROLE…``, ``FILE|-``, ``pause ID | resume ID``) is read as every form it allows.
A command quoted only in part (``integrator tokens revoke``, without its id) may leave out what
it needs; a subcommand, an option or a value the parser refuses fails here.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from integrator.cli import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "README.md",
    "docs/deploy.md",
    "docs/operators.md",
    "docs/access.md",
    "docs/metrics.md",
    "docs/amqp.md",
    "docs/receivers.md",
)
CLI = typer.main.get_command(app)
PROGRAM = re.compile(r"(?:^|[\s$(;'])(?:\S*/)?integrator ((?:(?!\s#)[^$)'`])+)")
INLINE = re.compile(r"`(?:\S*/)?integrator ([^`]+)`")
NUMBERS = re.compile(r"\b(N|REVISION)\b")


def _forms(text: str) -> Iterator[str]:
    """The command lines a synopsis stands for: optional parts given, ``a | b`` both."""
    text = text.replace("[", " ").replace("]", " ").replace("FILE|-", "FILE")
    text = NUMBERS.sub("3", text.replace("…", " "))
    first, *others = [part.strip() for part in text.split(" | ")]
    forms = [first]
    group = first.split()[:-2] if len(first.split()) > 2 else first.split()[:1]
    for other in others:  # `pause ID | resume ID`: the other subcommand of the same group
        forms.append(other if other.split()[0] in CLI.commands else " ".join([*group, other]))  # type: ignore[attr-defined]
    for form in forms:  # `destinations list|show|add`: each of them
        words = form.split()
        spelled = next((i for i, word in enumerate(words) if "|" in word), None)
        if spelled is None:
            yield form
        else:
            for word in words[spelled].split("|"):
                yield " ".join([*words[:spelled], word, *words[spelled + 1 :]])


def _commands() -> Iterator[tuple[str, str]]:
    """(where, command line after ``integrator``) for every command the pages show."""
    for page in PAGES:
        in_block = False
        for number, line in enumerate((ROOT / page).read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("```"):
                in_block = not in_block
                continue
            found = [m.group(1) for m in INLINE.finditer(line)]
            if in_block and not line.lstrip().startswith("#"):
                found += [m.group(1) for m in PROGRAM.finditer(line)]
            for text in found:
                for form in _forms(text.strip().rstrip("\\").strip()):
                    words = form.split()
                    if words and words[0] in CLI.commands:  # type: ignore[attr-defined]
                        yield f"{page}:{number}", form


COMMANDS = sorted(set(_commands()))


def _parse(words: list[str]) -> None:
    """Parse ``words`` down the command tree as ``integrator`` would, running nothing."""
    command: Any = CLI
    context = command.make_context("integrator", list(words))
    while hasattr(context.command, "commands"):
        rest = [*context._protected_args, *context.args]
        if not rest:
            return
        sub = context.command.get_command(context, rest[0])
        if sub is None:
            raise AssertionError(f"no command {rest[0]!r}")
        context = sub.make_context(rest[0], rest[1:], parent=context)


def test_the_pages_show_commands() -> None:
    places = {place.split(":")[0] for place, _ in COMMANDS}
    assert places >= {"README.md", "docs/deploy.md", "docs/operators.md", "docs/access.md"}
    shown = {form.split()[0] + " " + form.split()[1] for _, form in COMMANDS if " " in form}
    assert {"destinations pause", "tokens create", "users create-admin", "keys rotate"} <= shown


def _refusal(line: str) -> str | None:
    """Why the CLI's parser refuses ``line``; None when it takes it, or when what it misses
    is only what a command quoted in part leaves out."""
    try:
        _parse(shlex.split(line))
    except typer.Exit:
        return None
    except typer.TyperException as exc:
        partial = type(exc).__name__ in ("MissingParameter", "NoArgsIsHelpError")
        return None if partial or "requires an argument" in str(exc) else str(exc)
    except AssertionError as exc:
        return str(exc)
    return None


def test_every_command_the_docs_show_parses() -> None:
    """One test for them all: each refusal is named with its page and line."""
    refused = [
        f"{place}: integrator {line}: {why}"
        for place, line in COMMANDS
        if (why := _refusal(line)) is not None
    ]
    assert refused == []


def _summary() -> dict[str, set[str]]:
    """docs/access.md's command summary: each command with the options its line names."""
    text = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    block = text.split("## Commands\n\n```\n", 1)[1].split("```", 1)[0]
    lines = [line.removeprefix("integrator ").split() for line in block.splitlines()]
    return {
        " ".join(words[:2]): set(re.findall(r"--[a-z0-9-]+", " ".join(words))) for words in lines
    }


def test_the_access_pages_command_summary_names_every_option_each_command_takes() -> None:
    """The summary left out ``--reason`` of ``users invite`` and ``tokens create``,
    ``--base-url`` of the commands that print a link and ``--json`` of ``users deactivate``
    and ``tokens revoke``: it is said to be every option, so it must hold each one."""
    summary = _summary()
    groups = {name: CLI.commands[name] for name in ("users", "tokens")}  # type: ignore[attr-defined]
    taken = {
        f"{group} {name}": {
            option
            for param in command.params
            for option in param.opts
            if option.startswith("--") and option != "--help"
        }
        for group, commands in groups.items()
        for name, command in commands.commands.items()
    }
    assert summary == taken
