"""Rejected input of which nothing was kept (an event body above the limit, refused unread):
the page offered *Show the input*, which showed nothing and recorded a view of patient data
under the person's name. It says nothing was kept instead, and a post of the old form records
nothing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from integrator.access import Grant, Role
from schemas.refused import EVENT_BODY_LIMIT
from tests.console.conftest import open_session, screenshot
from tests.console.live import LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _views(live: LiveEngine) -> int:
    entries = live.call(live.engine.store.list_audit(limit=1000))
    return sum(e.action == "patient_data.view" for e in entries)


def test_input_refused_unread_says_nothing_was_kept_and_records_no_view(
    page: Page, live: LiveEngine
) -> None:
    refused = live.call(
        live.engine.intake.keep_too_large(EVENT_BODY_LIMIT + 1, "amqp", caller="amqp")
    )
    rejected_id = refused.rejected_id
    assert rejected_id is not None
    support = live.person("sam.unkept@example.org", Grant(Role.RESEND))  # may read bodies
    open_session(page, live, support)
    before = _views(live)

    page.goto(f"/rejected/{rejected_id}")
    said = page.locator("#rejected-not-kept")
    assert said.inner_text().startswith("Nothing of the input was kept: it was refused before")
    assert page.locator("#rejected-reveal").count() == 0
    screenshot(page, "rejected-not-kept")

    # The form as an older page drew it, posted: the page again, and no view recorded.
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    answer = page.request.post(
        f"{live.url}/rejected/{rejected_id}/input",
        form={"csrf": csrf},
        headers={"Origin": live.url},
    )
    assert answer.status == 200, answer.status  # after the console's redirect to its answer
    assert re.search(r'id="rejected-not-kept"', answer.text())
    assert _views(live) == before
