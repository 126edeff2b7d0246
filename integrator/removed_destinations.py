"""A destination that was removed, as its history tells it: when, by whom, why.

Once removed, a destination's id named none, and the console answered its page with a bare
"not found": after removing one, the browser's Back landed there, and a second tab's removal
form could only say it had gone without saying when or who. The history keeps the removal as
its last revision (``config`` None: removed in a front door, or its file deleted by hand and
recorded so by the engine), and the revision before it holds the definition it had, so the
cluster it lay in. An id with no such history stays unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from integrator import history_actions
from integrator.store import Store


@dataclass(frozen=True, slots=True)
class Removal:
    """The revision that removed a destination, and the cluster its last definition lay in."""

    destination_id: str
    revision: int
    at: datetime
    actor: str
    """``person:<email>``, ``token:<name>``, ``local:<user>``; ``file`` for a hand deletion."""
    reason: str | None
    cluster: str | None
    """Of its definition before the removal: who could see it then may read that it went."""

    @property
    def by_hand(self) -> bool:
        """Its file was deleted by hand (recorded by the engine), not removed by a person."""
        return self.actor == history_actions.FILE_ACTOR


async def removal_of(store: Store, destination_id: str) -> Removal | None:
    """How ``destination_id`` was removed, if its last revision removed it; None when it has
    no history or its last revision defines it (the caller knows no file defines it now)."""
    last = (await store.last_destination_revisions([destination_id])).get(destination_id)
    if last is None or last.config is not None:
        return None
    before = await store.get_destination_revision(destination_id, last.revision - 1)
    config = before.config if before is not None and before.config is not None else {}
    cluster = config.get("cluster")
    return Removal(
        destination_id,
        last.revision,
        last.at,
        last.actor,
        last.reason,
        cluster if isinstance(cluster, str) else None,
    )
