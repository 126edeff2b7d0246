"""The invitation and token forms as the person sent them, shown again with each refusal beside
the field it is about.

A refused form used to become the bare error page: what was typed was gone, and the refusal
named the service's input (``token_name:``, ``grants:``) rather than the form's label. The
access service says every input it refuses at once (``AccessRefusals``), each naming its
input (``BadAccessInput.field``); this module only puts each refusal beside the form's field,
worded when shown (``refusals.Said``), so a form with three mistakes is mended in one go.
Whether a grant or a name may be given stays the service's to decide.

What is kept is what the person typed into these forms, none of it a secret: a token's value
is made by the service and shown once, and an invitation carries no password.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Final, Protocol

from integrator.access.errors import AccessDenied, AccessRefusals
from integrator.console.grants_form import Refusal
from integrator.console.refusals import Said, said

GRANTS: Final = "grants"
"""The form field of the role-and-cluster rows."""
GENERAL: Final = ""
"""The key of a refusal about no one field of the form."""

FIELD_OF: Final[Mapping[str, str]] = {
    "token_name": "name",
    "name": "name",
    "email": "email",
    "grants": GRANTS,
    "cluster": GRANTS,  # a cluster is typed in the grant rows
    "expires": "days",
    "reason": "reason",
}
"""The service's name of an input (``BadAccessInput.field``) and the form's field it is."""


@dataclass(frozen=True, slots=True)
class TypedGrant:
    """A grant row as typed, to show it again with a refusal (it may not be a valid grant)."""

    role: str
    cluster: str | None


def typed_grants(roles: Sequence[str], clusters: Sequence[str]) -> list[TypedGrant]:
    """The rows the person filled in, in their order (a row without a role is no grant)."""
    return [
        TypedGrant(role.strip(), cluster or None)
        for role, cluster in zip_longest(roles, clusters, fillvalue="")
        if role.strip()
    ]


@dataclass
class AccessForm:
    """What an invitation or token form shows again: each text field as typed, the grant
    rows, and the refusals by field (``GENERAL``: about none of them)."""

    values: dict[str, str]
    grants: list[TypedGrant] = field(default_factory=list)
    errors: dict[str, list[Said]] = field(default_factory=dict)
    denied: bool = False
    """A refusal was about who asks (a grant beyond theirs): the page answers 403."""

    def refuse(self, exc: Exception) -> AccessForm:
        """Put the service's refusal beside the field it is about, without naming the field
        (the form's label does) and without echoing a value typed into another field."""
        if isinstance(exc, AccessRefusals):  # several at once: each beside its own field
            for problem in exc.problems:
                self.refuse(problem)
            return self
        self.errors.setdefault(field_of(exc), []).append(
            said(exc, field=False, withheld=self._typed())
        )
        self.denied = self.denied or isinstance(exc, AccessDenied)
        return self

    def refuse_field(self, name: str, refusal: Said) -> None:
        """A refusal of the page's own about one field (a number of days that is none)."""
        self.errors.setdefault(name, []).append(refusal)

    @property
    def general_errors(self) -> list[Said]:
        return self.errors.get(GENERAL, [])

    @property
    def status(self) -> int:
        return 403 if self.denied else 422

    def _typed(self) -> Iterable[str]:
        yield from (value for value in self.values.values() if value)
        yield from (g.cluster for g in self.grants if g.cluster)


def field_of(exc: Exception) -> str:
    """The form field a refusal is about: the input the service names; a grant refused to who
    asks, or a row that is no grant, is about the grant rows."""
    if isinstance(exc, AccessDenied | Refusal):
        return GRANTS
    named = getattr(exc, "field", None)
    return FIELD_OF.get(named, GENERAL) if isinstance(named, str) else GENERAL


class _HeldCluster(Protocol):
    @property
    def cluster(self) -> str | None: ...


def refused_controls(
    prefix: str, refusals: Sequence[Said | None] | Said | None, rows: Sequence[_HeldCluster]
) -> frozenset[str]:
    """The ids of the grant rows' controls (``<prefix>-role-<i>``, ``<prefix>-cluster-<i>``) a
    refusal of the rows is about, to mark them aria-invalid so the keyboard's focus lands on the
    first: the cluster of each row whose cluster the service names (``access.cluster_unknown``
    and the two without a list), else the first row's role (a role is missing, or a grant may
    not be given: the rows as a whole). ``rows`` are the rows as the form shows them again, in
    their order."""
    if isinstance(refusals, Said):
        refusals = [refusals]
    said_ = [refusal for refusal in refusals or () if refusal is not None]
    if not said_:
        return frozenset()
    clusters: set[str] = set()
    for refusal in said_:
        named = refusal.values.get("clusters", refusal.values.get("cluster", ()))
        if isinstance(named, str):
            named = (named,)
        clusters |= {str(c) for c in named} if isinstance(named, tuple | list) else set()
    # A cluster refused for its spaces is named quoted (``' CARD'``): matched as such too.
    bad = [
        f"{prefix}-cluster-{i}"
        for i, row in enumerate(rows)
        if row.cluster in clusters or repr(row.cluster) in clusters
    ]
    return frozenset(bad or [f"{prefix}-role-0"])
