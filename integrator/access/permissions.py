"""Roles, permissions and the one check every front door asks (docs/product.md §8).

The permission matrix is written once, here, as data: ``MATRIX`` maps each role to the
permissions it carries. The docs render it with :func:`render_matrix_markdown` and a test
compares the two, so the table people read cannot drift from the table the code enforces.

A route or command declares one :class:`Permission`; whether an identity may use it is decided
in one place, :meth:`Identity.may` (and :meth:`Identity.visible_clusters` for listings). Front
doors hold no rule of their own: they ask, and refuse or filter on the answer.

Cluster scoping fails closed: ``may(permission)`` without a cluster asks for the permission in
*every* cluster, so a front door that forgets to name the cluster refuses rather than leaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Literal

from integrator.refusal import Coded


class Role(StrEnum):
    """The roles of docs/product.md §8, plus ``metrics`` for the Prometheus scraper."""

    RESEND = "resend"
    DESTINATIONS = "destinations"
    PREVIEW = "preview"
    REPORTS = "reports"
    VIEWER = "viewer"
    ADMIN = "admin"
    INTAKE = "intake"
    METRICS = "metrics"


class Permission(StrEnum):
    """What a route or command needs; every current route declares exactly one."""

    MESSAGES_READ = "messages.read"
    PATIENT_DATA_READ = "patient_data.read"
    MESSAGES_RESEND = "messages.resend"
    DEADLETTERS_DISCARD = "deadletters.discard"
    DESTINATIONS_READ = "destinations.read"
    DESTINATIONS_WRITE = "destinations.write"
    DESTINATIONS_TEST = "destinations.test"
    REPORTS_EXPORT = "reports.export"
    EVENTS_SUBMIT = "events.submit"
    EVENTS_ROUTE = "events.route"
    AUDIT_READ = "audit.read"
    PEOPLE_MANAGE = "people.manage"
    TOKENS_MANAGE = "tokens.manage"
    METRICS_READ = "metrics.read"


P = Permission

MATRIX: dict[Role, frozenset[Permission]] = {
    # Support staff answer "my referral did not arrive": they must find the patient (BSN, name)
    # and read what was sent, so they are the one people role that sees patient data.
    Role.RESEND: frozenset(
        {
            P.MESSAGES_READ,
            P.PATIENT_DATA_READ,
            P.MESSAGES_RESEND,
            P.DEADLETTERS_DISCARD,
            P.DESTINATIONS_READ,
            P.EVENTS_ROUTE,
        }
    ),
    Role.DESTINATIONS: frozenset({P.DESTINATIONS_READ, P.DESTINATIONS_WRITE}),
    Role.PREVIEW: frozenset({P.DESTINATIONS_READ, P.DESTINATIONS_TEST}),
    Role.REPORTS: frozenset({P.MESSAGES_READ, P.REPORTS_EXPORT}),
    Role.VIEWER: frozenset({P.MESSAGES_READ, P.DESTINATIONS_READ}),
    Role.ADMIN: frozenset({P.PEOPLE_MANAGE, P.TOKENS_MANAGE, P.AUDIT_READ}),
    Role.INTAKE: frozenset({P.EVENTS_SUBMIT}),
    Role.METRICS: frozenset({P.METRICS_READ}),
}

ROLE_SUMMARIES: dict[Role, str] = {
    Role.RESEND: "support staff (herzenden berichten): find and read messages, resend, discard",
    Role.DESTINATIONS: "operators: manage destinations and their message versions",
    Role.PREVIEW: "send test messages to a destination",
    Role.REPORTS: "export message, event and audit listings (CSV)",
    Role.VIEWER: "browse messages and dashboards, nothing more",
    Role.ADMIN: "verantwoordelijk beheerder: people, tokens, role grants, the audit trail",
    Role.INTAKE: "upstream systems that submit events",
    Role.METRICS: "the Prometheus scraper of `/metrics`",
}

FOR_ALL_CLUSTERS_ONLY: dict[Role, str] = {
    Role.INTAKE: "an event goes to every destination of its provider, whatever its cluster",
    Role.METRICS: "/metrics belongs to no cluster",
}
"""Roles whose permission is only ever asked for every cluster, with why: given for one cluster
they would be refused at first use, so they are refused when given (``AccessService``)."""

PATIENT_DATA_NEEDS_TWO_FACTOR = True
"""A person sees patient data only in a session opened with a second factor."""


class IdentityKind(StrEnum):
    PERSON = "person"
    TOKEN = "token"  # noqa: S105 (a kind of identity, not a secret)
    LOCAL = "local"


class Everywhere(Enum):
    """The answer "all clusters" of :meth:`Identity.visible_clusters` (a set cannot say it)."""

    ALL = "all"


ALL = Everywhere.ALL
Clusters = frozenset[str] | Literal[Everywhere.ALL]


@dataclass(frozen=True, slots=True)
class Grant:
    """A role for one cluster, or for all clusters when ``cluster`` is None."""

    role: Role
    cluster: str | None = None

    def covers(self, cluster: str | None) -> bool:
        """Whether this grant reaches ``cluster`` (None: every cluster, so only an all-grant)."""
        return self.cluster is None or self.cluster == cluster

    def within(self, other: Grant) -> bool:
        """Whether this grant asks for no more than ``other`` gives: same role, no wider scope."""
        return self.role == other.role and other.covers(self.cluster)

    def __str__(self) -> str:
        return f"{self.role.value}@{self.cluster or '*'}"


class GrantRefused(Coded, ValueError):
    """A grant that cannot be read from user input; names the rule (and its refusal code)."""


def parse_grant(role: str, cluster: str | None) -> Grant:
    """A grant from user input; ``GrantRefused`` (a ValueError) naming the rule when the role
    is unknown. The cluster is taken as given: whether it may be given is the access service's
    to decide (a blank or padded name is refused there, ``CLUSTER_NAME_RULE``), while one
    being taken away is matched to the grant as stored, also to one stored before that rule."""
    try:
        parsed = Role(role)
    except ValueError:
        known = tuple(r.value for r in Role)
        raise GrantRefused(f"unknown role {role!r} (one of: {', '.join(known)})").coded(
            "access.role_unknown", role=role, known=known
        ) from None
    return Grant(parsed, cluster)


@dataclass(frozen=True, slots=True)
class SuspendedGrant:
    """A grant a token holds but does not act with now, and why (the service decides).

    A token's grants are checked against whoever it depends on at every use: a token of one's
    own against its owner, a role that reads patient data against the person or token that
    made it (``AccessService``). ``reason`` says the rule in English, naming the role and the
    cluster and never patient data; as a ``Note`` it carries a code and values, so the console
    words it in the person's language."""

    grant: Grant
    reason: str

    def to_json(self) -> dict[str, str | None]:
        return {
            "role": self.grant.role.value,
            "cluster": self.grant.cluster,
            "reason": str(self.reason),
        }

    def __str__(self) -> str:
        return f"{self.grant} (suspended: {self.reason})"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is asking, as established by a front door (session, token, or the server's CLI).

    ``display`` is what the audit trail records: ``person:<email>``, ``token:<name>`` or
    ``local:<user>``. ``two_factor`` says whether a person's session was opened with a second
    factor; tokens and the local CLI do not have one (see :meth:`may`). ``suspended`` are a
    token's grants that are not in force now (not in ``grants``), so that a refusal can say
    why rather than leave its holder puzzled; they grant nothing.

    ``session_reason`` is the why a person stated for their console session (None: none), which
    the console states for each request of it (``integrator.stated_reason``): it belongs to the
    session, not to the person. API tokens and the CLI have none here; they state theirs per
    request (the ``X-Integrator-Reason`` header) and per command (``--reason``).
    """

    kind: IdentityKind
    id: str
    display: str
    grants: frozenset[Grant] = field(default_factory=frozenset)
    two_factor: bool = False
    suspended: tuple[SuspendedGrant, ...] = ()
    session_reason: str | None = None

    def suspended_for(self, permission: Permission) -> list[SuspendedGrant]:
        """The suspended grants that would carry ``permission``: why it is refused, if so."""
        return [held for held in self.suspended if permission in MATRIX[held.grant.role]]

    def may(self, permission: Permission, cluster: str | None = None) -> bool:
        """THE check: may this identity use ``permission`` in ``cluster``?

        With ``cluster`` None the permission must be held for all clusters; for listings, use
        :meth:`visible_clusters` and filter instead. Patient data additionally needs a
        two-factor session when the identity is a person.
        """
        if not self._factor_allows(permission):
            return False
        return any(
            permission in MATRIX[grant.role] and grant.covers(cluster) for grant in self.grants
        )

    def visible_clusters(self, permission: Permission) -> Clusters:
        """The clusters in which ``permission`` is held: ``ALL``, or a (maybe empty) set."""
        if not self._factor_allows(permission):
            return frozenset()
        clusters: set[str] = set()
        for grant in self.grants:
            if permission not in MATRIX[grant.role]:
                continue
            if grant.cluster is None:
                return ALL
            clusters.add(grant.cluster)
        return frozenset(clusters)

    def may_somewhere(self, permission: Permission) -> bool:
        """Whether ``permission`` is held in at least one cluster (a listing is worth running)."""
        visible = self.visible_clusters(permission)
        return visible is ALL or bool(visible)

    def _factor_allows(self, permission: Permission) -> bool:
        return not (
            permission is Permission.PATIENT_DATA_READ
            and PATIENT_DATA_NEEDS_TWO_FACTOR
            and self.kind is IdentityKind.PERSON
            and not self.two_factor
        )


def local_identity(actor: str) -> Identity:
    """The server's CLI, trusted as its operating-system user (``actor`` is ``local:<user>``).

    Whoever has a shell on the server can read the database and the settings anyway, so the
    CLI holds every role in every cluster; what it does is recorded under ``local:<user>``.
    """
    user = actor.removeprefix("local:")
    return Identity(
        kind=IdentityKind.LOCAL,
        id=user,
        display=f"local:{user}",
        grants=frozenset(Grant(role) for role in Role),
    )


def roles_with(permission: Permission) -> list[Role]:
    return [role for role in Role if permission in MATRIX[role]]


PATIENT_DATA_ROLES: frozenset[Role] = frozenset(roles_with(Permission.PATIENT_DATA_READ))
"""The roles that read patient data (today ``resend``), read from the matrix: a role given
``patient_data.read`` later is one of them without anyone remembering to list it here."""


def render_matrix_markdown(roles: Iterable[Role] = Role) -> str:
    """The permission matrix as a markdown table: one row per permission, one column per role.

    ``docs/access.md`` holds this exact text between markers; a test keeps the two equal.
    """
    columns = list(roles)
    header = "| permission | " + " | ".join(f"`{role.value}`" for role in columns) + " |"
    rule = "|---|" + "|".join(":-:" for _ in columns) + "|"
    lines = [header, rule]
    for permission in Permission:
        cells = ["✓" if permission in MATRIX[role] else "" for role in columns]
        lines.append(f"| `{permission.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
