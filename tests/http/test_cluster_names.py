"""A grant's cluster through the API is taken by its exact name (docs/access.md, clusters).

``" CARD "`` used to be stripped to ``CARD`` on the way in, so a grant stored with a padded
name before the rule could not be taken away through the API (its name never arrived), while a
destination file could name such a cluster. Now a blank or padded name being given is refused
with the rule of a destination's ``cluster``, and one being taken away is matched as sent.
"""

from __future__ import annotations

import httpx
import pytest

from integrator.engine import Engine

RULE = "must not be blank nor begin or end with white space"


@pytest.mark.parametrize("cluster", [" CARD ", "CARD ", "   ", "", "\u00a0CARD"])
async def test_a_blank_or_padded_cluster_is_refused_naming_the_field_and_the_rule(
    engine: Engine, api: httpx.AsyncClient, cluster: str
) -> None:
    grants = [{"role": "viewer", "cluster": cluster}]
    invited = await api.post("/api/v1/people", json={"email": "a@example.nl", "grants": grants})
    made = await api.post("/api/v1/tokens", json={"name": "lab-feed", "grants": grants})
    for answer in (invited, made):
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert detail.startswith(f"cluster: the name of cluster {cluster!r} {RULE}"), detail
    assert not [p for p in await engine.store.list_people() if p.email == "a@example.nl"]
    assert "lab-feed" not in {t.name for t in await engine.store.list_tokens()}


async def test_a_grant_stored_with_a_padded_cluster_loads_and_is_taken_away_by_its_name(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    invited = await api.post(
        "/api/v1/people",
        json={"email": "b@example.nl", "grants": [{"role": "viewer", "cluster": "CARD"}]},
    )
    assert invited.status_code == 201, invited.text
    person_id = invited.json()["person"]
    # As a release before the rule could have stored it.
    await engine.store.set_person_grants(
        person_id, [("viewer", " CARD "), ("reports", "CARD")], now=engine.clock.now()
    )
    shown = await api.get(f"/api/v1/people/{person_id}")
    assert shown.status_code == 200, shown.text
    assert {(g["role"], g["cluster"]) for g in shown.json()["grants"]} == {
        ("viewer", " CARD "),
        ("reports", "CARD"),
    }

    taken = await api.post(
        f"/api/v1/people/{person_id}/roles/viewer/deactivate",
        json={"cluster": " CARD ", "reason": "a cluster of a name no destination has"},
    )
    assert taken.status_code == 200, taken.text
    assert [(g["role"], g["cluster"]) for g in taken.json()["grants"]] == [("reports", "CARD")]
