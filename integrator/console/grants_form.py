"""Grants as the people and tokens forms send them: rows of a role and a cluster.

A blank row is no grant (a row with only a cluster is refused); an empty cluster is all
clusters. Whether a grant may be given is ``AccessService``'s to decide; an unknown role is
refused by ``parse_grant``, whose message names the rule. A cluster is passed on as typed (not
stripped): a blank or padded name is the service's to refuse when given, and a grant stored
with one is taken away by its own name.

What the rows offer is the service's answer too (``AccessService.offers``, ``offered``): only
the roles the person may give somewhere, beside the field the clusters a role is limited to and
why a role is not offered (the service's own refusal of it), and the clusters as suggestions.
Someone who may give grants in one cluster only (and not for all clusters) finds it filled in:
a blank row left with that cluster is still a blank row, not "a cluster without a role".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import Final

from integrator.access.errors import AccessDenied
from integrator.access.permissions import Grant, Identity, Role, parse_grant
from integrator.access.service import AccessService, GiftTo
from integrator.console.errors import BadInput, NotAllowed
from integrator.console.refusals import Said, said
from integrator.refusal import Coded, code_of

GRANT_ROWS: Final = 6
"""How many role-and-cluster rows a form offers."""


class Refusal(Coded, ValueError):
    """A grant row that cannot be read (with the code of ``parse_grant``'s refusal)."""


@dataclass(frozen=True, slots=True)
class Offered:
    """What a form's grant rows offer one person, from ``AccessService.offers``."""

    roles: list[Role]  # the roles offered (somewhere)
    only: list[tuple[Role, list[str]]]  # a role offered for these clusters only
    refused: list[tuple[Role, Said]]  # a role not offered, and the service's reason
    clusters: list[str]  # every cluster some role is offered for (suggested in the rows)
    preset: str | None  # the one cluster, where all clusters is offered for no role
    every: tuple[Role, ...] = tuple(Role)  # a row holding one of these keeps it selectable


async def offered(access: AccessService, by: Identity, *, to: GiftTo) -> Offered:
    """What the rows offer ``by`` giving grants ``to`` a person or a token."""
    offers = await access.offers(by, to=to)
    clusters = sorted({c for o in offers for c in o.clusters if c is not None})
    everywhere = any(None in o.clusters for o in offers)
    return Offered(
        roles=[o.role for o in offers if o.clusters],
        only=[
            (o.role, [c for c in o.clusters if c is not None])
            for o in offers
            if o.clusters and None not in o.clusters
        ],
        refused=[(o.role, said(o.refused, field=False)) for o in offers if o.refused],
        clusters=clusters,
        preset=clusters[0] if len(clusters) == 1 and not everywhere else None,
    )


def grants_of(
    roles: Sequence[str], clusters: Sequence[str], *, preset: str | None = None
) -> list[Grant]:
    """The grants the rows name. A row with a cluster typed and no role chosen is refused: it
    was dropped without a word, and the person got fewer roles than the admin meant. A row
    whose cluster is ``preset`` (``Offered.preset``, which the form filled in) and no role is
    blank: nobody typed it."""
    grants: list[Grant] = []
    for role, cluster in zip_longest(roles, clusters, fillvalue=""):
        if not role.strip():
            if cluster.strip() and (preset is None or cluster != preset):
                raise Refusal(
                    f"a row names cluster {cluster.strip()} but no role: choose its role, or "
                    "empty its cluster"
                ).coded("access.cluster_without_role", cluster=cluster.strip())
            continue
        try:
            grants.append(parse_grant(role.strip(), cluster or None))
        except ValueError as exc:
            code, values = code_of(exc)
            refused = Refusal(str(exc))
            raise (refused.coded(code, **values) if code else refused) from None
    return grants


def refusal(exc: Exception) -> BadInput:
    """The page for a refusal of the access service, with its message."""
    return NotAllowed(said(exc)) if isinstance(exc, AccessDenied) else BadInput(said(exc))
