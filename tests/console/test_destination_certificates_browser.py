"""A destination's page says when its certificate files expire, in a real browser: each file's
expiry among the facts, and a warning (as the page's other notices) for one within the alert's
14 days, in English and in Dutch. The scrape's gauge, its alert and ``destinations show`` said
it, the page did not: who looked there learnt of an expired client certificate only when every
delivery failed."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.console.render import local_time
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine
from tests.destinations.certificate_files import CA_DAYS, not_after, tls_files
from tests.integrator.support import destination

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


@pytest.fixture(scope="module")
def west(live: LiveEngine) -> dict[str, str]:
    """A destination ``west`` in CARD over TLS: its client certificate expires within a day
    (a warning), its CA in ``CA_DAYS`` (none). Its ``tls`` settings."""
    tls = tls_files(live.engine.settings.tls_directory / "CARD")  # where a change may name them
    config = destination("west", 2599, providers=["lab-west"], tls=tls)
    live.call(live.engine.admin.add(dump_destination(config), actor="local:test"))
    return tls


def _shown(live: LiveEngine, path: str) -> str:
    return local_time(not_after(path), live.engine.settings.zone)


def test_a_destination_s_page_says_when_its_certificates_expire(
    browser: Browser, live: LiveEngine, west: dict[str, str]
) -> None:
    viewer = live.person("vera@example.org", Grant(Role.VIEWER, "CARD"))
    client, ca = _shown(live, west["cert_file"]), _shown(live, west["ca_file"])
    with signed_in_page(browser, live, viewer) as page:
        page.goto("/destinations/west")
        warning = page.locator("#cert-soon-cert_file")
        assert warning.inner_text() == (
            f"Client certificate (tls.cert_file) expires {client}, in 0 days. Renew it in "
            "place, under the same path: the engine uses the new file from its next "
            "connection, no restart needed. Once it has expired, every delivery to this "
            "destination fails."
        )
        assert warning.get_attribute("class") == "notice"  # as the version notices
        assert page.locator("#cert-soon-ca_file").count() == 0  # a month left: no warning
        facts = page.locator("dl.facts")
        assert facts.locator("#dest-expires-cert_file").inner_text() == (
            f"expires {client} (in 0 days)"
        )
        assert facts.locator("#dest-expires-ca_file").inner_text() == (
            f"expires {ca} (in {CA_DAYS - 1} days)"
        )
        assert "CA certificates (tls.ca_file)" in facts.inner_text()
        screenshot(page, "destination-certificates")

        page.goto("/destinations/noord")  # no TLS: nothing said of certificates
        assert page.locator("[id^='cert-soon-'], [id^='dest-expires-']").count() == 0


def test_a_destination_s_page_says_it_in_dutch(
    browser: Browser, live: LiveEngine, west: dict[str, str]
) -> None:
    viewer = live.person("wim@example.org", Grant(Role.VIEWER, "CARD"))
    client, ca = _shown(live, west["cert_file"]), _shown(live, west["ca_file"])
    with signed_in_page(browser, live, viewer, "nl") as page:
        page.goto("/destinations/west")
        warning = page.locator("#cert-soon-cert_file").inner_text()
        assert warning.startswith(
            f"Clientcertificaat (tls.cert_file) verloopt op {client}, over 0 dagen. Vervang "
            "het bestand op dezelfde plek"
        ), warning
        assert page.locator("#dest-expires-ca_file").inner_text() == (
            f"verloopt op {ca} (over {CA_DAYS - 1} dagen)"
        )
        assert "CA-certificaten (tls.ca_file)" in page.locator("dl.facts").inner_text()
        screenshot(page, "destination-certificates-nl")
