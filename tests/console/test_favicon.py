"""The site's icon: every browser asks for ``/favicon.ico`` at each page load, whatever a page
links, and a 404 there put a line in every log. It is one of the console's static files,
served without a session (it holds nothing) and kept by the browser as they are, and the pages
link it."""

from __future__ import annotations

from pathlib import Path

from integrator.console.app import STATIC
from tests.console.started import started_engine
from tests.console.test_saved_searches import START
from tests.console.test_session import client


async def test_the_icon_is_served_to_anyone_and_linked_by_the_pages(tmp_path: Path) -> None:
    async with started_engine(tmp_path, START) as engine, client(engine) as browser:
        icon = await browser.get("/favicon.ico")
        head = await browser.head("/favicon.ico")
        login = await browser.get("/login")
    assert icon.status_code == head.status_code == 200, icon.text
    assert icon.content == (STATIC / "favicon.ico").read_bytes()
    assert icon.content.startswith(b"\x00\x00\x01\x00")  # an ICO file
    assert icon.headers["content-type"] == "image/vnd.microsoft.icon"
    assert icon.headers["cache-control"] == "public, max-age=3600"
    assert icon.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in icon.headers  # no session, nor a pre-session, for it
    assert '<link rel="icon" href="/favicon.ico">' in login.text
