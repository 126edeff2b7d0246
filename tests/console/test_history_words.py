"""A destination's history says its actions and its diff header in the person's language: the
store keeps them in English (``integrator.history_actions``) for the CLI and the API, and the
Dutch page showed "· rollback to 15", "· pause" and "--- before" as they were stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from integrator import history_actions
from integrator.access import Grant, Role
from integrator.console.history_text import action_text, actor_text, diff_line
from integrator.console.i18n import CATALOGUES, Translator
from tests.console.conftest import open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.mark.parametrize("kind", history_actions.ACTIONS)
def test_every_action_a_revision_records_has_words_in_both_languages(kind: str) -> None:
    for catalogue in CATALOGUES.values():
        assert f"history.action.{kind}" in catalogue, kind


def test_a_rollback_names_its_revision_and_an_unknown_action_shows_as_stored() -> None:
    nl = Translator("nl")
    assert action_text(nl, history_actions.rollback_to(15)) == "teruggezet naar revisie 15"
    assert action_text(nl, history_actions.PAUSE) == "gepauzeerd"
    assert action_text(nl, "merge") == "merge"  # a later version's action: kept, not lost
    assert actor_text(nl, history_actions.FILE_ACTOR) == "het bestand"
    assert actor_text(nl, "person:anna@example.org") == "person:anna@example.org"
    assert diff_line(nl, "--- before") == "--- ervoor"
    assert diff_line(nl, "+++ after") == "+++ erna"
    assert diff_line(nl, " name: before") == " name: before"


def test_the_dutch_history_page_says_every_action_in_dutch(page: Page, live: LiveEngine) -> None:
    operator = live.person("olga.history@example.org", Grant(Role.DESTINATIONS, "CARD"))
    actor = f"person:{operator.email}"
    admin = live.engine.admin
    # Revision 1 is the file as the engine found it (a hand edit, actor ``file``).
    live.call(admin.update("noord", ["name=Noord 2"], actor=actor, reason="nieuwe naam"))
    live.call(admin.set_enabled("noord", False, actor=actor, reason="onderhoud"))
    live.call(admin.set_enabled("noord", True, actor=actor, reason="klaar"))
    live.call(admin.rollback("noord", 1, actor=actor, reason="terug"))

    open_session(page, live, operator)
    page.context.add_cookies([{"name": "integrator-lang", "value": "nl", "url": live.url}])
    page.goto("/destinations/noord/history")
    page.get_by_role("heading", name="Geschiedenis van noord").wait_for()
    headings = page.locator("ol.timeline h2 .cluster").all_inner_texts()
    said = [text.rsplit(" · ", 1)[1] for text in headings]
    assert said == [
        "teruggezet naar revisie 1",
        "hervat",
        "gepauzeerd",
        "gewijzigd",
        "bestand met de hand gewijzigd",
    ]
    assert headings[-1].split(" · ")[1] == "het bestand"
    english = ("rollback", "pause", "resume", "update", "file")
    assert not [t for t in headings for word in english if word in t], headings
    diffs = page.locator("pre.diff").all_inner_texts()
    assert diffs and all(d.startswith("--- ervoor\n+++ erna\n") for d in diffs), diffs
    assert not [d for d in diffs if "--- before" in d or "+++ after" in d]
    screenshot(page, "destination-history-nl")
