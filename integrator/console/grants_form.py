"""Grants as the people and tokens forms send them: rows of a role and a cluster.

A blank row is no grant (a row with only a cluster is refused); an empty cluster is all
clusters. Whether a grant may be given is
``AccessService``'s to decide; an unknown role is refused by ``parse_grant``, whose message
names the rule. A cluster is passed on as typed (not stripped): a blank or padded name is the
service's to refuse when given, and a grant stored with one is taken away by its own name.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from typing import Final

from integrator.access.errors import AccessDenied
from integrator.access.permissions import Grant, parse_grant
from integrator.console.errors import BadInput, NotAllowed
from integrator.console.refusals import said
from integrator.refusal import Coded, code_of

GRANT_ROWS: Final = 6
"""How many role-and-cluster rows a form offers."""


class Refusal(Coded, ValueError):
    """A grant row that cannot be read (with the code of ``parse_grant``'s refusal)."""


def grants_of(roles: Sequence[str], clusters: Sequence[str]) -> list[Grant]:
    """The grants the rows name. A row with a cluster typed and no role chosen is refused: it
    was dropped without a word, and the person got fewer roles than the admin meant."""
    grants: list[Grant] = []
    for role, cluster in zip_longest(roles, clusters, fillvalue=""):
        if not role.strip():
            if cluster.strip():
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
