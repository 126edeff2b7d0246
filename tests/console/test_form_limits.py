"""The admin forms' ``maxlength`` is the service's own limit (``integrator.console.form_limits``,
``integrator.access.limits``), field by field, on the pages as an admin gets them.

A field that takes more than the service lets a person type what is then refused (the
invitation's name once took 320 characters against the service's 200); these tests read every
``maxlength`` of the admin pages and compare it with the limit the service refuses beyond.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from integrator.access import Grant, Role
from integrator.access.errors import BadAccessInput
from integrator.access.limits import (
    MAX_CLUSTER_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REASON,
    MAX_TOKEN_DAYS,
    MAX_TOKEN_NAME_LENGTH,
)
from integrator.access.settings import AccessSettings
from integrator.console.refusals import said, say
from integrator.engine import Engine
from tests.console.test_answer_permission import engine
from tests.console.test_saved_searches import signed_in
from tests.http.support import MAKER

__all__ = ["engine"]  # the fixture: destinations in clusters CARD and LAB

_INPUT = re.compile(r"<input\b[^>]*>")


def _limits(html: str) -> dict[str, set[int]]:
    """Per field name, the ``maxlength`` values its inputs on the page carry."""
    found: dict[str, set[int]] = {}
    for tag in _INPUT.findall(html):
        most = re.search(r'\bmaxlength="([^"]*)"', tag)
        name = re.search(r'\bname="([^"]*)"', tag)
        if most is not None and name is not None:
            found.setdefault(name.group(1), set()).add(int(most.group(1)))
    return found


async def test_every_admin_fields_maxlength_is_its_services_limit(engine: Engine) -> None:
    async with signed_in(engine, "ann@example.org", Grant(Role.ADMIN)) as ann:
        bob = await engine.access.invite(MAKER, "bob@example.org", [Grant(Role.VIEWER, "CARD")])
        person = f"/people/{bob.person_id}"
        people = (await ann.get("/people")).text
        pages = {
            "/people": ({"email": MAX_EMAIL_LENGTH, "name": MAX_NAME_LENGTH}, people),
            "/tokens": ({"name": MAX_TOKEN_NAME_LENGTH}, (await ann.get("/tokens")).text),
            person: ({}, (await ann.get(person)).text),
            f"{person}/deactivate": ({}, (await ann.get(f"{person}/deactivate")).text),
            f"{person}/second-factor/reset": (
                {},
                (await ann.get(f"{person}/second-factor/reset")).text,
            ),
        }
        for path, (own, html) in pages.items():
            wanted = {"cluster": MAX_CLUSTER_LENGTH, "reason": MAX_REASON, **own}
            found = _limits(html)
            assert found, path
            for name, most in found.items():
                assert most == {wanted[name]}, (path, name, most)
        # The fields with a limit of their own are there, each bounded.
        assert {"email", "name", "cluster"} <= _limits(people).keys()
        assert {"name", "cluster", "reason"} <= _limits(pages["/tokens"][1]).keys()
        # A token's days: the most the service lets a token be valid for, no more, no less.
        [days] = [tag for tag in _INPUT.findall(pages["/tokens"][1]) if 'name="days"' in tag]
        days_max = re.search(r'\bmax="(\d+)"', days)
        assert days_max is not None and int(days_max.group(1)) == MAX_TOKEN_DAYS, days
        assert AccessSettings().token_max_validity == timedelta(days=MAX_TOKEN_DAYS)


async def _refused_field(engine: Engine, email: str, name: str | None = None) -> str:
    with pytest.raises(BadAccessInput) as refused:
        await engine.access.invite(MAKER, email, [Grant(Role.VIEWER)], name=name)
    return str(refused.value.field)


async def test_the_service_takes_exactly_the_invitations_limits(engine: Engine) -> None:
    """One character more is refused, naming the field; the limit itself is taken."""
    assert await _refused_field(engine, "bo@example.org", "b" * (MAX_NAME_LENGTH + 1)) == "name"
    address = "a" * (MAX_EMAIL_LENGTH - len("@example.org")) + "@example.org"
    assert await _refused_field(engine, "a" + address, "a") == "email"
    assert await engine.access.invite(
        MAKER, "bo@example.org", [Grant(Role.VIEWER)], name="b" * MAX_NAME_LENGTH
    )
    assert await engine.access.invite(MAKER, address, [Grant(Role.VIEWER)], name="a")


async def test_the_service_takes_exactly_the_token_names_limit(engine: Engine) -> None:
    viewer = [Grant(Role.VIEWER)]
    with pytest.raises(BadAccessInput) as refused:
        await engine.access.create_token(MAKER, "t" * (MAX_TOKEN_NAME_LENGTH + 1), viewer)
    assert refused.value.field == "token_name"
    # The rule says the limit itself, in either language (no number written in a sentence).
    assert say("nl", said(refused.value, field=False)).startswith(f"1 tot {MAX_TOKEN_NAME_LENGTH} ")
    assert str(refused.value).startswith(f"NAME: 1 to {MAX_TOKEN_NAME_LENGTH} ")
    assert await engine.access.create_token(MAKER, "t" * MAX_TOKEN_NAME_LENGTH, viewer)
