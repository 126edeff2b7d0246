"""The permission each HTTP route declares: one table, for the wiring and for the docs.

Every route the application serves appears here exactly once, with the one permission it needs;
``SIGNED_IN`` for what any authenticated identity may read, whatever its roles (the API's
documentation: Swagger UI's page, its script and style files and the OpenAPI document, which
hold no data but describe every route; a console session counts too, so a signed-in person can
open ``/docs`` in the browser); or None for what must answer without an identity: only the two
probes (a load balancer has none), as docs/product.md §7 says. A test walks the application's
routes and fails for any route missing here, so a new route cannot ship without a decision
about who may call it; ``integrator.http.auth`` enforces the table on every request and
refuses a route that is not in it.

How the cluster is judged: a route about one message, destination, event or job checks
``identity.may(permission, <its cluster>)``; a listing filters on
``identity.visible_clusters(permission)``; a route in ``EVERY_CLUSTER`` is about nothing that
lies in one cluster and needs the permission for all clusters.
"""

from __future__ import annotations

import enum
from typing import Final

from integrator.access.permissions import Permission

P = Permission


class Signed(enum.Enum):
    """What a route needs that is no permission: an authenticated identity, any roles."""

    IN = "signed in"


SIGNED_IN: Final = Signed.IN

Needs = Permission | Signed | None
"""What a route declares: a permission, ``SIGNED_IN``, or None (open to all)."""

ROUTE_PERMISSIONS: dict[tuple[str, str], Needs] = {
    ("GET", "/healthz"): None,
    ("HEAD", "/healthz"): None,  # a probe by HEAD: the status alone (RFC 9110)
    ("GET", "/readyz"): None,
    ("HEAD", "/readyz"): None,
    ("GET", "/metrics"): P.METRICS_READ,
    ("POST", "/api/v1/events"): P.EVENTS_SUBMIT,
    # Event summaries carry identifiers only (ZD number, provider), like message summaries.
    ("GET", "/api/v1/events"): P.MESSAGES_READ,
    # The listing as CSV, for the reports role (identifiers only; a BSN never in a URL).
    ("GET", "/api/v1/events.csv"): P.REPORTS_EXPORT,
    # The search by BSN and one event in full (its payload names the patient): patient data.
    ("POST", "/api/v1/events/search"): P.PATIENT_DATA_READ,
    ("GET", "/api/v1/events/{event_id}"): P.PATIENT_DATA_READ,
    ("POST", "/api/v1/events/route"): P.EVENTS_ROUTE,
    # Input that failed validation: when, from where and the rules broken (no byte of it) ...
    ("GET", "/api/v1/rejected"): P.MESSAGES_READ,
    # ... the search by BSN (in the body) tells whether a patient's referral was refused ...
    ("POST", "/api/v1/rejected/search"): P.PATIENT_DATA_READ,
    # ... and one body as it arrived, which may name the patient: patient data.
    ("GET", "/api/v1/rejected/{rejected_id}"): P.PATIENT_DATA_READ,
    ("GET", "/api/v1/messages"): P.MESSAGES_READ,
    # The listing as CSV, for the reports role (identifiers only; a BSN never in a URL).
    ("GET", "/api/v1/messages.csv"): P.REPORTS_EXPORT,
    # The search by BSN (in the body) tells whether a patient had a referral: patient data.
    ("POST", "/api/v1/messages/search"): P.PATIENT_DATA_READ,
    # One message in full: the HL7 (PID) and the event's patient name and BSN.
    ("GET", "/api/v1/messages/{message_id}"): P.PATIENT_DATA_READ,
    ("POST", "/api/v1/messages/{message_id}/resend"): P.MESSAGES_RESEND,
    ("POST", "/api/v1/resend"): P.MESSAGES_RESEND,
    # A waiting retry's next attempt made now: support's, as a resend is.
    ("POST", "/api/v1/messages/{message_id}/try-now"): P.MESSAGES_RESEND,
    ("POST", "/api/v1/destinations/{destination_id}/try-now"): P.MESSAGES_RESEND,
    # Jobs are support's batches (resend, route, discard); a job needs besides its own kind's
    # permission (``integrator.jobs.JOB_PERMISSIONS``) in every cluster its starter held it.
    ("GET", "/api/v1/jobs/{job_id}"): P.MESSAGES_RESEND,
    ("GET", "/api/v1/deadletters"): P.MESSAGES_READ,
    ("POST", "/api/v1/deadletters/discard"): P.DEADLETTERS_DISCARD,
    ("POST", "/api/v1/deadletters/{message_id}/discard"): P.DEADLETTERS_DISCARD,
    ("GET", "/api/v1/destinations"): P.DESTINATIONS_READ,
    ("GET", "/api/v1/destinations/{destination_id}"): P.DESTINATIONS_READ,
    ("GET", "/api/v1/destinations/{destination_id}/history"): P.DESTINATIONS_READ,
    ("POST", "/api/v1/destinations"): P.DESTINATIONS_WRITE,
    ("PUT", "/api/v1/destinations/{destination_id}"): P.DESTINATIONS_WRITE,
    ("PATCH", "/api/v1/destinations/{destination_id}"): P.DESTINATIONS_WRITE,
    ("DELETE", "/api/v1/destinations/{destination_id}"): P.DESTINATIONS_WRITE,
    ("POST", "/api/v1/destinations/{destination_id}/pause"): P.DESTINATIONS_WRITE,
    ("POST", "/api/v1/destinations/{destination_id}/resume"): P.DESTINATIONS_WRITE,
    ("POST", "/api/v1/destinations/{destination_id}/rollback/{revision}"): P.DESTINATIONS_WRITE,
    ("POST", "/api/v1/destinations/{destination_id}/test"): P.DESTINATIONS_TEST,
    ("GET", "/api/v1/versions"): P.DESTINATIONS_READ,
    ("GET", "/api/v1/audit"): P.AUDIT_READ,
    # Who viewed a patient's data, and what was done to their events and messages.
    ("POST", "/api/v1/audit/search"): P.AUDIT_READ,
    # The access-log review (NEN 7513): who viewed patient data or exported listings, per actor.
    ("GET", "/api/v1/audit/summary"): P.AUDIT_READ,
    # The audit trail as CSV, for the reports role.
    ("GET", "/api/v1/audit.csv"): P.REPORTS_EXPORT,
    # People and their grants: an admin sees and acts within the clusters of their grants.
    ("GET", "/api/v1/people"): P.PEOPLE_MANAGE,
    ("POST", "/api/v1/people"): P.PEOPLE_MANAGE,
    ("GET", "/api/v1/people/{person_id}"): P.PEOPLE_MANAGE,
    ("POST", "/api/v1/people/{person_id}/invitation"): P.PEOPLE_MANAGE,
    ("POST", "/api/v1/people/{person_id}/second-factor/reset"): P.PEOPLE_MANAGE,
    ("PUT", "/api/v1/people/{person_id}/grants"): P.PEOPLE_MANAGE,
    ("POST", "/api/v1/people/{person_id}/deactivate"): P.PEOPLE_MANAGE,
    ("POST", "/api/v1/people/{person_id}/roles/{role}/deactivate"): P.PEOPLE_MANAGE,
    # API tokens. Also for a token of one's own: a token may not mint tokens unless it manages
    # them (a leaked one would otherwise outlive its revocation through its successors).
    ("GET", "/api/v1/tokens"): P.TOKENS_MANAGE,
    ("POST", "/api/v1/tokens"): P.TOKENS_MANAGE,
    ("DELETE", "/api/v1/tokens/{token_id}"): P.TOKENS_MANAGE,
    # Swagger UI (served offline, integrator.http.docs): a page, three static files and the
    # OpenAPI document, for any token or console session.
    ("GET", "/docs"): SIGNED_IN,
    ("GET", "/docs/assets/{name}"): SIGNED_IN,
    ("GET", "/openapi.json"): SIGNED_IN,
}

