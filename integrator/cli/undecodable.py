"""A value typed on the command line that is not UTF-8 is refused, naming its option.

Python reads the command line as UTF-8 and keeps each byte it cannot decode as a lone
surrogate (``os.fsdecode``): a terminal set to Latin-1 sends ``Jénsen`` as ``J\\xe9nsen``, and
that value went on to the store, where SQLite failed with a traceback (``UnicodeEncodeError``)
and PostgreSQL with a store error that named neither the option nor the cause. Refused while
the command line is read, it is a usage error (exit 2) that says which option and what to do.

Only typer (and the click it runs on) and the standard library here: every ``integrator`` call
imports this (``tests/integrator/test_cli_startup.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from integrator.cli.once import option_name

try:  # typer 0.2x carries its own click
    from typer._click.exceptions import UsageError
except ImportError:  # an older typer, on click itself
    from click import UsageError  # type: ignore[assignment]

RULE = "not UTF-8 text; set the terminal to UTF-8 (LANG=C.UTF-8, say) and type it again"


class UndecodableValue(UsageError):
    """A value of the command line is not UTF-8; the message names where, never the value."""


def refuse_undecodable(command: Any, ctx: Any, args: Sequence[str]) -> None:
    """Raise ``UndecodableValue`` for the first parameter of ``command`` whose value in
    ``args`` holds a byte that is not UTF-8; nothing when every value is text."""
    if ctx.resilient_parsing or not any(_undecodable(arg) for arg in args):
        return
    opts, _, _ = command.make_parser(ctx).parse_args(args=list(args))
    for param in command.get_params(ctx):
        if param.name in opts and any(_undecodable(v) for v in _texts(opts[param.name])):
            raise UndecodableValue(f"{option_name(param)}: {RULE}", ctx=ctx)
    raise UndecodableValue(f"the command line: {RULE}", ctx=ctx)


def _texts(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list | tuple) else (value,)


def _undecodable(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
