"""The audit search's message id term on the console: an id taken whole, as the API takes it.

A message term that is no whole id matched nothing and showed an empty trail, read as "nothing
was done to it"; it is refused beside its field in the person's language, the refusal never
repeating it (``search.whole_id``, the rule ``GET /api/v1/audit?message=`` answers 422 with).
"""

from __future__ import annotations

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_audit_destination import engine
from tests.console.test_audit_misplaced_bsn import beside
from tests.console.test_saved_searches import ORIGIN, csrf, signed_in

__all__ = ["engine"]  # the fixture: a started engine with a trail

NOT_AN_ID = "not an id: ids are UUIDs, hex digits and dashes; give the whole id, 32 hex digits "
PARTIAL = "not a whole id; give the whole id, 32 hex digits with or without its 4 dashes"
PARTIAL_NL = "geen volledig id; geef het hele id, 32 hexadecimale cijfers met of zonder de 4 "


@pytest.mark.parametrize(("typed", "rule"), [("Jansen", NOT_AN_ID), ("beef1111", PARTIAL)])
async def test_a_message_term_that_is_no_whole_id_is_refused_beside_it(
    engine: Engine, typed: str, rule: str
) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        token = csrf((await ada.get("/audit")).text)
        posted = await ada.post("/audit", data={"csrf": token, "message": typed}, headers=ORIGIN)
        addressed = await ada.get("/audit", params={"message": typed})
    for answer in (posted, addressed):
        assert answer.status_code == 422, answer.text
        refusal = beside(answer.text, "message")
        assert refusal.startswith(rule) and typed not in refusal  # the form keeps it to mend


async def test_the_refusal_is_worded_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang="nl") as ada:
        token = csrf((await ada.get("/audit")).text)
        answer = await ada.post("/audit", data={"csrf": token, "message": "beef"}, headers=ORIGIN)
    assert answer.status_code == 422
    assert beside(answer.text, "message").startswith(PARTIAL_NL)
