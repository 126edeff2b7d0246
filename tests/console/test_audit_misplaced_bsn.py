"""A BSN typed into a free-text term of the audit search (actor, action, target, message,
destination), request by request against a real engine: refused beside that field, in the
person's language, as the message and rejected-input searches refuse it; never redirected to an
address with it, never shown back, never searched or exported. The terms' form posts, so the
browser never puts what was typed into an address either."""

from __future__ import annotations

import html
import re

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_audit_destination import engine
from tests.console.test_language_query import echoes_bsn, return_target
from tests.console.test_saved_searches import ORIGIN, csrf, signed_in

__all__ = ["engine"]  # the fixture: a started engine whose trail names kliniek-oud

BSN = "123 456 782"  # passes the eleven-test, typed as people type it
TERMS = ("actor", "action", "target", "message", "destination")
REFUSAL = "this looks like a BSN: search by BSN instead"
REFUSAL_NL = "dit lijkt op een BSN: zoek in plaats daarvan op BSN"


def beside(page: str, term: str) -> str:
    found = re.search(rf'<p class="field-error" id="a-{term}-error">([^<]*)</p>', page)
    assert found, page
    return html.unescape(found.group(1))


async def recorded(engine: Engine) -> set[str]:
    return {e.action for e in await engine.store.list_audit(limit=1000)}


@pytest.mark.parametrize("term", TERMS)
async def test_a_bsn_in_a_term_is_refused_beside_it_and_never_redirected(
    engine: Engine, term: str
) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        form = await ada.get("/audit")
        # Both of the page's forms post: nothing typed goes into an address by the browser.
        tag = '<form autocomplete="off" class="search" method="post" action="/audit">'
        assert form.text.count(tag) == 2
        typed = {"csrf": csrf(form.text), term: BSN, "action": "destination.remove"}
        posted = await ada.post("/audit", data={**typed, term: BSN}, headers=ORIGIN)
        by_patient = await ada.post(
            "/audit", data={**typed, term: BSN, "bsn": "999999990"}, headers=ORIGIN
        )
        addressed = await ada.get("/audit", params={term: BSN})
    for answer in (posted, by_patient, addressed):
        assert answer.status_code == 422, answer.text  # the form again: no redirect
        assert beside(answer.text, term) == REFUSAL
        assert not echoes_bsn(answer.text) and "999999990" not in answer.text
    # The language switch of the refused address returns to its path alone; a form's answer
    # offers none (``render.language_return``).
    assert return_target(addressed.text) == "/audit"
    assert "patient_data.view" not in await recorded(engine)  # nothing was searched


async def test_the_refusal_is_worded_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang="nl") as ada:
        token = csrf((await ada.get("/audit")).text)
        answer = await ada.post("/audit", data={"csrf": token, "actor": BSN}, headers=ORIGIN)
    assert answer.status_code == 422
    assert beside(answer.text, "actor") == REFUSAL_NL
    assert not echoes_bsn(answer.text)


async def test_the_export_refuses_it_and_records_nothing(engine: Engine) -> None:
    async with signed_in(engine, "rita@example.org", Grant(Role.REPORTS)) as rita:
        refused = await rita.get("/audit.csv", params={"action": BSN})
    assert refused.status_code == 422
    assert f"action: {REFUSAL}" in html.unescape(refused.text)
    assert not echoes_bsn(refused.text)
    assert "audit.export" not in await recorded(engine)


async def test_terms_without_a_bsn_still_search_and_a_message_id_is_no_bsn(
    engine: Engine,
) -> None:
    """A message id is the engine's own (a UUID), not typed patient data, whatever digits its
    last part happens to hold; the other terms search as before, kept and shown by GET of
    their handle, or by GET of an address typed with them."""
    message_id = "0a1b2c3d-4e5f-4a6b-8c7d-123456782000"  # its last part holds a BSN's digits
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        token = csrf((await ada.get("/audit")).text)
        posted = await ada.post(
            "/audit", data={"csrf": token, "action": "destination.remove"}, headers=ORIGIN
        )
        assert posted.status_code == 303
        assert posted.headers["location"].startswith("/audit?search=")
        found = await ada.get(posted.headers["location"])
        assert found.status_code == 200 and "kliniek-oud" in found.text
        by_id = await ada.get("/audit", params={"message": message_id})
        assert by_id.status_code == 200 and 'id="audit-empty"' in by_id.text
