"""An option's value that is another option of the same command is refused, naming both.

Click gives an option that takes a value the next word, whatever it is: ``resend ID --reason
--dry-run`` (the reason forgotten) took ``--dry-run`` as the reason and resent the message for
real, and ``deadletter discard --destination lab --reason --dry-run`` discarded every dead
letter of the destination, where the person had asked to look first. A value that is exactly
one of the command's own options is never meant as a value: it is refused as a usage error
(exit 2) before anything runs, saying which option went without its value.

The message names options only, never a value (an option's name is all it repeats). Only typer
(and the click it runs on) and the standard library here: every ``integrator`` call imports
this (``tests/integrator/test_cli_startup.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from integrator.cli.once import option_name

try:  # typer 0.2x carries its own click
    from typer._click.exceptions import UsageError
except ImportError:  # an older typer, on click itself
    from click import UsageError  # type: ignore[assignment]


class OptionAsValue(UsageError):
    """An option took another option of its command as its value."""


def refuse_option_as_value(command: Any, ctx: Any, args: Sequence[str]) -> None:
    """Raise ``OptionAsValue`` for the first option of ``command`` whose value in ``args`` is
    one of the command's own option names; nothing when there is none."""
    if ctx.resilient_parsing:
        return
    params = command.get_params(ctx)
    names = {str(o) for p in params for o in (*getattr(p, "opts", ()), *p.secondary_opts)}
    if not names.intersection(args):  # the common case, without parsing again
        return
    opts, _, order = command.make_parser(ctx).parse_args(args=list(args))
    for param in order:
        if getattr(param, "param_type_name", "") != "option" or param.is_flag:
            continue
        given = opts.get(param.name)
        values = given if isinstance(given, list | tuple) else (given,)
        taken = [v for v in values if isinstance(v, str) and v in names]
        if taken:
            mine = option_name(param)
            raise OptionAsValue(
                f"{mine}: got no value ({taken[0]} is an option of this command, not a value "
                f"for {mine}); give {mine} its value before {taken[0]}",
                ctx=ctx,
            )