EVERY_CLUSTER: frozenset[tuple[str, str]] = frozenset(
    {
        # The engine's counters span every destination.
        ("GET", "/metrics"),
        # An event goes to every destination that serves its provider, whatever the cluster.
        ("POST", "/api/v1/events"),
        # The audit trail records every cluster's changes and views.
        ("GET", "/api/v1/audit"),
        ("POST", "/api/v1/audit/search"),
        ("GET", "/api/v1/audit/summary"),
        ("GET", "/api/v1/audit.csv"),
        # Routing makes messages for every destination that serves an event's provider, in
        # whatever cluster; and an unrouted event has no destination, so lies in no cluster.
        ("POST", "/api/v1/events/route"),
        # Rejected input never reached a destination, so it lies in no cluster.
        ("GET", "/api/v1/rejected"),
        ("POST", "/api/v1/rejected/search"),
        ("GET", "/api/v1/rejected/{rejected_id}"),
    }
)
"""Routes that need their permission for all clusters, not just for some."""


def render_routes_markdown() -> str:
    """The route table as markdown, as ``docs/access.md`` holds it (a test keeps them equal)."""
    lines = ["| route | permission |", "|---|---|"]
    for route, permission in ROUTE_PERMISSIONS.items():
        method, path = route
        if permission is None:
            needs = "none (open to all)"
        elif permission is SIGNED_IN:
            needs = "any API token or console session"
        elif route in EVERY_CLUSTER:
            needs = f"`{permission.value}` for all clusters"
        else:
            needs = f"`{permission.value}`"
        lines.append(f"| `{method} {path}` | {needs} |")
    return "\n".join(lines) + "\n"
