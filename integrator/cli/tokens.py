"""``integrator tokens create|list|revoke``: API tokens for upstream systems, monitoring and
scripts (docs/access.md).

A token is printed once, at creation; listings show only its visible prefix. Recorded as
``local:<user>`` like every command run on the server. Exit codes: 0 ok, 2 bad input, 1 other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import timedelta, tzinfo
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.table import Table

from integrator.cli.common import JsonOption, console, err_console, fail, print_json
from integrator.cli.shown import shown, visible
from integrator.cli.users import (
    ClustersOption,
    ReasonOption,
    RolesOption,
    engine_zone,
    grants_from,
    with_access,
)
from integrator.cli.views import ACTOR_MIN, Column, fitted_table, short_ids
from integrator.presenters import shown_time

if TYPE_CHECKING:
    from integrator.access import AccessService, Identity, TokenView
    from integrator.access.service import RevokedToken, TokenKind

tokens_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)

KIND_SAID: Final[dict[TokenKind, str]] = {
    "machine": (
        "A machine's token: it goes on working when the person who made it is deactivated, "
        "until it expires or is revoked."
    ),
    "own": (
        "A token of your own: it acts only within your grants and stops when your account is "
        "deactivated."
    ),
}
"""Said when a token is made (``AccessService.create_token`` decides which it is): whether it
outlives whoever made it is what decides who must revoke it when they leave."""

_VALIDITY = re.compile(r"^(\d{1,5})([dh])$")


def parse_validity(text: str) -> timedelta:
    """``90d`` or ``12h``; exit 2 naming the option and the form otherwise."""
    match = _VALIDITY.match(text.strip())
    if match is None:
        fail("--expires: a number of days or hours, like 90d or 12h", 2)
    number = int(match[1])
    return timedelta(days=number) if match[2] == "d" else timedelta(hours=number)


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. prometheus or lab-intake.")],
    role: RolesOption = None,
    cluster: ClustersOption = None,
    expires: Annotated[str, typer.Option(help="Valid for this long: 90d, 12h, …")] = "90d",
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token and print it, this once; only its hash is kept."""
    grants = grants_from(role, cluster)
    validity = parse_validity(expires)
    token = with_access(
        lambda access, me: access.create_token(me, name, grants, expires_in=validity, reason=reason)
    )
    zone = engine_zone()
    if as_json:
        print_json(token.to_json(zone))
        return
    err_console.print(
        f"Token {token.name} ({token.id}), valid until {shown_time(token.expires_at, zone)}, "
        f"grants {', '.join(str(g) for g in token.grants)}. {KIND_SAID[token.kind]} "
        "It is shown once; store it now:",
        markup=False,
    )
    console.print(token.token, markup=False, soft_wrap=True)


@tokens_app.command("list")
def list_tokens(as_json: JsonOption = False) -> None:
    """Every token with its status, prefix, grants, expiry, last use, kind and maker; never
    the token. A machine's token goes on working when the person who made it is deactivated;
    a person's own token stops with their account. The maker is named as the audit trail
    names it (person:<email>, token:<name>, local:<user>).

    Ids are shortened as in every table, so the one copied from it is what tokens revoke
    takes; --json has them whole. A grant the token holds but may not use now (its maker no
    longer holds that role that reads patient data) is marked suspended, and why is said
    below the table (--json: suspended, and grants_in_force).
    """
    views = with_access(lambda access, me: access.list_tokens(me))
    zone = engine_zone()
    if as_json:
        print_json([view.to_json(zone) for view in views])
        return
    console.print(_table(views, zone, title=f"API tokens ({len(views)})"))
    for view in views:
        for held in view.suspended:
            console.print(
                f"{visible(view.name)}: {held.grant} is suspended: {visible(held.reason)}.",
                markup=False,
            )


def _table(
    views: Sequence[TokenView], zone: tzinfo, *, title: str, width: int | None = None
) -> Table:
    """Tokens as ``tokens list`` shows them: what ``revoke`` also lists to pick from. No id
    and no time is cut (``views.fitted_table``; a boxed table cut the expiry to ``2027-0…``):
    the id, name, status and expiry always, the grants, kind (``machine`` or ``own``), maker
    (as the audit trail names them), prefix and last use as the width allows (``--json`` has
    everything)."""
    short = short_ids(view.id for view in views)
    rows = [{"view": view} for view in views]

    def of(header: str, cell: Callable[[TokenView], str], **options: Any) -> Column:
        return Column(header, lambda r: shown(cell(r["view"])), **options)

    def used(view: TokenView) -> str:
        return shown_time(view.last_used_at, zone) if view.last_used_at else "never"

    columns = {
        "id": of("id", lambda v: short[v.id]),
        "name": of("name", lambda v: v.name),
        "prefix": of("prefix", lambda v: v.prefix),
        "status": of("status", lambda v: v.status),
        "grants": of("grants", grants_text, free_text=True),
        "expires": of("expires", lambda v: shown_time(v.expires_at, zone)),
        "last used": of("last used", used),
        "kind": of("kind", lambda v: v.kind),
        "made by": of("made by", lambda v: v.created_by, free_text=True, least=ACTOR_MIN),
    }
    return fitted_table(
        rows,
        columns,
        always=("id", "name", "status", "expires"),
        # Who made it and whether it outlives them before the rest: what a review asks.
        optional=("grants", "kind", "made by", "prefix", "last used"),
        width=console.width if width is None else width,
        title=title,
    )


def grants_text(view: TokenView) -> str:
    """The token's grants, each suspended one marked so (why is said below the table)."""
    cut = {held.grant for held in view.suspended}
    shown = [f"{g} (suspended)" if g in cut else str(g) for g in view.grants]
    return ", ".join(shown) or "-"


@tokens_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id, or a unique start of it.")],
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a token: it stops working at once, and so do the tokens it made.

    A start that several tokens' ids have is refused (exit 2), listing those tokens as tokens
    list does, so the one meant can be given with more of its id.
    """
    from integrator.access.errors import AmbiguousToken

    async def revoking(access: AccessService, me: Identity) -> RevokedToken | AmbiguousToken:
        try:
            return await access.revoke_token(me, token_id, reason=reason)
        except AmbiguousToken as several:  # shown below as a table, in local time
            return several

    done = with_access(revoking)
    if isinstance(done, AmbiguousToken):
        zone = engine_zone()
        err_console.print(_table(done.candidates, zone, title="Tokens whose id starts so"))
        fail(
            f"ID: {done.given} is the start of {len(done.candidates)} token ids (listed "
            "above); give more of the one to revoke",
            2,
        )
    if as_json:
        print_json(done.to_json(engine_zone()))
        return
    view, stopped = done.token, done.dependents
    names = f": {', '.join(t.name for t in stopped)}" if stopped else ""
    console.print(
        f"Token {view.name} ({view.id}) is revoked; {len(stopped)} token"
        f"{'' if len(stopped) == 1 else 's'} it made stop with it{names}.",
        markup=False,
    )
