"""An admin of some clusters learns nothing of a person's grants elsewhere from a refusal
(docs/access.md, "Clusters: the one check": an admin for ``CARD`` sees only the people and
grants that reach into ``CARD``).

Found in a security review: taking away a grant the person does not hold answered with the
grants of that role they do hold, in every cluster, so an admin of CARD read the person's
LAB grants, which their listing and ``GET /api/v1/people/{id}`` leave out.
"""

from __future__ import annotations

import pytest

from integrator.access import AccessService, BadAccessInput, Grant, Identity, Role
from tests.access.conftest import LOCAL


async def _token_identity(service: AccessService, name: str, *grants: Grant) -> Identity:
    made = await service.create_token(LOCAL, name, list(grants))
    identity = await service.authenticate_token(made.token)
    assert identity is not None
    return identity


async def test_taking_away_a_grant_not_held_names_only_grants_in_the_callers_clusters(
    service: AccessService,
) -> None:
    email = "mona@example.nl"
    held = [Grant(Role.VIEWER, "CARD"), Grant(Role.RESEND, "LAB"), Grant(Role.REPORTS, "CARD")]
    await service.invite(LOCAL, email, held)
    card_admin = await _token_identity(service, "card-admin", Grant(Role.ADMIN, "CARD"))
    lab_admin = await _token_identity(service, "lab-admin", Grant(Role.ADMIN, "LAB"))
    [shown] = [p for p in await service.list_people(card_admin) if p.email == email]
    assert set(shown.grants) == {Grant(Role.VIEWER, "CARD"), Grant(Role.REPORTS, "CARD")}

    for by, role, cluster, elsewhere in (
        (card_admin, Role.RESEND, "CARD", "resend@LAB"),
        (lab_admin, Role.REPORTS, "LAB", "reports@CARD"),
    ):
        with pytest.raises(BadAccessInput) as refused:
            await service.deactivate_role(by, email, role, cluster, reason="moved")
        assert refused.value.rule == f"this person holds no active grant {role.value}@{cluster}"
        assert elsewhere not in str(refused.value)

    # The server's CLI, which sees every cluster, still gets the grants to name.
    with pytest.raises(BadAccessInput, match="of resend they hold resend@LAB: name its"):
        await service.deactivate_role(LOCAL, email, Role.RESEND, "CARD", reason="moved")
    assert set(held) == set((await service.person(LOCAL, shown.id)).grants)
