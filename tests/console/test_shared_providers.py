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
