"""How every command's ``--help`` looks: each option with its help text, no type labels.

Typer prints a parameter's Python type beside it (``<str>``, ``<bool>``, ``<list[str]>``).
For people reading the help that is noise: a flag takes no value at all, and what a value
means is the help text's job (a number's range is still shown). ``plain_help`` gives every
command and group of the app, once, classes that leave the type out, so a command added later
gets them without doing anything; ``tests/integrator/test_cli_help.py`` walks every
``--help`` to keep it so.
"""

from __future__ import annotations

from collections.abc import Iterable

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _UntypedOption(TyperOption):
    def display_type_rich(self, ctx: typer.Context) -> str:  # type: ignore[override]
        return ""


class _UntypedArgument(TyperArgument):
    def display_type_rich(self, ctx: typer.Context) -> str:  # type: ignore[override]
        return ""


def _untyped(params: Iterable[object]) -> None:
    """Switch typer's parameters to the untyped ones: same state, only the help differs."""
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _UntypedOption
        elif type(param) is TyperArgument:
            param.__class__ = _UntypedArgument


class PlainCommand(TyperCommand):
    """A command whose help lists its parameters without type labels."""

    def get_params(self, ctx: typer.Context) -> list:  # type: ignore[type-arg,override]
        params = super().get_params(ctx)  # with --help, made only here
        _untyped(params)
        return params


class PlainGroup(TyperGroup):
    """A group of commands whose own help (its --help) shows no type label either."""

    def get_params(self, ctx: typer.Context) -> list:  # type: ignore[type-arg,override]
        params = super().get_params(ctx)
        _untyped(params)
        return params


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
