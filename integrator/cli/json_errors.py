"""A failed command asked for ``--json`` answers with a JSON error object on stdout.

A script that runs ``integrator messages show 1234 --json`` parses stdout; a failure that only
printed its human line on stderr left it nothing to parse, and an empty stdout is what a
listing of nothing looks like to a careless reader. So, with ``--json``, every way a command
fails (``common.fail``, ``common.stopped``, a usage error click finds in an option's value,
a command that exits non-zero on its own) also writes, on stdout, one object::

    {"error": {"code": 2, "message": "--since: not a time ...", "fields": ["--since"],
               "rule": "not a time ..."}}

``code`` is the exit code; ``message`` the human line (which never holds patient data:
refusals name the field and the rule, never the value); ``fields`` the options or arguments
the failure is about, as typed on the command line (empty when it is about none), and
``rule`` what they broke (null when no field is named). The human line still goes to stderr,
and the exit code is the same as without ``--json``. A command that has already written its
JSON (a batch's report, ``audit verify``'s check) exits as before with that as its stdout: a
second document would make stdout unparseable.

The fields are read from the message, in one place: every refusal of an option already names
it first (``--since: ...``, ``--since and --until: ...``, ``MESSAGE_IDS: ...``), which is the
rule ``common.option_rule`` and its siblings keep.

Which invocation asked for JSON is kept in click's context (``meta``, shared by a command's
context and its parents'), set by the ``--json`` option's callback: eager, so it is known
before click converts any other option's value. Errors click finds while it splits the
command line itself (an unknown option, an option without its value) come before that, and
stay a usage line on stderr only.

Only typer (and the click it runs on), the standard library and ``helpstyle`` here: every
``integrator`` call imports this (``tests/integrator/test_cli_startup.py``).
"""

from __future__ import annotations

import json
import re
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Final, get_args, get_origin

import typer

try:  # typer 0.2x carries its own click: its commands raise these, and keep this context
    from typer._click.core import Context
    from typer._click.exceptions import BadParameter, MissingParameter, UsageError
    from typer._click.globals import get_current_context
except ImportError:  # an older typer, on click itself
    from click import (  # type: ignore[assignment,no-redef]
        BadParameter,
        Context,
        MissingParameter,
        UsageError,
        get_current_context,
    )

from integrator.cli.helpstyle import PlainGroup
from integrator.cli.once import RepeatedOption
from integrator.cli.swallowed import OptionAsValue
from integrator.cli.undecodable import UndecodableValue

ASKED: Final = "integrator.json_asked"
"""``ctx.meta`` key: this invocation was given ``--json``."""
WRITTEN: Final = "integrator.json_written"
"""``ctx.meta`` key: this invocation has written its JSON document to stdout."""

_NAME = r"(?:--set [a-z][a-z0-9_.\[\]]*|--[a-z0-9][a-z0-9-]*|[A-Z][A-Z_]+)"
"""An option as typed (``--since``), a destination key as ``--set`` set it (``--set port``),
or an argument as help names it (``MESSAGE_IDS``)."""
_NAMED = re.compile(rf"({_NAME}(?:(?: and |, |/| or ){_NAME})*): (.+)", re.DOTALL)
_ONE_NAME = re.compile(_NAME)
INTERRUPTED: Final = 128 + signal.SIGINT
"""The exit of a command Ctrl-C stopped, as a shell reports it."""
BAD_SETTINGS: Final = "bad settings: "
"""How ``common.environment_settings`` begins its refusal of the environment's settings."""


def note_json(ctx: typer.Context, value: bool) -> bool:
    """The ``--json`` option's callback: note in the invocation's context that it was asked."""
    if value:
        ctx.meta[ASKED] = True
    return value


def _meta() -> dict[str, Any] | None:
    ctx = get_current_context(silent=True)
    return None if ctx is None else ctx.meta


def json_written() -> None:
    """Note that the command running now wrote its JSON document (``common.print_json``)."""
    meta = _meta()
    if meta is not None:
        meta[WRITTEN] = True


