"""Narrowing a route to the clusters of the identity asking: one helper for every route.

``authorize`` (``integrator.http.auth``) has let the request through because the identity holds
the route's permission in at least one cluster. What it may see and touch inside the route is
decided here, always by ``Identity.may`` / ``Identity.visible_clusters``:

- a destination's cluster is ``cluster`` of its definition in service (``engine.catalog``);
  one without a cluster, or with no definition in service (never loaded, or removed), lies in
  no cluster and is only for grants for all clusters;
- a message, dead letter or resend lies in its destination's cluster; an event in the clusters
  of the destinations it has messages for (an unrouted event lies in none);
- a listing is narrowed in the store query (``Scope.destination_ids``), not by leaving rows out
  of a page, so pages stay full and counts true;
- a direct request for something outside the identity's clusters answers exactly as for an
  unknown id (404), unless the identity can see it and only lacks the route's permission
  there: then 403, since hiding what it can list would only confuse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, HTTPException

from integrator.access.permissions import ALL, Identity, Permission
from integrator.catalog import Catalog
from integrator.http.auth import IdentityDep, RoutePermissionDep

P = Permission

SEEN_WITH: Final[dict[Permission, Permission]] = {
    # Who may list a thing knows it exists: refusing them an action on it is a 403, not a 404.
    P.PATIENT_DATA_READ: P.MESSAGES_READ,
    P.MESSAGES_RESEND: P.MESSAGES_READ,
    P.DESTINATIONS_WRITE: P.DESTINATIONS_READ,
    P.DESTINATIONS_TEST: P.DESTINATIONS_READ,
}


@dataclass(frozen=True, slots=True)
class Scope:
    """An identity and the permission of the route it called."""

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

    def destination_ids(self, catalog: Catalog) -> frozenset[str] | None:
        """The destinations whose messages this identity may see; None: all, also removed ones."""
        if self.identity.visible_clusters(self.permission) is ALL:
            return None
        return frozenset(
            dest_id
            for dest_id, config in catalog.destinations.items()
            if self.allows(config.cluster)
        )

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
        )

    def require(self, clusters: Iterable[str | None], *, missing: HTTPException) -> None:
        """Pass if the permission is held in every one of ``clusters``; else refuse: ``missing``
        (the answer for an unknown id) where the identity cannot see the thing at all, 403
        where it can see it and only lacks this permission."""
        wanted = list(clusters)
        if self.allows_all(wanted):
            return
        seen_with = SEEN_WITH.get(self.permission)
        if seen_with is not None and all(self.identity.may(seen_with, c) for c in wanted):
            where = ", ".join(sorted(c or "(no cluster)" for c in set(wanted)))
            raise HTTPException(
                status_code=403,
                detail=f"this needs the {self.permission.value} permission in cluster {where}",
            )
        raise missing

    def require_destination(
        self, catalog: Catalog, destination_id: str, *, missing: HTTPException
    ) -> None:
        self.require([cluster_of(catalog, destination_id)], missing=missing)


def cluster_of(catalog: Catalog, destination_id: str) -> str | None:
    """The cluster a destination lies in; None (only all-cluster grants) when it has none."""
    config = catalog.destinations.get(destination_id)
    return config.cluster if config is not None else None


def _scope(identity: IdentityDep, permission: RoutePermissionDep) -> Scope:
    return Scope(identity, permission)


ScopeDep = Annotated[Scope, Depends(_scope)]
"""The identity and the route's permission, to narrow the route to the identity's clusters."""
