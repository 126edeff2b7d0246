"""A grant's cluster in the console is taken as typed: a blank or padded one being given is
refused beside the grant rows, in the person's language; one stored before that rule is taken
away by its own name.

The forms stripped it: ``" CARD "`` became ``CARD``, and a cluster of spaces became no cluster
at all, so a row meant for one cluster gave the role for every cluster."""

from __future__ import annotations

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_saved_searches import engine, person_id, post, signed_in  # noqa: F401
from tests.http.support import MAKER

RULE = {
    "en": "must not be blank nor begin or end with white space",
    "nl": "mag niet leeg zijn en niet met witruimte beginnen of eindigen",
}


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("cluster", [" CARD ", "   "])
async def test_a_blank_or_padded_cluster_is_refused_and_nothing_is_made(
    engine: Engine,  # noqa: F811
    lang: str,
    cluster: str,
) -> None:
    async with signed_in(engine, "ann@example.org", Grant(Role.ADMIN), lang=lang) as ann:
        token = await post(ann, "/tokens", {"name": "feed", "role": "viewer", "cluster": cluster})
        invited = await post(
            ann, "/people/invite", {"email": "bo@example.org", "role": "viewer", "cluster": cluster}
        )
    for answer in (token, invited):
        assert answer.status_code == 422, answer.text
        assert RULE[lang] in answer.text
    assert "feed" not in {t.name for t in await engine.store.list_tokens()}
    assert await engine.store.get_person(email="bo@example.org") is None


async def test_a_grant_stored_with_a_padded_cluster_is_taken_away_by_its_name(
    engine: Engine,  # noqa: F811
) -> None:
    await engine.access.invite(MAKER, "bo@example.org", [Grant(Role.VIEWER)])
    bo = await person_id(engine, "bo@example.org")
    await engine.store.set_person_grants(
        bo, [("viewer", " CARD "), ("reports", None)], now=engine.clock.now()
    )
    async with signed_in(engine, "ann@example.org", Grant(Role.ADMIN)) as ann:
        taken = await post(
            ann,
            f"/people/{bo}/deactivate-role",
            {"role": "viewer", "cluster": " CARD ", "reason": "a cluster no destination has"},
        )
    assert taken.status_code == 303, taken.text
    found = await engine.store.get_person(email="bo@example.org")
    assert found is not None
    assert {(g.role, g.cluster) for g in found.grants if g.active} == {("reports", None)}
