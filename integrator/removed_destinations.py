"""A destination that was removed, as its history tells it: when, by whom, why.

Once removed, a destination's id named none, and the console answered its page with a bare
"not found": after removing one, the browser's Back landed there, and a second tab's removal
form could only say it had gone without saying when or who. The history keeps the removal as
its last revision (``config`` None: removed in a front door, or its file deleted by hand and
recorded so by the engine), and the revision before it holds the definition it had, so the
cluster it lay in. An id with no such history stays unknown.

A removed destination's messages stay in the store and lie in that cluster
(``integrator.clusters``). Its id may come back only there (``elsewhere_than_removed``): a
destination added again under it in another cluster took those messages, patient data sent to
the first cluster's receiver, to the other cluster's people, who could read and resend them.
Refused at every way an id comes back: an add, a rollback of the removed destination, a change
to its refused file, and a file that defines it again by hand (refused at the reload, its file
and ``id`` named, every other file applied as always). Moving a destination in service to
another cluster stays a change of its own, made on purpose by who may change both clusters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from destinations.config import DestinationFileError
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


def elsewhere_than_removed(
    removal: Removal | None, cluster: str | None, file: str
) -> DestinationFileError | None:
    """The refusal of bringing back the id of ``removal`` in ``cluster`` (from ``file``, the
    definition's source) when that is not the cluster it was removed from; None where it may
    come back (never removed, or in its own cluster).

    Names the key (``id``), the rule and the ways out, with nothing but the id and the
    cluster's name: who gets this far may see that cluster (someone held to other clusters is
    refused the id before, without its cluster: ``DestinationAdmin._refuse_id_of_another``)."""
    if removal is None or removal.cluster == cluster:
        return None
    dest_id = removal.destination_id
    if removal.cluster is None:
        return DestinationFileError(
            file,
            "id",
            f"destination {dest_id!r} was removed while in no cluster, and its messages stay "
            "there, for all-cluster grants only: add it again without a cluster, or choose "
            "another id",
            code="id_of_removed_no_cluster",
            values={"id": dest_id},
        )
    return DestinationFileError(
        file,
        "id",
        f"destination {dest_id!r} was removed from cluster {removal.cluster}, and its messages "
        f"stay in that cluster: add it again in cluster {removal.cluster}, or choose another id",
        code="id_of_removed",
        values={"id": dest_id, "cluster": removal.cluster},
    )
