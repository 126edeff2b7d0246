"""The messages search says every term it refuses at once, each beside its field, so a person
mends them in one go rather than meeting one per submit (an invalid BSN hid an invalid
*Since*, which came only after the BSN was put right)."""

from __future__ import annotations

import re

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_saved_searches import engine, post, signed_in  # noqa: F401


def _errors(text: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error">(.*?)</p>', text))


async def test_every_refused_term_is_said_beside_its_field(engine: Engine) -> None:  # noqa: F811
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        by_address = await sam.get(
            "/messages", params={"zd_number": "ZD12", "since": "yesterday-ish"}
        )
        by_form = await post(
            sam, "/messages/search", {"bsn": "123", "since": "yesterday-ish", "zd_number": "ZD1"}
        )
    assert by_address.status_code == 422, by_address.text
    assert set(_errors(by_address.text)) == {"zd_number", "since"}
    assert by_form.status_code == 422, by_form.text
    assert set(_errors(by_form.text)) == {"bsn", "since", "zd_number"}
    assert "123" not in _errors(by_form.text)["bsn"]  # never the value typed


async def test_the_events_search_too(engine: Engine) -> None:  # noqa: F811
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await sam.get("/events", params={"zd_number": "ZD12", "since": "yesterday-ish"})
    assert shown.status_code == 422, shown.text
    errors = re.findall(r'<p class="field-error" id="e-([a-z_]+)-error">', shown.text)
    assert set(errors) == {"zd_number", "since"}


async def test_a_term_longer_than_its_field_is_refused_beside_it(
    engine: Engine,  # noqa: F811
) -> None:
    """Past the field's maxlength (a script, an old tab, a pasted address): the term's own
    rule beside its field, the other terms kept, not a bare page naming the field's code."""
    long = "ZD" + "1" * 300
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        messages = await sam.get("/messages", params={"zd_number": long, "status": "dead"})
        events = await sam.get("/events", params={"zd_number": long})
    assert messages.status_code == 422, messages.text
    assert set(_errors(messages.text)) == {"zd_number"}
    assert '<option value="dead" selected>' in messages.text  # the other term kept
    assert events.status_code == 422
    assert 'id="e-zd_number-error"' in events.text
