"""The audit search says every term it refuses at once, each beside its field and in the
person's language, as the messages and events searches do: an admin mending *who*, a period
and a message id met them one per submit. Checked by the trail's own rules
(``audit.checked_audit_filter``), each term alone; the value typed is never repeated."""

from __future__ import annotations

import html
import re

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_audit_destination import engine
from tests.console.test_saved_searches import ORIGIN, csrf, signed_in

__all__ = ["engine"]  # the fixture: a started engine with a trail

WRONG = {
    "actor": "anna@example.nl",  # a bare address: the trail names people person:<address>
    "action": "herzonden",  # not an action the engine writes
    "message": "beef1111",  # the start of an id, not a whole one
    "destination": "kliniek-nergens",  # names nothing
    "since": "yesterday-ish",
}


def _errors(page: str) -> dict[str, str]:
    found = re.findall(r'<p class="field-error" id="a-([a-z]+)-error">([^<]*)</p>', page)
    return {name: html.unescape(text) for name, text in found}


async def test_every_refused_term_is_said_at_once_beside_its_field(engine: Engine) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        token = csrf((await ada.get("/audit")).text)
        posted = await ada.post("/audit", data={"csrf": token, **WRONG}, headers=ORIGIN)
        addressed = await ada.get("/audit", params=WRONG)
        by_patient = await ada.post(
            "/audit",
            data={"csrf": token, "bsn": "123", "actor": WRONG["actor"], "until": "later"},
            headers=ORIGIN,
        )
    for answer in (posted, addressed):
        assert answer.status_code == 422, answer.text
        errors = _errors(answer.text)
        assert set(errors) == set(WRONG), errors
        for name, typed in WRONG.items():
            assert typed not in errors[name]
            assert re.search(rf'id="a-{name}"[^>]*aria-invalid="true"', answer.text), name
    assert _errors(posted.text)["message"].startswith("not a whole id")
    assert by_patient.status_code == 422
    assert set(_errors(by_patient.text)) == {"bsn", "actor", "until"}


async def test_they_are_said_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang="nl") as ada:
        token = csrf((await ada.get("/audit")).text)
        answer = await ada.post("/audit", data={"csrf": token, **WRONG}, headers=ORIGIN)
    errors = _errors(answer.text)
    assert set(errors) == set(WRONG)
    assert errors["message"].startswith("geen volledig id")
