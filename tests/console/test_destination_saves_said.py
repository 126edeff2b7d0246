"""What a destination's save says, request by request against a real engine: a save that
changes nothing says so (and the service records nothing: no revision, no audit entry), and a
retired message version is refused together with the form's other mistakes, not only once
they are mended (the file's rules and the version rules in one answer).

The world: ``lab-west`` in CARD (``tests.console.test_refusals``), on 2026-11-30, when
``orm-lfdv1`` is retired (its successor ``orm-v3``).
"""

from __future__ import annotations

import html
import re

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.answered import NOT_FOLLOWED
from tests.console.test_refusals import NEW_DESTINATION, engine, field_errors, field_values
from tests.console.test_saved_searches import ORIGIN, csrf, post, signed_in

__all__ = ["engine"]  # the fixture

RETIRED = {"messages.diagnostic_request": "orm-lfdv1"}


async def _changes_recorded(engine: Engine) -> tuple[int, int]:
    """How many revisions ``lab-west`` has, and how many audit entries are about changing it."""
    revisions = await engine.store.list_destination_revisions("lab-west")
    entries = await engine.store.list_audit(target="lab-west", limit=1000)
    return len(revisions), sum(e.action.startswith("destination.") for e in entries)


async def test_a_save_that_changes_nothing_says_so_and_records_nothing(engine: Engine) -> None:
    before = await _changes_recorded(engine)
    for lang, said in (
        ("en", "Nothing changed: the destination is as it was."),
        ("nl", "Er is niets veranderd: de bestemming is zoals ze was."),
    ):
        email = f"olga.{lang}@example.org"
        async with signed_in(engine, email, Grant(Role.DESTINATIONS), lang=lang) as olga:
            edit = await olga.get("/destinations/lab-west/edit")
            revision = re.search(r'name="revision" value="(\d+)"', edit.text)
            assert revision is not None, edit.text
            form = {
                **field_values(edit.text),
                "csrf": csrf(edit.text),
                "revision": revision.group(1),
                "reason": "checked the address",
            }
            saved = await olga.post(
                "/destinations/lab-west/edit", data=form, headers=ORIGIN, extensions=NOT_FOLLOWED
            )
            assert saved.status_code == 303, saved.text
            assert saved.headers["location"] == "/destinations/lab-west?unchanged=1"
            shown = await olga.get(saved.headers["location"])
        assert said in html.unescape(shown.text)
        assert "Saved as revision" not in shown.text
    assert await _changes_recorded(engine) == before


async def test_a_retired_version_is_refused_with_the_forms_other_mistakes(engine: Engine) -> None:
    grants = (Grant(Role.ADMIN), Grant(Role.DESTINATIONS))
    async with signed_in(engine, "ada@example.org", *grants, lang="nl") as ada:
        added = await post(
            ada, "/destinations-new", {**NEW_DESTINATION, **RETIRED, "port": "twenty"}
        )
        edit = await ada.get("/destinations/lab-west/edit")
        revision = re.search(r'name="revision" value="(\d+)"', edit.text)
        assert revision is not None, edit.text
        edited = await post(
            ada,
            "/destinations/lab-west/edit",
            {
                **field_values(edit.text),
                **RETIRED,
                "revision": revision.group(1),
                "connect_timeout": "soon",
                "reason": "new lab orders",
            },
        )
    retired = (
        "messages.diagnostic_request: berichtversie 'orm-lfdv1' is buiten gebruik; kies de "
        "opvolger 'orm-v3'"
    )
    assert added.status_code == edited.status_code == 422
    assert field_errors(added) == {
        "port": "port: moet een heel getal van 1 tot en met 65535 zijn",
        "messages-diagnostic_request": retired,
    }
    assert field_errors(edited) == {
        "connect_timeout": "connect_timeout: moet een tijdsduur zijn zoals 500ms, 30s, 10m of "
        "24h (een getal zonder eenheid is in seconden)",
        "messages-diagnostic_request": retired,
    }
    assert "lab-oost" not in engine.catalog.destinations
