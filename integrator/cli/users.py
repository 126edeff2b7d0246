"""``integrator users …``: people, their grants and invitations (docs/access.md).

Run on the server, so the command is trusted as its operating-system user and every change is
recorded as ``local:<user>``. The rules are the access service's; this module only turns
options into calls and results into text. Exit codes: 0 ok, 2 bad input (the message names
the option and the rule), 1 anything else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from integrator.cli.common import (
    JsonOption,
    console,
    err_console,
    fail,
    load_settings,
    local_actor,
    print_json,
    with_store,
)
from integrator.cli.shown import shown, shown_lines, visible
from integrator.cli.views import Column, fitted_table
from integrator.counting import counted
from integrator.presenters import shown_time
from integrator.reasons import MAX_REASON

if TYPE_CHECKING:
    from integrator.access import AccessService, Grant
    from integrator.access.permissions import Identity
    from integrator.access.service import (
        Deactivated,
        InvitationLink,
        PersonView,
        SuspendedToken,
    )
    from integrator.store import Store

T = TypeVar("T")

users_app = typer.Typer(help="People, their roles and invitations.", no_args_is_help=True)

RolesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="A role (resend, destinations, preview, reports, viewer, admin, intake, metrics); "
        "repeat for several.",
    ),
]
ClustersOption = Annotated[
    list[str] | None,
    typer.Option(
        "--cluster", help="A cluster the roles are for; repeat for several; none: all clusters."
    ),
]
NameOption = Annotated[
    str | None, typer.Option(help="Their name (default: the part of the address before @).")
]
ReasonOption = Annotated[
    str | None,
    typer.Option(help=f"Why (goes into the audit trail; at most {MAX_REASON} characters)."),
]
# Optional to typer, so that its absence is the service's refusal naming --reason (exit 2).
NeededReason = Annotated[
    str | None,
    typer.Option(
        help="Why (required: the audit trail's only record of why; at most "
        f"{MAX_REASON} characters)."
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="INTEGRATOR_PUBLIC_URL",
        help="Where people reach the console, for links "
        "(default: http://INTEGRATOR_HTTP_HOST:INTEGRATOR_HTTP_PORT).",
    ),
]


def with_access(
    action: Callable[[AccessService, Identity], Awaitable[T]], *, base_url: str | None = None
) -> T:
    """Run ``action`` with the access service on the configured store, as ``local:<user>``.

    The store must be there already, and is named on stderr (``with_store(read_only=True)``):
    a token or an invitation made in a store created by mistake, from another directory, is
    one the running engine refuses, with nothing on the screen to say why. ``integrator run``
    creates the store; no documented step needs these commands before it.
    """
    from integrator.access.permissions import local_identity
    from integrator.access.setup import access_service
    from integrator.clock import SystemClock

    settings = load_settings()
    me = local_identity(local_actor())

    async def on_store(store: Store) -> T:
        return await action(access_service(store, SystemClock(), settings, base_url=base_url), me)

    return with_store(on_store, settings, read_only=True)


def engine_zone() -> tzinfo:
    """``INTEGRATOR_TIMEZONE``, in which every time the CLI prints is shown (docs/support.md,
    "Times"): an expiry is read against the clock on the wall, like every other time."""
    return load_settings().zone


def grants_from(roles: Sequence[str] | None, clusters: Sequence[str] | None) -> list[Grant]:
    """Every role in every cluster named (all clusters when none is); exit 2 on a bad value."""
    from integrator.access import parse_grant

    found: list[Grant] = []
    for role in roles or []:
        scopes: list[str | None] = list(clusters) if clusters else [None]
        for cluster in scopes:
            try:
                found.append(parse_grant(role, cluster))
            except ValueError as exc:  # an unknown role; a cluster is the service's to judge
                fail(f"--role: {exc}", 2)
    return found


def _print_link(
    link: InvitationLink, as_json: bool, what: str, base_url: str | None = None
) -> None:
    from integrator.access.setup import wildcard_link_warning

    warning = wildcard_link_warning(load_settings(), base_url)
    if warning is not None:  # stderr, also with --json: the link is still made and shown
        err_console.print(f"[yellow]warning:[/] {shown_lines(warning)}", soft_wrap=True)
    if link.invited_before_with:  # create-admin of someone invited already: not without a word
        err_console.print(
            f"[yellow]warning:[/] {shown(link.email)} was invited already "
            f"({shown(_grants_text(link.invited_before_with))}); they now hold admin for all "
            "clusters as well, and the link they were given before no longer works",
            soft_wrap=True,
        )
    zone = engine_zone()
    if as_json:
        print_json(link.to_json(zone))
        return
    until = shown_time(link.expires_at, zone)
    if link.link is None:
        _plain(f"{what} sent by e-mail to {link.email}, valid until {until}.")
        return
    _plain(f"{what} for {link.email}, valid until {until}. Pass it on; it works once:")
    # The link on a line of its own, unwrapped, so it can be copied whole.
    console.print(link.link, markup=False, soft_wrap=True)


def _plain(text: str) -> None:
    """Print ``text`` as it is: an e-mail address may hold ``[`` (``a[/]b@x.nl`` passes the
    address rule), which rich read as markup. A closing tag with nothing to close crashed the
    command after the invitation was made, its one-time link never printed, and every later
    command printing that address crashed alike. (Emoji codes the CLI's consoles read nowhere.)
    Its control characters are shown, not sent (``shown.visible``): a name or an address comes
    from whoever made the account."""
    console.print(visible(text), markup=False)


def _grants_text(grants: Sequence[Grant]) -> str:
    return ", ".join(str(g) for g in grants) or "-"


def _print_person(view: PersonView, as_json: bool) -> None:
    if as_json:
        print_json(view.to_json(engine_zone()))
        return
    _plain(f"{view.email}: {view.status_text}; grants: {_grants_text(view.grants)}")
    if view.links_stopped:
        _plain(
            f"{view.email}: the link they had not used yet stopped working (a role given "
            "reads patient data, and whoever was shown the link may not see that); send the "
            f"invitation again: integrator users reinvite {view.email}"
        )
    _print_suspended(view.email, view.tokens_suspended or ())


def _print_suspended(email: str, cut: Sequence[SuspendedToken]) -> None:
    """The tokens that lost grants with a change of ``email``'s access, by id and name."""
    if not cut:
        return
    console.print(
        f"{counted(len(cut), 'token')} {email} made lose grants with it (a token made in the "
        "console or through the API holds a role that reads patient data only where its maker "
        "holds it, and a token of one's own only what its owner holds):",
        markup=False,
    )
    for token in cut:
        lost = ", ".join(str(g) for g in token.lost)
        console.print(
            f"  {token.token.id}  {visible(token.token.name)}  suspended: {lost}", markup=False
        )


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Argument(help="The administrator's e-mail address.")],
    name: NameOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bootstrap: print a one-time setup link for an admin of all clusters (valid 7 days)."""
    link = with_access(
        lambda access, me: access.create_admin(email, by=me, name=name), base_url=base_url
    )
    _print_link(link, as_json, "Setup link", base_url)


@users_app.command("invite")
def invite(
    email: Annotated[str, typer.Argument(help="The colleague's e-mail address.")],
    role: RolesOption = None,
    cluster: ClustersOption = None,
    name: NameOption = None,
    reason: ReasonOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Invite a colleague with at least one role (valid 7 days): the link goes out by e-mail
    when INTEGRATOR_SMTP_HOST is set, else it is printed to pass on."""
    grants = grants_from(role, cluster)
    link = with_access(
        lambda access, me: access.invite(me, email, grants, name=name, reason=reason),
        base_url=base_url,
    )
    _print_link(link, as_json, "Invitation link", base_url)


@users_app.command("reinvite")
def reinvite(
    email: Annotated[str, typer.Argument(help="The invited person's e-mail address.")],
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """A new invitation link; the earlier ones stop working."""
    link = with_access(lambda access, me: access.reinvite(me, email), base_url=base_url)
    _print_link(link, as_json, "New invitation link", base_url)


@users_app.command("reset-2fa")
def reset_second_factor(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    reason: ReasonOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reset an active person's second factor (a lost phone): their authenticator, recovery
    codes, password and sessions stop at once; a setup link (valid 7 days) lets them choose a
    new password and set up a new authenticator. Mailed when INTEGRATOR_SMTP_HOST is set."""
    link = with_access(
        lambda access, me: access.reset_second_factor(me, email, reason=reason),
        base_url=base_url,
    )
    if not as_json:
        _plain(
            f"The second factor of {link.email} is reset: their authenticator app, recovery "
            "codes, password and console sessions no longer work; their roles and tokens stay."
        )
    _print_link(link, as_json, "Setup link", base_url)


@users_app.command("grant")
def grant(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    role: RolesOption = None,
    cluster: ClustersOption = None,
    reason: NeededReason = None,
    as_json: JsonOption = False,
) -> None:
    """Replace the person's grants with the roles and clusters given."""
    grants = grants_from(role, cluster)
    view = with_access(lambda access, me: access.set_grants(me, email, grants, reason=reason))
    _print_person(view, as_json)


@users_app.command("list")
def list_users(as_json: JsonOption = False) -> None:
    """People with their status and grants."""
    views = with_access(lambda access, me: access.list_people(me))
    zone = engine_zone()
    if as_json:
        print_json([view.to_json(zone) for view in views])
        return
    # The e-mail address is what every users command takes: never cut.
    columns = {
        "email": Column("e-mail", lambda v: shown(v["email"])),
        "name": Column("name", lambda v: shown(v["name"]), free_text=True),
        "status": Column("status", lambda v: shown(v["status"]), free_text=True),
        "grants": Column("grants", lambda v: shown(v["grants"]), free_text=True),
        "taken": Column("taken away", lambda v: shown(v["taken"]), free_text=True),
        "locked": Column("locked until", lambda v: v["locked"]),
    }
    rows = [
        {
            "email": view.email,
            "name": view.name or "",
            "status": view.status_text,
            "grants": _grants_text(view.grants),
            "taken": _grants_text(view.inactive_grants),
            "locked": shown_time(view.locked_until, zone),
        }
        for view in views
    ]
    console.print(
        fitted_table(
            rows,
            columns,
            always=("email", "status"),
            optional=("grants", "name", "taken", "locked"),
            width=console.width,
            title=f"People ({len(views)})",
        )
    )


@users_app.command("deactivate")
def deactivate(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    role: Annotated[
        str | None, typer.Option(help="Take away only this role (default: the whole account).")
    ] = None,
    cluster: Annotated[
        str | None, typer.Option(help="With --role: the cluster of that grant (default: all).")
    ] = None,
    reason: NeededReason = None,
    as_json: JsonOption = False,
) -> None:
    """Deactivate an account (its sessions and tokens stop at once), or take away one role."""
    if role is None:
        if cluster is not None:
            fail("--cluster: only together with --role", 2)

        async def deactivating(access: AccessService, me: Identity) -> Deactivated:
            await _known_account(access, me, email)
            return await access.deactivate_person(me, email, reason=reason)

        done = with_access(deactivating)
        zone = engine_zone()
        if as_json:
            print_json(done.to_json(zone))
            return
        _plain(f"{done.email} is deactivated.")
        if done.machine_tokens:
            console.print(
                f"The {counted(len(done.machine_tokens), 'machine token')} {done.email} made go on "
                "working; revoke those that should not (integrator tokens revoke ID):",
                markup=False,
            )
            for token in done.machine_tokens:
                cut = {held.grant for held in token.suspended}
                grants = ", ".join(f"{g} (suspended)" if g in cut else str(g) for g in token.grants)
                console.print(
                    f"  {token.id}  {token.name}  {grants}  "
                    f"expires {shown_time(token.expires_at, zone)}",
                    markup=False,
                )
        _print_suspended(done.email, done.tokens_suspended)
        return
    [taken] = grants_from([role], [cluster] if cluster is not None else None)

    async def taking_away(access: AccessService, me: Identity) -> PersonView:
        await _known_account(access, me, email)
        return await access.deactivate_role(me, email, taken.role, taken.cluster, reason=reason)

    view = with_access(taking_away)
    _print_person(view, as_json)


async def _known_account(access: AccessService, me: Identity, email: str) -> None:
    """Refuse an address no account has (``EMAIL: no account has …``, exit 2) before the
    service asks for ``--reason``: "a reason is required" first, for an address with a typo
    in it, had people write a reason only to learn then that the address was wrong, the
    thing to mend all along.

    ``may_act_on_account`` is the service's own lookup of the account, with the refusal every
    ``users`` command gives an unknown address; what it answers is not used here: whether the
    CLI may act, the deactivation judges itself, in its own words."""
    await access.may_act_on_account(me, email)
