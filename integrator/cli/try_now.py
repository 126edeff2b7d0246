"""``integrator messages try-now ID`` and ``integrator destinations try-now DEST``.

A message waiting out its retry backoff, or every one of a destination, is made due now in the
store (``integrator.try_now``'s rule, audited as ``local:<user>``); each running engine sees it
within a few seconds and the runner holding it attempts it, the same message with the same
MSH-10. With no engine running, it is attempted when one starts.

Exit codes: 0 done (also when no message of the destination waited: said); 1 the message waits
for no retry (its status said); 2 bad input (an unknown or ambiguous id, a reason too long).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from integrator.cli.common import (
    console,
    fail,
    load_settings,
    local_identity,
    print_json,
    resolve_message_ids,
    with_admin,
)

if TYPE_CHECKING:
    from integrator.operators import DestinationAdmin
    from integrator.try_now import TriedNow

MAX_REASON_HELP = "Why (optional; audited; at most 1000 characters)."


def try_now_in_store(
    *, message_id: str | None, destination_id: str | None, reason: str | None, as_json: bool
) -> None:
    """Run the rule on the configured store and say what it did."""
    from integrator.access.permissions import Permission
    from integrator.clock import SystemClock
    from integrator.clusters import ClusterScope
    from integrator.message_service import MessageNotFound
    from integrator.reasons import TOO_LONG, too_long
    from integrator.try_now import NotWaiting, UnknownDestination, Where, try_destination_now
    from integrator.try_now import try_message_now as try_message

    if reason is not None and too_long(reason):  # the service's rule, said before the store
        fail(f"--reason: {TOO_LONG}", 2)
    settings = load_settings()
    scope = ClusterScope(local_identity(), Permission.MESSAGES_RESEND)

    async def action(admin: DestinationAdmin) -> TriedNow | str:
        where = Where(admin.store, await admin.catalog(), SystemClock().now())
        try:
            if message_id is not None:
                [full_id] = await resolve_message_ids(admin.store, [message_id])
                return await try_message(where, scope, full_id, reason=reason)
            assert destination_id is not None
            return await try_destination_now(where, scope, destination_id, reason=reason)
        except NotWaiting as refusal:
            return str(refusal)
        except (MessageNotFound, UnknownDestination) as refusal:  # out of the resolver's reach
            fail(str(refusal), 2)

    result = with_admin(action, settings)
    if isinstance(result, str):
        fail(result.removeprefix("status: "), 1)
    if as_json:
        print_json(result.to_json())
        return
    if not result.message_ids:
        console.print(f"No message of {escape(result.destination_id)} waits for a retry.")
        return
    console.print(
        f"{len(result.message_ids)} message(s) of {escape(result.destination_id)} due now: "
        "a running engine attempts them within seconds, with the same MSH-10 "
        "(`integrator messages show ID` shows the attempt)."
    )
    for tried in result.message_ids:
        console.print(f"  {tried}")
