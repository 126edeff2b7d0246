"""What a console batch (a resend or a discard of up to a few hundred, done in its request)
keeps as its result, and who may read that result again.

Two rules the console's batches share with the API's jobs, by the same code, so the two cannot
drift apart:

- **Asked between chunks.** A batch is checked once, when its confirmation is posted, and then
  resends chunk by chunk (``deadletter.resend``) or discards one by one (``discard_each``). A
  person deactivated, or whose role or cluster is taken away, while it runs stops it at the
  next chunk, as a job stops (``message_service.still_permitted``, asked by
  ``resend_in_engine`` and ``discard_each``): the rest is not done under their name. What it did
  and why it stopped (``message_service.whole_or_stopped``'s ``JobStopped``) are the result,
  as the job's results and error are.
- **Read within the sight it was written for.** A result is kept for hours (``once.LASTS``)
  and names message ids, ZD numbers and destinations as its writer could see them (a note names
  a resend elsewhere only in their clusters). So it keeps the clusters where the person held
  the action's permission when it ran (``ClusterScope.clusters_held``, as a job keeps them),
  and its rows are shown again only to a reader who still holds that permission in each of
  them (``in_sight``), as ``GET /api/v1/jobs/{id}`` reads a job. A person who lost the role or
  a cluster since still sees that it was done, by whom and when, and why it stopped, but not
  its rows nor the search it came from (``withheld``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from integrator.access.permissions import Permission
from integrator.clusters import ClusterScope
from integrator.console.once import kept_note, kept_rows, shown_note
from integrator.console.refusals import Said, said
from integrator.console.visitor import Visitor
from integrator.jobs import JobStopped
from integrator.store import ConfirmationRecord

CLUSTERS: Final = "clusters"
"""The key of a kept result that holds the clusters it was written for (null: all)."""
STOPPED: Final = "stopped"
"""The key of a kept result that says why its batch stopped before its end."""


async def kept_batch(
    scope: ClusterScope,
    back: dict[str, str],
    work: Callable[[], Awaitable[list[dict[str, Any]]]],
) -> dict[str, Any]:
    """``work``'s rows as a confirmation keeps them (``once.kept_rows``), with ``back`` (the
    way back to the list) and the clusters ``scope`` held its permission in; ``work`` ends with
    ``whole_or_stopped``: a stop keeps the rows done and why it stopped (``stopped``)."""
    stopped: Said | None = None
    try:
        rows = await work()
    except JobStopped as exc:
        rows, stopped = exc.results, said(exc)
    held = sorted(scope.clusters_held(), key=lambda cluster: cluster or "")
    result: dict[str, Any] = {"rows": kept_rows(rows), "back": back, CLUSTERS: held}
    if stopped is not None:
        result[STOPPED] = kept_note(stopped)
    return result


def in_sight(visitor: Visitor, row: ConfirmationRecord, permission: Permission) -> bool:
    """Whether ``visitor`` may see the rows of ``row``'s result again: they still hold
    ``permission`` in every cluster it was written for. A result with no rows (still in
    progress, failed) has nothing to withhold; one kept without its clusters (before they were
    kept) is withheld."""
    result = row.result
    if not isinstance(result, dict) or "rows" not in result:
        return True
    clusters = result.get(CLUSTERS)
    if not isinstance(clusters, list):
        return False
    return visitor.scope(permission).allows_all(clusters)


def stopped_said(row: ConfirmationRecord) -> Said | None:
    """Why the batch of ``row`` stopped before its end, to be worded; None if it did not."""
    result = row.result
    if not isinstance(result, dict) or result.get(STOPPED) is None:
        return None
    shown = shown_note(result[STOPPED])
    return shown if isinstance(shown, Said) else None
