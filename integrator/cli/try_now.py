"""``integrator messages try-now ID`` and ``integrator destinations try-now DEST``.

A message waiting out its retry backoff, or every one of a destination, is made due now in the
store (``integrator.try_now``'s rule, audited as ``local:<user>``); each running engine sees it
within a few seconds and the runner holding it attempts it, the same message with the same
MSH-10. The output says whether an engine runs on the store (its presence row,
``integrator.presence``): with none, the message is attempted when one starts.

Exit codes: 0 done (also when nothing waited, or the message's attempt was due already: said);
1 the message waits for no retry (its status said, and what to do instead) or its destination
is paused: a refusal by the state, as the API's 409 (``integrator.errors.StateConflict``); also
1 when no store is where the settings point (none is made: a new one holds no retry); 2 bad
input (an unknown or ambiguous id, a reason too long).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrator.cli.common import (
    console,
    fail,
    load_settings,
    local_identity,
    print_json,
    resolve_message_ids,
    with_admin,
)
from integrator.cli.shown import shown
from integrator.counting import counted

if TYPE_CHECKING:
    from integrator.operators import DestinationAdmin
    from integrator.store import Store
    from integrator.try_now import TriedNow

MAX_REASON_HELP = (
    "Why (optional; at most 1000 characters): recorded with the try in the audit trail "
    "(`audit list`), not in `destinations history`."
)
"""Not "kept in the history", which the destination commands' reasons are: a try changes no
definition, and ``destinations history`` never showed its reason."""


def try_now_in_store(
    *, message_id: str | None, destination_id: str | None, reason: str | None, as_json: bool
) -> None:
    """Run the rule on the configured store and say what it did."""
    from integrator.access.permissions import Permission
    from integrator.clock import SystemClock
    from integrator.clusters import ClusterScope
    from integrator.errors import StateConflict
    from integrator.message_service import MessageNotFound
    from integrator.operators import UnknownDestination as OperatorsUnknown
    from integrator.reasons import bounded
    from integrator.try_now import (
        NotDelivering,
        NotWaiting,
        ReasonRefused,
        UnknownDestination,
        Where,
        try_destination_now,
    )
    from integrator.try_now import try_message_now as try_message

    try:  # the service's rules (too long, a BSN), said before the store, by the option's name
        bounded(reason, ReasonRefused)
    except ReasonRefused as refused:
        fail(f"--{refused}", 2)
    settings = load_settings()
    scope = ClusterScope(local_identity(), Permission.MESSAGES_RESEND)

    async def action(admin: DestinationAdmin) -> tuple[TriedNow, str | None] | str:
        where = Where(admin.store, await admin.catalog(), SystemClock().now())
        try:
            if message_id is not None:
                [full_id] = await resolve_message_ids(admin.store, [message_id])
                tried = await try_message(where, scope, full_id, reason=reason)
            else:
                assert destination_id is not None
                tried = await try_destination_now(where, scope, destination_id, reason=reason)
        except (NotWaiting, NotDelivering) as refusal:
            return str(refusal)
        except MessageNotFound as refusal:  # out of the resolver's reach
            fail(str(refusal), 2)
        except UnknownDestination:  # said as every other destinations subcommand says it
            fail(str(OperatorsUnknown(destination_id or "", where.catalog.sources)), 2)
        return tried, await running_engine(admin.store)

    result = with_admin(action, settings, existing=True)  # a new store holds no retry
    if isinstance(result, str):
        said = result.removeprefix("status: ").removeprefix("destination: ")
        fail(said, StateConflict.exit_code)
    tried, engine = result
    if as_json:
        print_json({**tried.to_json(), "engine": engine})
        return
    if tried.due_already:
        console.print(f"Its next attempt is due now already: {tried.due_already[0]}.")
    elif not tried.message_ids:
        console.print(f"No message of {shown(tried.destination_id)} waits for a retry.")
        return
    else:
        console.print(
            f"{counted(len(tried.message_ids), 'message')} of {shown(tried.destination_id)} "
            "due now:"
        )
        for made_due in tried.message_ids:
            console.print(f"  {made_due}")
    if engine is None:
        console.print(
            "No engine is running on this store: attempted when one starts (`integrator run`)."
        )
    else:
        them = "it" if len(tried.message_ids) + len(tried.due_already) == 1 else "them"
        console.print(
            f"The running engine ({shown(engine)}) attempts {them} within seconds, with the "
            "same MSH-10 (`integrator messages show ID` shows the attempt)."
        )


async def running_engine(store: Store) -> str | None:
    """The engine that runs on ``store``, as a person can find it; None when none does."""
    from integrator.presence import describe_engine, running_engines

    engines = await running_engines(store)
    return describe_engine(engines[0]) if engines else None
