"""What a kept answer needs of the person who looks at it again: the permissions its page needed.

A form's answer is kept for ``answers.LASTS`` and shown again by GET (``integrator.console.
answers``). Within those minutes an admin may take the permission away (deactivate the role,
narrow a grant's clusters): a reload must not go on showing what the page produced for who
held it. So while a POST runs, every ``visitor.needs(permission)`` it passes writes down the
permission and the clusters the person held it in (``Identity.visible_clusters``: what the
page could show or touch), and the answer is kept with that record. Showing it asks the same
``Identity`` check again: the permission still held in every one of those clusters, else the
usual refusal (a 403 page), not the answer. A narrowed grant refuses even an answer about a
cluster still held: the record says which clusters the page could reach, not which it did, and
an answer of minutes is cheaper to ask for again than to judge again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fastapi import Request

from integrator.access.permissions import ALL, Identity, Permission

_STATE: Final = "answer_needs"
EVERY: Final = "*"
"""How the record says "all clusters" (a grant without a cluster) in the kept JSON."""

Needs = dict[str, list[str]]
"""Per permission (its value), the clusters it was held in; ``[EVERY]``: all clusters."""


def start(request: Request) -> Needs:
    """A fresh record for ``request``, which the ``needs`` dependencies of its route fill in
    (the object is shared, however the request's state is copied on the way in)."""
    needs: Needs = {}
    setattr(request.state, _STATE, needs)
    return needs


def record(request: Request, identity: Identity, permission: Permission) -> None:
    """Write down that the page needed ``permission``, and where ``identity`` held it."""
    needs: Needs | None = getattr(request.state, _STATE, None)
    if needs is None:  # not under the answers' middleware (a test's bare router)
        return
    held = identity.visible_clusters(permission)
    needs[permission.value] = [EVERY] if held is ALL else sorted(held)


def still_met(identity: Identity, needs: Mapping[str, object]) -> bool:
    """Whether ``identity`` still holds each recorded permission in each recorded cluster."""
    for value, clusters in needs.items():
        try:
            permission = Permission(value)
        except ValueError:  # a permission no longer known: nobody holds it
            return False
        if not isinstance(clusters, list) or not identity.may_somewhere(permission):
            return False
        held = identity.visible_clusters(permission)
        if held is ALL:
            continue
        if any(c == EVERY or c not in held for c in clusters):
            return False
    return True
