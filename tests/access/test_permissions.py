"""The permission matrix and the one check: what each role may do, and where."""

from __future__ import annotations

import pytest

from integrator.access.permissions import (
    ALL,
    MATRIX,
    Grant,
    Identity,
    IdentityKind,
    Permission,
    Role,
    local_identity,
    parse_grant,
    roles_with,
)

P = Permission


def person(*grants: Grant, two_factor: bool = True) -> Identity:
    return Identity(
        IdentityKind.PERSON, "p1", "person:anna@example.nl", frozenset(grants), two_factor
    )


def token(*grants: Grant) -> Identity:
    return Identity(IdentityKind.TOKEN, "t1", "token:scraper", frozenset(grants))


EXPECTED = {
    Role.RESEND: {
        P.MESSAGES_READ,
        P.PATIENT_DATA_READ,
        P.MESSAGES_RESEND,
        P.DEADLETTERS_DISCARD,
        P.DESTINATIONS_READ,
        P.EVENTS_ROUTE,
    },
    Role.DESTINATIONS: {P.DESTINATIONS_READ, P.DESTINATIONS_WRITE},
    Role.PREVIEW: {P.DESTINATIONS_READ, P.DESTINATIONS_TEST},
    Role.REPORTS: {P.MESSAGES_READ, P.REPORTS_EXPORT},
    Role.VIEWER: {P.MESSAGES_READ, P.DESTINATIONS_READ},
    Role.ADMIN: {P.PEOPLE_MANAGE, P.TOKENS_MANAGE, P.AUDIT_READ},
    Role.INTAKE: {P.EVENTS_SUBMIT},
    Role.METRICS: {P.METRICS_READ},
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_holds_exactly_its_permissions(role: Role) -> None:
    assert MATRIX[role] == EXPECTED[role]
    who = person(Grant(role))
    assert {p for p in Permission if who.may(p)} == EXPECTED[role]


def test_every_permission_belongs_to_some_role() -> None:
    assert all(roles_with(p) for p in Permission)
    assert set(MATRIX) == set(Role)


def test_only_resend_sees_patient_data() -> None:
    assert roles_with(P.PATIENT_DATA_READ) == [Role.RESEND]
    assert not person(Grant(Role.VIEWER)).may(P.PATIENT_DATA_READ)
    assert not person(Grant(Role.ADMIN)).may(P.PATIENT_DATA_READ)


def test_a_cluster_grant_reaches_that_cluster_only() -> None:
    anna = person(Grant(Role.RESEND, "CARD"))
    assert anna.may(P.MESSAGES_RESEND, "CARD")
    assert not anna.may(P.MESSAGES_RESEND, "ONCO")
    # Without a cluster the permission is asked for everywhere: a cluster grant is not enough.
    assert not anna.may(P.MESSAGES_RESEND)
    assert anna.visible_clusters(P.MESSAGES_READ) == frozenset({"CARD"})
    assert anna.visible_clusters(P.DESTINATIONS_WRITE) == frozenset()
    assert anna.may_somewhere(P.MESSAGES_READ)
    assert not anna.may_somewhere(P.DESTINATIONS_WRITE)


def test_a_grant_for_all_clusters_reaches_every_cluster() -> None:
    anna = person(Grant(Role.VIEWER))
    assert anna.may(P.MESSAGES_READ)
    assert anna.may(P.MESSAGES_READ, "CARD")
    assert anna.may(P.MESSAGES_READ, "ANY-OTHER")
    assert anna.visible_clusters(P.MESSAGES_READ) is ALL


def test_grants_add_up_over_roles_and_clusters() -> None:
    anna = person(Grant(Role.VIEWER, "CARD"), Grant(Role.VIEWER, "ONCO"), Grant(Role.PREVIEW))
    assert anna.visible_clusters(P.MESSAGES_READ) == frozenset({"CARD", "ONCO"})
    assert anna.visible_clusters(P.DESTINATIONS_READ) is ALL
    assert anna.may(P.DESTINATIONS_TEST, "GYN")
    assert not anna.may(P.MESSAGES_READ, "GYN")


def test_patient_data_needs_a_second_factor_for_people_only() -> None:
    grant = Grant(Role.RESEND, "CARD")
    assert person(grant, two_factor=True).may(P.PATIENT_DATA_READ, "CARD")
    without = person(grant, two_factor=False)
    assert not without.may(P.PATIENT_DATA_READ, "CARD")
    assert without.visible_clusters(P.PATIENT_DATA_READ) == frozenset()
    assert without.may(P.MESSAGES_RESEND, "CARD")  # the rest of the role still works
    assert token(grant).may(P.PATIENT_DATA_READ, "CARD")


def test_no_grants_no_permissions() -> None:
    nobody = person()
    assert not any(nobody.may(p) or nobody.may_somewhere(p) for p in Permission)


def test_the_local_cli_may_everything_and_is_recorded_as_its_user() -> None:
    local = local_identity("local:piet")
    assert local.display == "local:piet"
    assert local.kind is IdentityKind.LOCAL
    assert all(local.may(p) and local.may(p, "CARD") for p in Permission)


def test_grant_scope_rules() -> None:
    assert Grant(Role.RESEND, "CARD").within(Grant(Role.RESEND))
    assert Grant(Role.RESEND, "CARD").within(Grant(Role.RESEND, "CARD"))
    assert not Grant(Role.RESEND).within(Grant(Role.RESEND, "CARD"))
    assert not Grant(Role.RESEND, "CARD").within(Grant(Role.VIEWER))
    assert str(Grant(Role.RESEND, "CARD")) == "resend@CARD"
    assert str(Grant(Role.ADMIN)) == "admin@*"


def test_parse_grant_names_the_rule() -> None:
    assert parse_grant("viewer", "CARD") == Grant(Role.VIEWER, "CARD")
    assert parse_grant("viewer", None) == Grant(Role.VIEWER)
    with pytest.raises(ValueError, match="unknown role 'superuser'"):
        parse_grant("superuser", None)
    # The cluster as given: a blank or padded one is the service's to refuse when it is given,
    # and one being taken away must match the grant as stored (tests/http/test_cluster_names).
    assert parse_grant("viewer", " CARD ") == Grant(Role.VIEWER, " CARD ")
