"""What an identity may see and touch: the one cluster check behind every front door.

A front door has let the caller in because the identity holds the permission it exercises in at
least one cluster (the API's ``authorize``, the console's ``needs``). What it may see and touch
beyond that is decided here, always by ``Identity.may`` / ``Identity.visible_clusters``, so the
API, the console and the services they call can never disagree:

- a destination's cluster is ``cluster`` of its definition in service (``engine.catalog``);
  one with no definition in service but a recorded history (removed through the tools, or its
  file deleted by hand) lies in the cluster of its last recorded definition
  (``Catalog.removed``), so the support staff of that cluster keep reading its messages and
  resolving its dead letters; one without a cluster, or never recorded, lies in no cluster
  and is only for grants for all clusters. A message lies where its destination lies now: a
  destination in service moved to another cluster takes its messages with it, on purpose; a
  removed one's id comes back only in its last cluster (``removed_destinations``), so its
  messages never reach another cluster's people that way;
- a message, dead letter or resend lies in its destination's cluster; an event in the clusters
  of the destinations it has messages for (an unrouted event lies in none);
- a listing is narrowed in the store query (``ClusterScope.destination_ids``), not by leaving
  rows out of a page, so pages stay full and counts true;
- something outside the identity's clusters is answered exactly as an unknown one
  (``OutOfSight``), unless the identity can see it and only lacks the permission there
  (``NotPermitted``), since hiding what it can list would only confuse.

The refusals are plain exceptions; each front door says them its own way (the API as 404/403,
``integrator.http.scope``; the console as its not-found and forbidden pages).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from integrator.access.permissions import ALL, Identity, Permission, SuspendedGrant
from integrator.catalog import Catalog

P = Permission

SEEN_WITH: Final[dict[Permission, Permission]] = {
    # Who may list a thing knows it exists: refusing them an action on it is a 403, not a 404.
    P.PATIENT_DATA_READ: P.MESSAGES_READ,
    P.MESSAGES_RESEND: P.MESSAGES_READ,
    P.DESTINATIONS_WRITE: P.DESTINATIONS_READ,
    P.DESTINATIONS_TEST: P.DESTINATIONS_READ,
}


class OutOfSight(LookupError):
    """The thing lies outside the identity's clusters: answer as for an unknown one.

    Carries no text of its own; what "unknown" sounds like is the caller's (an unknown message,
    an unknown destination, a target that is not configured).
    """


class NotPermitted(PermissionError):
    """The identity sees the thing but lacks the permission in its cluster(s)."""

    def __init__(
        self,
        permission: Permission,
        clusters: Iterable[str | None],
        suspended: Iterable[SuspendedGrant] = (),
    ) -> None:
        self.permission = permission
        self.clusters = frozenset(clusters)
        where = ", ".join(sorted(c or "(no cluster)" for c in self.clusters))
        said = f"this needs the {permission.value} permission in cluster {where}"
        # A token's grant that would carry it but is suspended (its maker lost the role): why.
        for held in suspended:
            said += f"; this token holds {held.grant}, but it is suspended: {held.reason}"
        super().__init__(said)


def cluster_of(catalog: Catalog, destination_id: str) -> str | None:
    """The cluster a destination lies in: its definition's in service, else its last recorded
    one's (removed); None (only all-cluster grants) when it has none."""
    config = catalog.destinations.get(destination_id)
    if config is not None:
        return config.cluster
    return catalog.removed.get(destination_id)


@dataclass(frozen=True, slots=True)
class ClusterScope:
    """An identity and the permission it is exercising."""

    identity: Identity
    permission: Permission

    @property
    def actor(self) -> str:
        """Who the audit trail records: the authenticated identity, never a header."""
        return self.identity.display

    def allows(self, cluster: str | None) -> bool:
        return self.identity.may(self.permission, cluster)

    def allows_all(self, clusters: Iterable[str | None]) -> bool:
        return all(self.allows(cluster) for cluster in clusters)

    def allows_destination(self, catalog: Catalog, destination_id: str) -> bool:
        return self.allows(cluster_of(catalog, destination_id))

    def clusters_held(self) -> frozenset[str | None]:
        """The clusters in which the permission is held, as a job keeps them (``{None}``: all
        clusters): a job's results are written as its starter may see them, so only who holds
        the permission in each of these may read it (``GET /api/v1/jobs/{id}``)."""
        visible = self.identity.visible_clusters(self.permission)
        return frozenset({None}) if visible is ALL else frozenset(visible)

    def destination_ids(self, catalog: Catalog) -> frozenset[str] | None:
        """The destinations whose messages this identity may see, removed ones of its
        clusters too (``Catalog.removed``); None: all, also those no history records."""
        if self.identity.visible_clusters(self.permission) is ALL:
            return None
        in_service = (
            d for d, config in catalog.destinations.items() if self.allows(config.cluster)
        )
        removed = (
            d
            for d, cluster in catalog.removed.items()
            if d not in catalog.destinations and self.allows(cluster)
        )
        return frozenset((*in_service, *removed))

    def visible_catalog(self, catalog: Catalog) -> Catalog:
        """``catalog`` without the destinations outside this identity's clusters."""
        kept = self.destination_ids(catalog)
        if kept is None:
            return catalog
        return dataclasses.replace(
            catalog,
            destinations={k: v for k, v in catalog.destinations.items() if k in kept},
            sources={k: v for k, v in catalog.sources.items() if k in kept},
            broken={k: v for k, v in catalog.broken.items() if k in kept},
            removed={k: v for k, v in catalog.removed.items() if k in kept},
        )

    def searchable_destinations(self, catalog: Catalog) -> list[str]:
        """The destination ids a search form offers this identity: those in service in its
        clusters and the removed ones that lay in them (their messages are still there)."""
        visible = self.visible_catalog(catalog)
        return sorted({*visible.destinations, *visible.removed})

    def check(self, clusters: Iterable[str | None]) -> None:
        """Pass if the permission is held in every one of ``clusters``; else ``OutOfSight``
        where the identity cannot see the thing at all, ``NotPermitted`` where it can see it
        and only lacks this permission."""
        wanted = list(clusters)
        if self.allows_all(wanted):
            return
        seen_with = SEEN_WITH.get(self.permission)
        if seen_with is not None and all(self.identity.may(seen_with, c) for c in wanted):
            suspended = [
                held
                for held in self.identity.suspended_for(self.permission)
                if any(held.grant.covers(c) for c in wanted)
            ]
            raise NotPermitted(self.permission, wanted, suspended)
        raise OutOfSight()

    def check_destination(self, catalog: Catalog, destination_id: str) -> None:
        """``check`` for the cluster of a destination (and of its messages)."""
        self.check([cluster_of(catalog, destination_id)])
