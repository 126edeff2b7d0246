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

Its page says what happened before it lists it (``summed``): how many of each outcome, the
rows that were not done (skipped, left out, each with why) first, and the status each new
message has now, read when the page is shown (a reload reads it again).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from integrator.access.permissions import Permission
from integrator.clusters import ClusterScope
from integrator.console.once import kept_note, kept_rows, shown_note
from integrator.console.refusals import Said, said
from integrator.console.visitor import Visitor
from integrator.engine import Engine
from integrator.jobs import JobStopped
from integrator.message_service import statuses_now
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


OUTCOMES: Final = ("resent", "discarded", "skipped", "left out", "stays open")
"""A batch's outcomes in the order its summary counts them (what was done first)."""
NOT_DONE: Final = frozenset({"skipped", "left out"})
"""Outcomes of a row the batch did not act on, each with why: listed first, under the count."""
STATUSES: Final = ("delivered", "queued", "sending", "retrying", "held", "dead", "cancelled")
"""The order the new messages' statuses are counted in (delivered first)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """What a batch's result page says above its rows."""

    tally: list[tuple[str, int]]  # (outcome, how many), in ``OUTCOMES``' order
    now: list[tuple[str, int]]  # (status, how many) of the new messages now, delivered first
    rows: list[dict[str, Any]]  # not done first; a new message's ``status_now`` where seen

    @property
    def not_done(self) -> int:
        return sum(count for outcome, count in self.tally if outcome in NOT_DONE)


async def summed(engine: Engine, visitor: Visitor, rows: list[dict[str, Any]]) -> Summary:
    """``rows`` (a result's, as ``shown_rows`` gives them) counted by outcome, those not done
    first (stable, so a discard's chain keeps its order), and each new message's status now,
    as far as the reader may read it (``messages.read``: one pruned or out of sight says
    nothing)."""
    made = [row["message_id"] for row in rows if row.get("message_id")]
    now = await statuses_now(engine, visitor.scope(Permission.MESSAGES_READ), made) if made else {}
    ordered = sorted(rows, key=lambda row: row.get("outcome") not in NOT_DONE)
    shown = [
        {**row, "status_now": now.get(row["message_id"])} if row.get("message_id") else row
        for row in ordered
    ]
    outcomes = Counter(str(row.get("outcome")) for row in rows)
    statuses = Counter(now[m] for m in made if m in now)
    return Summary(
        tally=[(o, outcomes[o]) for o in OUTCOMES if outcomes[o]],
        now=[
            (s, statuses[s])
            for s in (*STATUSES, *sorted(set(statuses) - set(STATUSES)))
            if statuses[s]
        ],
        rows=shown,
    )
