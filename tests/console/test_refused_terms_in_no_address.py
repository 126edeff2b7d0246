"""A search form posted with a term its listing refuses (a name or a birth date typed into the
ZD number, the period, who), request by request against a real engine: the form is answered
again in place (422), the refusal beside the field, in English and Dutch, and the value is in
no redirect, no header, no refusal. Each form checked with its listing's own rules: it once
checked only for a BSN, and redirected anything else into the address (and so into the
browser's history, a proxy's log and the language switch's ``next``), where the listing's GET
then refused it. A search whose terms the rules take is kept and shown under its handle
(``test_typed_terms_in_no_address``)."""

from __future__ import annotations

import html
import re
from typing import NamedTuple

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_saved_searches import engine, post, signed_in

__all__ = ["engine"]  # the fixture: a started engine with messages for ziekenhuis-noord


class Refused(NamedTuple):
    path: str  # the form's action
    field: str
    value: str  # patient data, typed into the wrong field
    prefix: str  # of the ids of its fields' refusals: ``<prefix><field>-error``
    rule: str  # how the refusal starts, in English
    rule_nl: str  # and in Dutch


ZD_RULE = ("a ZD number is ZD and 9 digits", "een ZD-nummer is ZD en 9 cijfers")
MOMENT_RULE = ("not an ISO date or date-time", "geen geldige datum of datum-tijd")
ACTOR_RULE = ("give person:<email>", "geef person:<e-mailadres>")

CASES = {
    "messages": Refused(
        "/messages/search", "zd_number", "Jan van der Berg 12-04-1961", "", *ZD_RULE
    ),
    "messages-period": Refused(
        "/messages/search", "since", "12-04-1961 Jan van der Berg", "", *MOMENT_RULE
    ),
    "events": Refused(
        "/events/search", "zd_number", "van der Berg, Jan 1961-04-12", "e-", *ZD_RULE
    ),
    "rejected": Refused("/rejected/search", "zd_number", "Fatima El Amrani", "r-", *ZD_RULE),
    "audit": Refused("/audit", "actor", "Jan van der Berg geb. 12-04-1961", "a-", *ACTOR_RULE),
    "audit-period": Refused(
        "/audit", "since", "Jan van der Berg geb. 12-04-1961", "a-", *MOMENT_RULE
    ),
    "deadletters": Refused(
        "/deadletters/search", "since", "12-04-1961 Jan van der Berg", "d-", *MOMENT_RULE
    ),
}
OTHER_TERMS = {
    "/messages/search": {"status": "queued"},
    "/events/search": {"event_type": "referral"},
    "/rejected/search": {"source": "http"},
    "/audit": {"action": "destination.remove"},
    "/deadletters/search": {"destination": "ziekenhuis-noord"},
}
"""A good term beside the refused one: it does not carry the refused one into an address."""


def spellings(value: str) -> list[str]:
    """``value`` as it could stand in a header or a page: as typed, form-encoded, quoted."""
    return [value, value.replace(" ", "+"), value.replace(" ", "%20"), value.split()[-1]]


def beside(text: str, case: Refused) -> str:
    found = re.search(
        rf'<p class="field-error" id="{case.prefix}{case.field}-error">([^<]*)</p>', text
    )
    assert found, text
    return html.unescape(found.group(1))


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("name", list(CASES))
async def test_a_refused_term_is_answered_in_place_and_goes_in_no_address(
    engine: Engine, name: str, lang: str
) -> None:
    case = CASES[name]
    grants = (Grant(Role.RESEND), Grant(Role.ADMIN))
    async with signed_in(engine, f"sam.{lang}@example.org", *grants, lang=lang) as sam:
        answer = await post(sam, case.path, {**OTHER_TERMS[case.path], case.field: case.value})
    assert answer.status_code == 422, (answer.status_code, answer.headers)
    assert "location" not in answer.headers
    for header, content in answer.headers.items():
        assert not [s for s in spellings(case.value) if s in content], header
    said = beside(answer.text, case)
    assert said.startswith(case.rule if lang == "en" else case.rule_nl), said
    assert not [s for s in spellings(case.value) if s in said]  # the rule, never the value
    # The field is marked as the one refused, and the page offers no language switch (whose
    # ``next`` would carry the page's address): it answers a form.
    assert f'aria-describedby="{case.prefix}{case.field}-error"' in answer.text
    assert 'name="next"' not in answer.text


@pytest.mark.parametrize("path", list(OTHER_TERMS))
async def test_terms_the_rules_take_go_to_the_listing_by_handle(engine: Engine, path: str) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), Grant(Role.ADMIN)) as sam:
        answer = await post(sam, path, OTHER_TERMS[path])
    assert answer.status_code == 303, answer.text
    listing = "/audit" if path == "/audit" else path.removesuffix("/search")
    assert answer.headers["location"].startswith(f"{listing}?search=")
