"""How every command's ``--help`` looks: each option with its help text, no type labels,
paragraphs that flow.

Typer prints a parameter's Python type beside it (``<str>``, ``<bool>``, ``<list[str]>``).
For people reading the help that is noise: a flag takes no value at all, and what a value
means is the help text's job (a number's range is still shown). An argument is named in
upper case, as the docs name it (``MESSAGE_ID``, not typer's ``{message_id}``).
``plain_help`` gives every command and group of the app, once, classes that leave the type
out, so a command added later gets them without doing anything;
``tests/integrator/test_cli_help.py`` walks every ``--help`` to keep it so.

Typer keeps the line breaks of a docstring's later paragraphs, which the terminal then wraps
again: lines broken at the source's 95 columns and again at the screen's 80 came out ragged,
a word or two on every other line. ``flowing`` joins each paragraph's lines (list items and
indented lines stay lines of their own), so the terminal alone decides where lines end.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from integrator.cli.once import refuse_repeated
from integrator.cli.output import printing_help
from integrator.cli.swallowed import refuse_option_as_value
from integrator.cli.undecodable import refuse_undecodable


class _UntypedOption(TyperOption):
    def display_type_rich(self, ctx: typer.Context) -> str:  # type: ignore[override]
        return ""


class _UntypedArgument(TyperArgument):
    """An argument named as click and every Unix manual name one, and as the docs and the
    ``--json`` errors do (``MESSAGE_ID: required``): upper case, bare when required,
    ``[NAME]`` when not, ``NAME...`` for several. Typer (0.29 on) shows the Python name,
    and in braces on the usage line (``{message_id}``), so that line, the Arguments panel and
    the "Missing argument" error named it differently from everything else the user reads."""

    def display_type_rich(self, ctx: typer.Context) -> str:  # type: ignore[override]
        return ""

    @property
    def display_name_raw(self) -> str:
        return self.metavar if self.metavar is not None else str(self.name).upper()

    def get_usage_pieces(self, ctx: Any) -> list[str]:  # click's Context
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return [name if self.nargs == 1 else f"{name}..."]


def _untyped(params: Iterable[object]) -> None:
    """Switch typer's parameters to the untyped ones: same state, only the help differs."""
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _UntypedOption
        elif type(param) is TyperArgument:
            param.__class__ = _UntypedArgument


_OWN_LINE = re.compile(r"(\s|[-*•] |\d+[.)] )")
"""A line that starts so (indented, or a list item) keeps its line break before it."""


def flowing(text: str | None) -> str | None:
    """``text`` with each paragraph's lines joined, but list items and indented lines kept."""
    if not text:
        return text
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b"):  # click's mark for "leave this paragraph as it is"
            paragraphs.append(paragraph)
            continue
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if lines and not _OWN_LINE.match(line):
                lines[-1] = f"{lines[-1]} {line.strip()}"
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


class PlainCommand(TyperCommand):
    """A command whose help lists its parameters without type labels, in flowing paragraphs;
    and, being every command's class, one that refuses an option given twice that takes one
    value (``integrator.cli.once``), a value that is not UTF-8 (``.undecodable``) and a value
    that is another of its options (``.swallowed``: ``--reason --dry-run``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = flowing(self.help)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click's Context
        given = list(args)  # click's parser takes the items out of the list it is given
        rest = super().parse_args(ctx, args)  # ``--json`` noted first, for the error's object
        refuse_repeated(self, ctx, given)
        refuse_undecodable(self, ctx, given)
        refuse_option_as_value(self, ctx, given)
        return rest

    def get_params(self, ctx: typer.Context) -> list:  # type: ignore[type-arg,override]
        params = super().get_params(ctx)  # with --help, made only here
        _untyped(params)
        return params

    def format_help(self, ctx: Any, formatter: Any) -> None:  # click's Context, HelpFormatter
        with printing_help():  # rich prints it here, straight to stdout
            super().format_help(ctx, formatter)


class PlainGroup(TyperGroup):
    """A group of commands whose own help (its --help) shows no type label either."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = flowing(self.help)

    def get_params(self, ctx: typer.Context) -> list:  # type: ignore[type-arg,override]
        params = super().get_params(ctx)
        _untyped(params)
        return params

    def format_help(self, ctx: Any, formatter: Any) -> None:  # click's Context, HelpFormatter
        with printing_help():
            super().format_help(ctx, formatter)


def plain_help(app: typer.Typer) -> None:
    """Give ``app``, its commands and its sub-apps (recursively) the plain classes, where
    they chose no class of their own."""
    if not isinstance(app.info.cls, type):
        app.info.cls = PlainGroup
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):  # typer fills in its own class
            command.cls = PlainCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_help(group.typer_instance)
