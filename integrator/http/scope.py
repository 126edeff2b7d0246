"""Narrowing a route to the clusters of the identity asking: the API's side of the one check.

``authorize`` (``integrator.http.auth``) has let the request through because the identity holds
the route's permission in at least one cluster. What it may see and touch inside the route is
``integrator.clusters``' decision (``ClusterScope``); this module only hands a route its scope
as a dependency and says the refusals in HTTP: something outside the identity's clusters is
answered exactly as an unknown id (the route's own 404, or whatever it answers for an unknown
thing), something seen without the route's permission there is a 403 naming the permission and
the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from integrator.catalog import Catalog
from integrator.clusters import ClusterScope, NotPermitted, OutOfSight, cluster_of
from integrator.http.auth import authorized_identity, route_permission

__all__ = ["Scope", "ScopeDep", "cluster_of", "forbidden"]


def forbidden(refusal: NotPermitted) -> HTTPException:
    """The API's answer to something the caller sees without the permission it needs there."""
    return HTTPException(status_code=403, detail=str(refusal))


class Scope(ClusterScope):
    """An identity and the permission of the route it called."""

    __slots__ = ()

    def require(self, clusters: Iterable[str | None], *, missing: HTTPException) -> None:
        """Pass if the permission is held in every one of ``clusters``; else refuse: ``missing``
        (the answer for an unknown id) where the identity cannot see the thing at all, 403
        where it can see it and only lacks this permission."""
        try:
            self.check(clusters)
        except OutOfSight:
            raise missing from None
        except NotPermitted as refusal:
            raise forbidden(refusal) from None

    def require_destination(
        self, catalog: Catalog, destination_id: str, *, missing: HTTPException
    ) -> None:
        self.require([cluster_of(catalog, destination_id)], missing=missing)


async def _scope(request: Request) -> Scope:
    # One dependency, not three (the identity's and the permission's under it): see
    # ``authorized_identity`` on what FastAPI's solving costs per dependency named.
    return Scope(await authorized_identity(request), await route_permission(request))


ScopeDep = Annotated[Scope, Depends(_scope)]
"""The identity and the route's permission, to narrow the route to the identity's clusters."""
