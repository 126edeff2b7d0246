"""Nothing typed into the console's forms is kept in the browser's form history.

A name, a birth date or a BSN typed by mistake into a free-text search field (a ZD number, a
target, a period) is refused by the console without repeating it; but Chromium had already
saved the value in the profile's form history and offered it in that field later, to whoever
used that profile next. Every console form but the sign-in and invitation forms (whose fields
a password manager should fill) says ``autocomplete="off"``.

Checked in a real Chromium profile on disk: its ``Web Data`` database, where Chromium keeps
what it saved, after the profile is closed. The full browser, as people run it: the headless
shell the other console tests use keeps no form history. A form of the test's own, without
the attribute, is the control that the browser does save one here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from tests.console.conftest import open_session
from tests.console.live import LiveEngine
from tests.services import FULL_CHROMIUM, require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

TYPED = "Zzmarkerfamily 1961-04-12"
FIELDS = [
    # (page, a free-text field of its search form)
    ("/messages", "#zd_number"),
    ("/events", "#e-zd_number"),
    ("/rejected", "#r-zd_number"),
    ("/audit", "#a-target"),
    ("/audit", "#a-actor"),
    ("/deadletters", "#d-since"),
]
CONTROL = """<!doctype html><title>control</title>
<form method="post" action="/control-kept"><label>c <input name="control"></label>
<button type="submit">go</button></form>"""


def _control(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html", body=CONTROL)


def _submit(page: Page, field: str, value: str) -> None:
    page.locator(field).fill(value)
    with page.expect_navigation():
        page.locator(f"form:has({field}) button[type=submit]").first.click()


def test_nothing_typed_into_a_console_form_is_kept_in_the_browser(
    browser: Browser, live: LiveEngine, tmp_path: Path
) -> None:
    person = live.person("fern.history@example.org", Grant(Role.RESEND), Grant(Role.ADMIN))
    profile = tmp_path / "profile"
    context = browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=require_chromium(FULL_CHROMIUM),
        args=["--no-sandbox"],
        base_url=live.url,
        ignore_https_errors=live.tls is not None,
    )
    try:
        context.set_default_timeout(15_000)
        page = context.new_page()
        open_session(page, live, person)
        for path, field in FIELDS:
            page.goto(path)
            _submit(page, field, TYPED)
        page.route("**/control-*", _control)
        page.goto("/control-form")
        _submit(page, "input[name=control]", "kept-as-control")
    finally:
        context.close()
    with sqlite3.connect(profile / "Default" / "Web Data") as saved:
        kept = saved.execute("SELECT name, value FROM autofill").fetchall()
    assert ("control", "kept-as-control") in kept  # the browser keeps form history here
    assert [row for row in kept if row[0] != "control"] == []
