"""The console's destination page, where a save lands, warns in the person's language of a
provider another destination serves too (the CLI and the API carry it with the change)."""

from __future__ import annotations

import html
import re

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_refusals import engine
from tests.console.test_saved_searches import signed_in

__all__ = ["engine"]  # the fixture, used here as there


async def test_a_copy_that_serves_the_same_provider_is_shown_with_a_dutch_warning(
    engine: Engine,
) -> None:
    config, _ = await engine.admin.get("lab-west")
    copy = config.model_copy(update={"id": "lab-west-kopie"}).model_dump(mode="json")
    change = await engine.admin.add(copy, actor="local:root")
    assert any("also served by 'lab-west'" in w for w in change.warnings)
    async with signed_in(engine, "ada@example.org", Grant(Role.DESTINATIONS), lang="nl") as ada:
        shown = await ada.get("/destinations/lab-west-kopie")
    assert shown.status_code == 200, shown.text
    notices = [html.unescape(n) for n in re.findall(r'<p class="notice">(.*?)</p>', shown.text)]
    assert (
        "zorgaanbieder lab-west wordt ook bediend door lab-west: elke gebeurtenis van die "
        "zorgaanbieder gaat naar allemaal (is lab-west-kopie een kopie, wijzig dan de "
        "zorgaanbieders)"
    ) in notices, notices


async def test_a_save_s_warning_is_worded_with_its_list_joined_and_said_once(
    engine: Engine,
) -> None:
    """The warnings a save gives are kept for the page after its redirect: a list among their
    values was kept as Python's text (``['lab-west']``), and the page said the warning twice,
    once from the save and once as its own notice."""
    from integrator.console.notice_text import word
    from integrator.console.pages.destinations import kept_warning, shown_warnings

    config, _ = await engine.admin.get("lab-west")
    copy = config.model_copy(update={"id": "lab-west-kopie"}).model_dump(mode="json")
    change = await engine.admin.add(copy, actor="local:root")
    kept = {"destination": "lab-west-kopie", "warnings": [kept_warning(w) for w in change.warnings]}
    [shown] = [
        w for w in shown_warnings(kept, "lab-west-kopie") if "lab-west" in str(word("nl", w))
    ]
    dutch = word("nl", shown)
    assert "zorgaanbieder lab-west wordt ook bediend door lab-west:" in dutch, dutch
    assert "[" not in dutch and "'" not in dutch
    besides = {str(w) for w in change.warnings}
    assert shown_warnings(kept, "lab-west-kopie", besides=besides) == []
