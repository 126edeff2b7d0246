"""A name or a birth date typed into a search form's field that the listing refuses, in a real
browser against a running engine: the form's own answer says why beside the field, and no
address the browser asks for (so none in its history, nor in a proxy's log) holds what was
typed. Request by request, for every form and in Dutch too: ``test_refused_terms_in_no_address``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TYPED = "Jan van der Berg 12-04-1961"
SPELLINGS = (TYPED, TYPED.replace(" ", "+"), TYPED.replace(" ", "%20"), "12-04-1961")
FORMS = [
    # (page, the refused field's input, the start of its rule)
    ("/messages", "zd_number", "a ZD number is ZD and 9 digits"),
    ("/events", "e-zd_number", "a ZD number is ZD and 9 digits"),
    ("/rejected", "r-zd_number", "a ZD number is ZD and 9 digits"),
    ("/audit", "a-actor", "give person:<email>"),
    ("/deadletters", "d-since", "not an ISO date or date-time"),
]


ANSWER = re.compile(r"\?answer=[A-Za-z0-9_-]{43}$")


@pytest.fixture(scope="module")
def support(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    person = live.person("sam.typed@example.org", Grant(Role.RESEND), Grant(Role.ADMIN))
    with signed_in_page(browser, live, person) as page:
        yield page


@pytest.mark.parametrize(("path", "field", "rule"), FORMS)
def test_a_refused_term_stays_out_of_every_address(
    support: Page, path: str, field: str, rule: str
) -> None:
    support.goto(path)
    asked: list[str] = []
    support.on("request", lambda request: asked.append(request.url))
    support.locator(f"#{field}").fill(TYPED)
    support.locator(f"form:has(#{field}) button[type=submit]").click()
    error = support.locator(f"#{field}-error")
    error.wait_for(state="visible")
    assert error.inner_text().startswith(rule)
    assert support.locator(f"#{field}").get_attribute("aria-invalid") == "true"
    # The refusal shown by GET under a random handle (``console.answers``), and nothing typed
    # in any address asked for.
    assert not [url for url in asked if "?" in url and not ANSWER.search(url)]
    assert not [url for url in [support.url, *asked] for s in SPELLINGS if s in url]
    screenshot(support, f"refused-term{path.replace('/', '-')}")
