"""A BSN typed into another field of a search form (the ZD number, the provider), in a real
browser against a running engine: refused beside that field, never redirected to an address
with it, never shown back, as a saved search refuses it (``search.misplaced_bsn``); a ZD number
still searches as before. The Messages page says a refused term beside its field without the
field's code, in Dutch as in English, as the other search pages do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

import pytest

from integrator.access import Grant, Role
from tests.conftest import load_sample
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TYPED = "999 990 019"  # passes the eleven-test: the sample referral's patient
SPELLINGS = ("999990019", TYPED, "999+990+019", "999%20990%20019")
"""The BSN as it could stand in an address (form-encoded or not) or in a page."""
ZD = "ZD100000001"  # the sample referral's
REFUSAL = "this looks like a BSN: search by BSN instead"
REFUSAL_NL = "dit lijkt op een BSN: zoek in plaats daarvan op BSN"


class Form(NamedTuple):
    path: str
    button: str
    prefix: str  # of the ids of its fields' refusals: ``<prefix><field>-error``
    found: str  # the rows of what it found
    empty: str  # what it says when it found nothing


FORMS = {
    "messages": Form("/messages", "Search", "", "#message-list tbody tr", "#no-messages"),
    "events": Form("/events", "Search", "e-", "#event-list tbody tr", "#no-events"),
    "rejected": Form("/rejected", "Filter", "r-", "#rejected-list tbody tr", "#rejected-empty"),
    # Its fields went in the address as typed (a GET form): a BSN pasted into a period too.
    "deadletters": Form("/deadletters", "Show", "d-", "section.group", "#dead-empty"),
}
FIELDS = [
    ("messages", "ZD number", "zd_number"),
    ("events", "ZD number", "zd_number"),
    ("events", "Provider", "provider"),
    ("rejected", "ZD number", "zd_number"),
    ("rejected", "Provider", "provider"),
    ("deadletters", "Died from", "since"),
    ("deadletters", "Died until", "until"),
]


@pytest.fixture(scope="module")
def referral(live: LiveEngine) -> str:
    """The sample referral, delivered to ``noord``; its message id."""
    return live.submit(load_sample("referral"))


@pytest.fixture(scope="module")
def support(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """Support staff with the resend role for all clusters: their search forms post."""
    person = live.person("sam.pasted@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, person) as page:
        yield page


@pytest.fixture(scope="module")
def viewer(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """A viewer for all clusters: no BSN field, so before their forms posted as well, the
    browser put whatever was typed into the address before the server saw it."""
    person = live.person("vera.pasted@example.org", Grant(Role.VIEWER), Grant(Role.REPORTS))
    with signed_in_page(browser, live, person) as page:
        yield page


def addresses(page: Page) -> list[str]:
    """Every address the page asks for from now on (a redirect's target too)."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    return asked


def assert_no_bsn(page: Page, asked: list[str]) -> None:
    values = page.evaluate("() => Array.from(document.querySelectorAll('input')).map(e => e.value)")
    for spelling in SPELLINGS:
        assert spelling not in page.url
        assert not [url for url in asked if spelling in url]
        assert spelling not in page.content()
        assert not [value for value in values if spelling in value]


@pytest.mark.parametrize(("name", "label", "field"), FIELDS)
def test_a_bsn_in_another_field_is_refused_beside_it_and_goes_in_no_address(
    support: Page, name: str, label: str, field: str
) -> None:
    form = FORMS[name]
    support.goto(form.path)
    asked = addresses(support)
    support.get_by_label(label, exact=True).fill(TYPED)
    support.get_by_role("button", name=form.button, exact=True).click()
    error = support.locator(f"#{form.prefix}{field}-error")
    error.wait_for(state="visible")
    # Beside the field it was typed in, which is marked invalid, and not shown back.
    assert error.inner_text() == REFUSAL
    assert support.get_by_label(label, exact=True).get_attribute("aria-invalid") == "true"
    assert support.get_by_label(label, exact=True).input_value() == ""
    assert support.locator(f"{form.found}, {form.empty}").count() == 0  # nothing searched
    # Shown by GET under a random handle (``console.answers``): nothing typed in the address.
    answer = re.compile(rf"{form.path}\?answer=[A-Za-z0-9_-]{{43}}$")
    assert answer.search(support.url), support.url
    assert not [url for url in asked if "?" in url and not answer.search(url)]
    assert_no_bsn(support, asked)
    screenshot(support, f"misplaced-bsn-{name}-{field}")


@pytest.mark.parametrize(("name", "label", "field"), FIELDS)
def test_a_bsn_in_a_typed_address_is_refused_and_not_shown_back(
    support: Page, name: str, label: str, field: str
) -> None:
    """Who types the address by hand put the BSN in it already; the page does not add to
    that: it refuses the term beside its field, searches nothing and shows none of it."""
    form = FORMS[name]
    answer = support.goto(f"{form.path}?{field}=999+990+019")
    assert answer is not None and answer.status == 422
    assert support.locator(f"#{form.prefix}{field}-error").inner_text() == REFUSAL
    assert support.get_by_label(label, exact=True).input_value() == ""
    assert support.locator(f"{form.found}, {form.empty}").count() == 0
    content = support.content()
    assert not [spelling for spelling in SPELLINGS if spelling in content]


def test_the_bsn_field_is_searched_and_a_bsn_beside_it_refused(support: Page) -> None:
    """With a BSN in its own field too, a BSN in the ZD number is refused all the same: the
    search by BSN is not made, and neither BSN is kept or shown."""
    support.goto("/messages")
    asked = addresses(support)
    support.get_by_label("BSN", exact=True).fill(TYPED)
    support.get_by_label("ZD number", exact=True).fill(TYPED)
    support.get_by_role("button", name="Search", exact=True).click()
    support.locator("#zd_number-error").wait_for(state="visible")
    assert support.get_by_label("BSN", exact=True).input_value() == ""
    assert "search=" not in support.url
    assert_no_bsn(support, asked)


@pytest.mark.parametrize("name", ["messages", "events"])
def test_a_zd_number_still_searches(support: Page, referral: str, name: str) -> None:
    form = FORMS[name]
    support.goto(form.path)
    support.get_by_label("ZD number", exact=True).fill(ZD.lower())
    support.get_by_role("button", name=form.button, exact=True).click()
    support.wait_for_url(f"**{form.path}?search=*")  # kept, as every search from a form
    assert support.locator(form.found).count() == 1
    assert ZD in support.locator(form.found).first.inner_text()
    assert support.locator(f"#{form.prefix}zd_number-error").count() == 0


def test_a_provider_and_a_zd_number_still_filter_rejected_input(support: Page) -> None:
    support.goto("/rejected")
    support.get_by_label("Provider", exact=True).fill("ziekenhuis-noord")
    support.get_by_label("ZD number", exact=True).fill(ZD)
    support.get_by_role("button", name="Filter", exact=True).click()
    support.wait_for_url("**/rejected?search=*")  # kept, as every search from a form
    assert support.locator("#rejected-count").is_visible()
    assert support.locator("#r-zd_number-error, #r-provider-error").count() == 0


@pytest.mark.parametrize(
    ("lang", "since", "until", "pasted"),
    [
        (
            "en",
            "not an ISO date or date-time",
            "the period starts at or after it ends",
            REFUSAL,
        ),
        ("nl", "geen geldige datum", "de periode begint op of na het einde", REFUSAL_NL),
    ],
)
def test_the_messages_page_says_a_refusal_beside_its_field_without_its_code(
    browser: Browser, live: LiveEngine, lang: str, since: str, until: str, pasted: str
) -> None:
    """As the events, rejected-input and dead-letter pages do: the refusal stands beside its
    field, so it does not start with the field's code (``since: …``, ``zd_number: …``)."""
    person = live.person(f"{lang}.refusals@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, person, lang) as page:
        page.goto("/messages?since=yesterday-ish")
        assert page.locator("#since-error").inner_text().startswith(since)
        page.goto("/messages?since=2h&until=3h")
        assert page.locator("#until-error").inner_text().startswith(until)
        page.goto("/messages?zd_number=ZD12")
        zd = page.locator("#zd_number-error").inner_text()
        assert zd.startswith("a ZD number" if lang == "en" else "een ZD-nummer"), zd
        field = "ZD number" if lang == "en" else "ZD-nummer"
        page.get_by_label(field, exact=True).fill(TYPED)
        page.get_by_role("button", name="Search" if lang == "en" else "Zoeken").click()
        page.locator("#zd_number-error").wait_for(state="visible")
        assert page.locator("#zd_number-error").inner_text() == pasted
        shown = " ".join(page.locator("p.field-error, p.problem").all_inner_texts())
        assert not re.search(r"\b(since|until|zd_number|bsn):", shown), shown
        screenshot(page, f"messages-refusal-{lang}")


@pytest.mark.parametrize(("name", "label", "field"), FIELDS)
def test_who_may_not_search_by_bsn_sends_no_bsn_to_an_address_either(
    viewer: Page, name: str, label: str, field: str
) -> None:
    form = FORMS[name]
    viewer.goto(form.path)
    assert viewer.get_by_label("BSN", exact=True).count() == 0
    asked = addresses(viewer)
    viewer.get_by_label(label, exact=True).fill(TYPED)
    viewer.get_by_role("button", name=form.button, exact=True).click()
    viewer.locator(f"#{form.prefix}{field}-error").wait_for(state="visible")
    assert viewer.locator(f"#{form.prefix}{field}-error").inner_text() == REFUSAL
    assert_no_bsn(viewer, asked)


@pytest.mark.parametrize("name", ["messages", "events"])
def test_who_may_not_search_by_bsn_still_searches_by_zd_number(
    viewer: Page, referral: str, name: str
) -> None:
    form = FORMS[name]
    viewer.goto(form.path)
    viewer.get_by_label("ZD number", exact=True).fill(ZD)
    viewer.get_by_role("button", name=form.button, exact=True).click()
    viewer.wait_for_url(f"**{form.path}?search=*")  # kept, as every search from a form
    assert viewer.locator(form.found).count() == 1


@pytest.mark.parametrize(("name", "label", "field"), FIELDS[:2])
def test_the_refused_field_has_the_keyboards_focus(
    support: Page, name: str, label: str, field: str
) -> None:
    """A keyboard user lands on what to correct, not at the top of the page."""
    form = FORMS[name]
    support.goto(form.path)
    support.get_by_label(label, exact=True).fill(TYPED)
    support.get_by_role("button", name=form.button, exact=True).click()
    support.locator(f"#{form.prefix}{field}-error").wait_for(state="visible")
    assert support.get_by_label(label, exact=True).evaluate("e => e === document.activeElement")
