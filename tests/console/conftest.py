"""One live engine per test module, one browser per test process; every page checked, and
kept as a screenshot when asked.

Browser tests need Debian's Chromium (``/usr/bin/chromium-headless-shell`` where installed, else
``/usr/bin/chromium``; ``TEST_CHROMIUM`` names another) and the ``playwright`` package: without
them they skip with the reason, and fail under ``CI=true``.
Screenshots are written only when ``CONSOLE_ARTIFACTS`` names a directory (a full-page PNG
costs a few tenths of a second, and a run makes over a hundred that nobody looks at).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

from integrator.console.session import SESSION_COOKIE
from tests.console.live import LiveEngine, Person
from tests.loop_mark import asyncio_loop_mark, loop_marked, set_asyncio_loop_mark
from tests.services import require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ARTIFACTS = Path(os.environ["CONSOLE_ARTIFACTS"]) if os.environ.get("CONSOLE_ARTIFACTS") else None


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEngine]:
    engine = LiveEngine(tmp_path_factory.mktemp("console"))
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


class Chromium(NamedTuple):
    """The test process's browser, and the event loop its sync API runs in."""

    browser: Browser
    loop: asyncio.AbstractEventLoop | None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """One Chromium per test process, launched when a test first needs it.

    Launching Playwright's driver and the browser costs about 0.8 s of CPU, once per console
    module before; a module's own profiles are closed by ``browser`` when it ends. The sync
    API leaves its event loop marked as running in this thread between calls, which would stop
    every later ``asyncio.run`` here: ``tests/conftest.py`` lifts the mark for the tests that
    do not use the browser (``tests/loop_mark.py``).
    """
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        loop = asyncio_loop_mark()
        try:
            yield Chromium(launched, loop)
        finally:
            # The last test may be one that ran with the mark lifted.
            set_asyncio_loop_mark(loop)
            launched.close()


@pytest.fixture(scope="module")
def browser(chromium: Chromium) -> Iterator[Browser]:
    """The process's Chromium for one module; the profiles (contexts) the module left open
    are closed when it ends, so none outlives the engine it was signed in to."""
    try:
        yield chromium.browser
    finally:
        with loop_marked(chromium.loop):
            for context in chromium.browser.contexts:
                context.close()


def new_context(browser: Browser, live: LiveEngine, lang: str = "en") -> BrowserContext:
    """A fresh browser profile (its own cookies) with the console's language chosen; it takes
    the test engine's self-signed certificate."""
    context = browser.new_context(
        base_url=live.url,
        locale="en-GB" if lang == "en" else "nl-NL",
        ignore_https_errors=live.tls is not None,
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def context(browser: Browser, live: LiveEngine) -> Iterator[BrowserContext]:
    """A fresh browser context of its own for one test (pages of its own, signed out)."""
    opened = new_context(browser, live)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page of its own browser context (``context``), signed out, in English."""
    return context.new_page()


def person_id(live: LiveEngine, email: str) -> str:
    """The store's id of the person with ``email``: what the people pages' addresses hold."""
    person = live.call(live.engine.store.get_person(email=email))
    assert person is not None
    return person.id


def sign_in(page: Page, person: Person, *, code: str | None = None) -> None:
    """Sign in through the console's form, with the code the authenticator shows now.

    For the tests about signing in (the form, its language, ``next``, second factor, lock-out,
    the session it makes); the others use :func:`open_session`, which skips the two page loads
    this costs (about half a second, some ninety times a run)."""
    page.goto("/login")
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_label("Code from your authenticator app").fill(code or person.code())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def sign_in_nl(page: Page, person: Person) -> None:
    """Sign in on the Dutch login page, by keyboard as the dashboard test does.

    Typing starts once the e-mail field has the focus its ``autofocus`` gives it: keys
    typed before would go nowhere and leave the test on the login page, a failure that would
    say nothing about the console."""
    page.goto("/login")
    page.locator("#email:focus").wait_for()
    page.keyboard.type(person.email)
    page.keyboard.press("Tab")
    page.keyboard.type(person.password)
    page.keyboard.press("Tab")
    page.keyboard.type(person.code())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def open_session(page: Page, live: LiveEngine, person: Person) -> None:
    """Sign ``page``'s profile in as ``person`` without the form: the session the form would
    make (``LiveEngine.login``, the same service call), in the cookie the console would set.

    Why both this and :func:`sign_in`: most browser tests are about what a signed-in person
    sees and does, and the form costs two page loads each time; the tests about signing in
    keep the form. ``test_sign_in`` checks that the two give the same cookie, audit entry
    and pages. The page stays where it was (no dashboard after it): go where the test looks.
    The language is the profile's (its locale, or a language cookie the test sets), as after
    the form, which sets none.
    """
    session = live.login(person)
    lifetime = session.expires_at - live.engine.clock.now()
    page.context.add_cookies(
        [
            {
                # As ``console.session.set_session_cookie`` sets it: over TLS the browser takes
                # a ``__Host-`` cookie only Secure, host-only (a url, no domain) and on Path=/.
                "name": f"{'__Host-' if live.tls else ''}{SESSION_COOKIE}",
                "value": session.session,
                "url": live.url + "/",
                "expires": time.time() + int(lifetime.total_seconds()),
                "httpOnly": True,
                "secure": live.tls is not None,
                "sameSite": "Strict",
            }
        ]
    )


@contextmanager
def signed_in_page(
    browser: Browser,
    live: LiveEngine,
    person: Person,
    lang: str = "en",
    *,
    via_form: bool = False,
) -> Iterator[Page]:
    """A page of a fresh profile signed in as ``person`` in ``lang``; the profile is closed
    after, whatever the test found. ``via_form``: through the login form in ``lang``, landing
    on the dashboard (for a test about that); else by :func:`open_session`, on a blank page."""
    context = new_context(browser, live, lang)
    try:
        page = context.new_page()
        if via_form:
            (sign_in if lang == "en" else sign_in_nl)(page, person)
        else:
            open_session(page, live, person)
        yield page
    finally:
        context.close()


_UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]):not([hidden]), select, textarea'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id || e.outerHTML)"""


def screenshot(page: Page, name: str) -> None:
    """Check what every page must be: each input has a label, nothing was loaded from
    elsewhere, and the browser reported no error (a Content-Security-Policy violation is one);
    then save the page as ``name``.png in ``CONSOLE_ARTIFACTS``, when that is set."""
    assert page.evaluate(_UNLABELLED) == [], name
    own = page.url.split("/", 3)[:3]
    loaded = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert [url for url in loaded if url.split("/", 3)[:3] != own] == [], name
    errors = [m.text for m in page.console_messages() if m.type == "error"]
    # A refusal the page shows on purpose (403, 404, 422 for a form's errors) is not a fault.
    assert [e for e in errors if "the server responded with a status of 4" not in e] == [], name
    if ARTIFACTS is not None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
