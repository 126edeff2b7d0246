"""Messages a page acts on, named by id in its form, each checked against the person's clusters.

The dead-letter pages and the batch resend post the ids they showed; what comes back is
checked again as the API checks it: an unknown id, or one outside the person's clusters, is a
404; one seen without the permission there, a 403.
"""

from __future__ import annotations

from collections.abc import Sequence

from deadletter import Selection, UnknownMessageId, select_for_resend
from integrator.access.permissions import Permission
from integrator.clusters import NotPermitted, OutOfSight
from integrator.console.errors import BadInput, Forbidden, NotFound
from integrator.console.visitor import Visitor
from integrator.engine import Engine


async def selected_in_scope(
    engine: Engine, visitor: Visitor, permission: Permission, ids: Sequence[str], *, none: str
) -> Selection:
    """The messages ``ids`` name (all named), each in a cluster where ``permission`` is held;
    ``none``: the refusal when no id was posted."""
    if not ids:
        raise BadInput(none)
    try:
        selection = await select_for_resend(engine.store, message_ids=list(dict.fromkeys(ids)))
    except UnknownMessageId:
        raise NotFound() from None
    scope = visitor.scope(permission)
    for message in selection:
        try:
            scope.check_destination(engine.catalog, message.destination_id)
        except OutOfSight:
            raise NotFound() from None
        except NotPermitted:
            raise Forbidden() from None
    return selection
