"""The console served over HTTPS, as the engine serves it with a certificate: the session cookie
is then Secure and bound to the host (``__Host-``), and signing in works end to end."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import new_context, open_session, screenshot, sign_in
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEngine]:
    directory = tmp_path_factory.mktemp("console-https")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "console.key", "-out", "console.pem", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        cwd=directory,
        check=True,
        capture_output=True,
    )  # fmt: skip
    engine = LiveEngine(directory, tls=(directory / "console.pem", directory / "console.key"))
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


def test_over_https_the_session_cookie_is_secure_and_host_bound(
    browser: Browser, live: LiveEngine
) -> None:
    assert live.url.startswith("https://")
    context = new_context(browser, live)
    try:
        page = context.new_page()
        sign_in(page, live.person("hanna@example.org", Grant(Role.VIEWER)))
        assert page.get_by_role("heading", name="Dashboard").is_visible()
        [session] = [c for c in context.cookies() if "integrator-session" in c["name"]]
        assert session["name"] == "__Host-integrator-session"
        assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
        [device] = [c for c in context.cookies() if "integrator-device" in c["name"]]
        assert device["name"] == "__Host-integrator-device" and device["path"] == "/"
        assert device["secure"] and device["httpOnly"] and device["sameSite"] == "Strict"
        page.get_by_role("link", name="Messages").click()
        page.get_by_role("heading", name="Messages").wait_for()
        screenshot(page, "https-messages")
    finally:
        context.close()


def test_over_https_the_fast_sign_in_sets_the_cookie_the_form_sets(
    browser: Browser, live: LiveEngine
) -> None:
    """``open_session`` (the browser tests' sign-in without the form) over TLS: the browser
    takes its ``__Host-`` cookie only Secure, host-only and on Path=/, as the form's."""
    context = new_context(browser, live)
    try:
        page = context.new_page()
        open_session(page, live, live.person("henk@example.org", Grant(Role.VIEWER)))
        [session] = [c for c in context.cookies() if "integrator-session" in c["name"]]
        assert session["name"] == "__Host-integrator-session" and session["path"] == "/"
        assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
        page.goto("/messages")
        assert page.get_by_role("heading", name="Messages").is_visible()
        page.get_by_role("button", name="Sign out").click()  # a form: its CSRF token holds
        page.wait_for_url(re.compile(r"/login"))
    finally:
        context.close()
