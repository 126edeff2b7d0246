"""The access-log review (NEN 7513) in a real browser against a running engine, as a privacy
officer does it: from the audit trail to its summary, the last 30 days counted per actor, and
from an actor down to their entries in the trail; a period typed wrong is said beside its
field, the keyboard's focus on it, and nothing typed in any address. Request by request, in
both languages: ``test_audit_summary``."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ACTOR = "person:ria.viewed@example.org"
TYPED = "Jan van der Berg 12-04-1961"


def test_from_the_trail_to_its_summary_and_down_to_an_actor(
    browser: Browser, live: LiveEngine
) -> None:
    key = live.engine.settings.bsn_hash
    for bsn in ("999999990", "111222333"):
        live.call(
            live.engine.store.add_audit(
                ACTOR, "patient_data.view", "m-1", details={"view": "message", "bsn_hash": key(bsn)}
            )
        )
    officer = live.person("privacy.browser@example.org", Grant(Role.ADMIN))
    with signed_in_page(browser, live, officer) as page:
        page.goto("/audit")
        page.locator("#to-summary").click()
        page.wait_for_url("**/audit/summary")
        assert page.locator("#summary-table").count() == 0  # opened, nothing counted
        page.get_by_role("button", name="Summarise").click()
        page.locator("#summary-table").wait_for()
        row = page.get_by_role("row").filter(has_text=ACTOR)
        cells = [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
        assert cells[:5] == [ACTOR, "2", "0", "0", "2"]  # views, exports by BSN and not
        assert page.locator("#summary-total th").inner_text().startswith("Total (")
        screenshot(page, "audit-summary")

        row.get_by_role("link", name=ACTOR, exact=True).click()
        page.wait_for_url("**/audit?**")
        terms = parse_qs(urlsplit(page.url).query)
        assert terms["actor"] == [ACTOR] and {"since", "until"} <= terms.keys()
        assert page.locator("#a-actor").input_value() == ACTOR
        listed = page.locator("main table tbody tr")
        assert listed.count() == 2
        assert set(listed.locator("td:nth-child(4)").all_inner_texts()) == {"patient_data.view"}


def test_a_refused_period_is_said_beside_its_field_and_focused(
    browser: Browser, live: LiveEngine
) -> None:
    officer = live.person("privacy.typed@example.org", Grant(Role.ADMIN))
    with signed_in_page(browser, live, officer, lang="nl") as page:
        page.goto("/audit/summary")
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.locator("#s-until").fill("later")
        page.locator("#s-since").fill(TYPED)
        page.get_by_role("button", name="Overzicht maken").click()
        error = page.locator("#s-since-error")
        error.wait_for(state="visible")
        assert error.inner_text().startswith("geen geldige datum of datum-tijd")
        assert page.locator("#s-until-error").is_visible()
        # The first refused field has the keyboard's focus.
        assert page.evaluate("document.activeElement.id") == "s-since"
        assert page.locator("#s-since").get_attribute("aria-invalid") == "true"
        assert not [url for url in [page.url, *asked] if "1961" in url or "Berg" in url]
        screenshot(page, "audit-summary-refused")
