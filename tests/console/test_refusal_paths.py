"""A broken destination's page names the server's paths only to who may change its file.

``zuid.yaml`` saying id ``oost`` is refused (``rename it to /…/oost.yaml``): the rule names
the destination directory. Every reader of the destination sees why it is broken; only who
may change it (the ``destinations`` role) is shown where its files lie, as its file is shown
only to them. A viewer reads the same rule with the file's name, in English and in Dutch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture
def misnamed(live: LiveEngine) -> Iterator[Path]:
    """``zuid`` broken: its file says id ``oost``; put right afterwards."""
    directory = live.engine.settings.destinations_dir
    zuid = directory / "zuid.yaml"
    good = zuid.read_text()
    zuid.write_text(good.replace("id: zuid", "id: oost"))
    catalog = live.call(live.engine.reload_destinations())
    assert catalog.broken["zuid"].problem.code == "file_misnamed"
    try:
        yield directory
    finally:
        zuid.write_text(good)
        live.call(live.engine.reload_destinations())


def test_a_viewer_reads_why_it_is_broken_without_the_servers_path(
    browser: Browser, live: LiveEngine, misnamed: Path
) -> None:
    viewer = live.person("vic@example.org", Grant(Role.VIEWER))
    with signed_in_page(browser, live, viewer) as page:
        page.goto("/destinations/zuid")
        problem = page.locator(".problem").inner_text()
        assert problem.startswith("The file is refused: id: 'oost' does not match the file name")
        assert problem.endswith("(rename it to oost.yaml)")
        assert str(misnamed) not in page.content()
        screenshot(page, "destination-broken-viewer")

    kijker = live.person("kees@example.org", Grant(Role.VIEWER))  # a code is used once
    with signed_in_page(browser, live, kijker, "nl") as page:
        page.goto("/destinations/zuid")
        problem = page.locator(".problem").inner_text()
        assert "'oost' past niet bij de bestandsnaam" in problem
        assert problem.endswith("(hernoem het naar oost.yaml)")
        assert str(misnamed) not in page.content()


def test_who_may_change_it_is_shown_the_path_as_before(
    browser: Browser, live: LiveEngine, misnamed: Path
) -> None:
    operator = live.person("otto@example.org", Grant(Role.DESTINATIONS))
    with signed_in_page(browser, live, operator) as page:
        page.goto("/destinations/zuid")
        problem = page.locator(".problem").inner_text()
        assert problem.endswith(f"(rename it to {misnamed / 'oost.yaml'})")
        assert str(misnamed / "zuid.yaml") in page.locator(".facts").inner_text()
        screenshot(page, "destination-broken-operator")
