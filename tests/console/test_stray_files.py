"""The destinations page names the refused files that are no destination's own, in a browser.

``lab-west.yml`` (not ``<id>.yaml``) changes nothing in service and is in no destination's
row: an operator working in the console must still learn their file was ignored, and why, in
their language. A file claiming the id of a destination in service is shown only to who may
see that destination; the server's path is shown to nobody here.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.integrator.support import destination

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture
def strays(live: LiveEngine) -> Iterator[Path]:
    """Three refused files beside noord.yaml and zuid.yaml: misnamed, a copy of noord, and
    a directory named like a file."""
    directory = live.engine.settings.destinations_dir
    lab_west = destination("lab-west", 2600, providers=["lab-west"], cluster="LAB")
    (directory / "lab-west.yml").write_text(dump_destination(lab_west))
    (directory / "noord-copy.yml").write_text((directory / "noord.yaml").read_text())
    (directory / "old.yml").mkdir()
    live.call(live.engine.reload_destinations())
    try:
        yield directory
    finally:
        (directory / "lab-west.yml").unlink()
        (directory / "noord-copy.yml").unlink()
        shutil.rmtree(directory / "old.yml")
        live.call(live.engine.reload_destinations())


def test_stray_files_are_listed_with_their_rules_in_english_and_dutch(
    browser: Browser, live: LiveEngine, strays: Path
) -> None:
    reader = live.person("rita@example.org", Grant(Role.VIEWER))
    with signed_in_page(browser, live, reader) as page:
        page.goto("/destinations")
        notice = page.locator(".stray-files")
        notice.wait_for(state="visible")
        text = notice.inner_text()
        assert "Refused, not in service" in text
        assert "lab-west.yml\nid: 'lab-west' does not match the file name" in text
        assert "(rename it to lab-west.yaml)" in text
        assert "noord-copy.yml\nid: 'noord' is the destination of noord.yaml" in text
        assert "old.yml\n(file): is a directory, not a file" in text
        assert str(strays) not in page.content()  # the server's path: not for every reader
        screenshot(page, "destinations-stray-files")

    lezer = live.person("lies@example.org", Grant(Role.VIEWER))  # a code is used once: another
    with signed_in_page(browser, live, lezer, "nl") as page:
        page.goto("/destinations")
        text = page.locator(".stray-files").inner_text()
        assert "Geweigerd, niet in gebruik" in text
        assert "id: 'lab-west' past niet bij de bestandsnaam" in text
        assert "(hernoem het naar lab-west.yaml)" in text
        assert "old.yml\n(file): is een map, geen bestand" in text
        screenshot(page, "destinations-stray-files-nl")


def test_a_stray_file_claiming_a_destination_is_shown_to_who_may_see_it(
    browser: Browser, live: LiveEngine, strays: Path
) -> None:
    lab = live.person("lars@example.org", Grant(Role.VIEWER, "LAB"))
    with signed_in_page(browser, live, lab) as page:
        page.goto("/destinations")
        text = page.locator(".stray-files").inner_text()
        assert "lab-west.yml" in text and "old.yml" in text
        assert "noord" not in text  # a copy of CARD's noord, named for CARD's readers only
