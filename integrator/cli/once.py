"""An option that takes one value is refused when it is given twice.

Click keeps the last of two values of such an option and says nothing: ``resend --zd A --zd
B`` resent B's messages alone and reported "1 of 1", ``messages list --status cancelled
--status delivered`` listed only the delivered, and ``tokens create --expires 12h --expires
90d`` made a token for 90 days. Options that take several values (``--role``, ``--cluster``)
say so in their help and are repeated as ever; every other option given twice is a usage
error that names it, as the API refuses a query parameter given twice.

The occurrences are counted by click's own parser (the order it read the options in), so a
value that looks like an option (``--reason --zd``) counts as the value it is.

Only typer (and the click it runs on) and the standard library here: every ``integrator`` call
imports this (``tests/integrator/test_cli_startup.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

try:  # typer 0.2x carries its own click
    from typer._click.exceptions import UsageError
except ImportError:  # an older typer, on click itself
    from click import UsageError  # type: ignore[assignment]


class RepeatedOption(UsageError):
    """An option that takes one value was given more than once; its message names the option
    and the rule, never the values (they may be patient data: a BSN, a name)."""


def refuse_repeated(command: Any, ctx: Any, args: Sequence[str]) -> None:
    """Raise ``RepeatedOption`` for the first option of ``command`` that ``args`` give more than
    once and that takes one value (or is a flag); nothing when there is none."""
    if ctx.resilient_parsing:  # completion: nothing is run
        return
    _, _, order = command.make_parser(ctx).parse_args(args=list(args))
    counted = Counter(id(param) for param in order)
    for param in order:
        given = counted[id(param)]
        if given > 1 and _takes_one(param):
            raise RepeatedOption(f"{option_name(param)}: {_rule(param, given)}", ctx=ctx)


def _takes_one(param: Any) -> bool:
    return (
        getattr(param, "param_type_name", "") == "option"
        and not getattr(param, "multiple", False)
        and not getattr(param, "count", False)
    )


def option_name(param: Any) -> str:
    """An option by its long name as typed (``--zd``); an argument as help shows it (``EMAIL``)."""
    if getattr(param, "param_type_name", "") != "option":
        return str(getattr(param, "human_readable_name", param.name)).upper()
    opts = [str(o) for o in (*param.opts, *param.secondary_opts)]
    return ([o for o in opts if o.startswith("--")] or opts)[0]


def _rule(param: Any, given: int) -> str:
    if getattr(param, "is_flag", False):
        return f"given {given} times; give it once"
    return f"given {given} times; it takes one value"
