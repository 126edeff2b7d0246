"""A NUL character (U+0000) in a console page's address or form is refused on a page naming the
field and the rule, on PostgreSQL too (whose text holds none: the store failed and the person
got the "something went wrong" page, with an ERROR log line per request). Nothing is stored,
and the value is not echoed."""

from __future__ import annotations

from pathlib import Path

from integrator.access import Grant, Role
from tests.console.test_saved_searches import post, signed_in
from tests.http.support import postgresql_engine

RULE = "must not contain the NUL character (U+0000)"


async def test_a_nul_is_refused_beside_its_field_on_postgresql(tmp_path: Path) -> None:
    async with postgresql_engine(tmp_path) as engine:
        everything = [Grant(role) for role in (Role.RESEND, Role.REPORTS, Role.ADMIN)]
        async with signed_in(engine, "ann@example.org", *everything) as ann:
            addresses = [
                await ann.get("/messages", params={"control_id": "a\x00b"}),
                await ann.get("/events", params={"provider": "a\x00b"}),
                await ann.get("/audit", params={"actor": "a\x00b"}),
                await ann.get("/rejected", params={"provider": "a\x00b"}),
            ]
            forms = [
                await post(ann, "/messages/search", {"zd_number": "ZD\x001"}),
                await post(
                    ann,
                    "/people/invite",
                    {"email": "x@example.org", "name": "a\x00b", "role": "viewer"},
                ),
            ]
            people = await ann.get("/people")
    for answer, field in zip(
        addresses + forms,
        ["control_id", "provider", "actor", "provider", "zd_number", "name"],
        strict=True,
    ):
        assert answer.status_code == 422, answer.text
        assert f"{field}: {RULE}" in answer.text
        assert "a\x00b" not in answer.text and "ZD\x001" not in answer.text
    assert "x@example.org" not in people.text  # nobody was invited