def error_object(code: int, message: str) -> dict[str, Any]:
    """The JSON error for exit ``code`` with the human line ``message``: the fields a leading
    ``--option: rule`` names, and the rule, apart. Settings refused (``bad settings: NAME:
    rule``, ``common.environment_settings``) name their variables so: several at once are
    all the fields, and the rule is each with its own."""
    text = message.removeprefix(BAD_SETTINGS)
    if text != message and len(problems := text.split("; ")) > 1:
        named_each = [_NAMED.fullmatch(problem) for problem in problems]
        if all(named_each):
            fields = [name for n in named_each if n for name in _ONE_NAME.findall(n.group(1))]
            return _object(code, message, fields, text)
    named = _NAMED.fullmatch(text)
    fields = _ONE_NAME.findall(named.group(1)) if named else []
    return _object(code, message, fields, named.group(2) if named else None)


def _object(code: int, message: str, fields: list[str], rule: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields, "rule": rule}}


def say_error(code: int, message: str) -> None:
    """With ``--json``, and no JSON written yet: the error object on stdout. A stdout that
    refuses it is left be: the human line on stderr says the same, and the exit stays
    ``code``."""
    meta = _meta()
    if meta is None or not meta.get(ASKED) or meta.get(WRITTEN):
        return
    meta[WRITTEN] = True
    try:
        sys.stdout.write(json.dumps(error_object(code, message), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    except Exception:  # ``output.OutputNotWritten``, a closed stdout: said on stderr
        return


def usage_message(exc: UsageError) -> str:
    """A usage error click found, for the JSON object: the option and the rule it broke,
    never the value typed (a file's name, a value in the wrong option, may be patient data);
    click's own line, on stderr, is as ever."""
    if isinstance(exc, RepeatedOption | UndecodableValue | OptionAsValue):  # names, no value
        return exc.message
    param = getattr(exc, "param", None)
    if isinstance(exc, MissingParameter) and param is not None:
        return f"{_param_name(param)}: required"
    if isinstance(exc, BadParameter) and param is not None:
        return f"{_param_name(param)}: {_expects(param)}"
    path = exc.ctx.command_path if exc.ctx is not None else "integrator"
    return f"not a command line {path} takes; see {path} --help"


def _param_name(param: Any) -> str:
    """An option by its long name (``--limit``), an argument as help shows it (``FILE``)."""
    opts = [str(o) for o in getattr(param, "opts", ())]
    if getattr(param, "param_type_name", "") == "option" and opts:
        return ([o for o in opts if o.startswith("--")] or opts)[0]
    return str(getattr(param, "human_readable_name", "") or (opts or ["?"])[0]).upper()


_KINDS: Final = {int: "a whole number", float: "a number", Path: "a path"}
"""How an option of such a type is said to be refused: ``--limit: a whole number ...``."""


def _expects(param: Any) -> str:
    """What a parameter takes, from its annotation, in words without the value refused: an
    enum's values, a whole number; else only that the value is not one it takes."""
    described = getattr(param, "type_descriptor", None)
    annotation = getattr(described, "annotation", None)
    if get_origin(annotation) in (list, tuple) and get_args(annotation):  # FILES...: each one
        annotation = get_args(annotation)[0]
    info = getattr(described, "parameter_info", None)
    if annotation is Path and getattr(info, "exists", False):
        return "a file that exists and can be read"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(str(member.value) for member in annotation)
    kind = _KINDS.get(annotation) if isinstance(annotation, type) else None
    if kind is None:
        return "not a value it takes; see --help"
    low, high = getattr(info, "min", None), getattr(info, "max", None)
    if low is not None and high is not None:
        return f"{kind} from {low} to {high}"
    if low is not None or high is not None:
        return f"{kind} of at least {low}" if low is not None else f"{kind} of at most {high}"
    return kind


class JsonErrorsGroup(PlainGroup):
    """The ``integrator`` command group (its help plain, as every group's): whatever fails
    below it, with ``--json``, leaves a JSON error on stdout (``say_error``), also where a
    command raised its exit code itself."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            say_error(exc.exit_code, usage_message(exc))  # the meta is the command's too
            raise
        except typer.Exit as exc:
            if exc.exit_code:
                say_error(exc.exit_code, "the command failed; stderr says why")
            raise
        except KeyboardInterrupt:  # Ctrl-C where the command does not catch it: typer exits 130
            say_error(INTERRUPTED, "interrupted")
            raise
