"""The audit page in a real browser against a running engine: from where is a column of its
own, and the details read as ``key: value`` (in-process, both languages and every kind of
value: ``test_audit_columns``)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from integrator.access import Grant, Role
from tests.console.conftest import screenshot, signed_in_page
from tests.console.live import BROWSER_ADDRESS, LiveEngine

if TYPE_CHECKING:
    from playwright.sync_api import Browser

COLUMNS = ("When", "Who", "From where", "Action", "Target", "Reason", "Details")


def test_the_audit_page_shows_from_where_in_a_column(browser: Browser, live: LiveEngine) -> None:
    admin = live.person("aud.columns@example.org", Grant(Role.ADMIN), Grant(Role.VIEWER, "CARD"))
    target = quote(f"person:{admin.email}")
    with signed_in_page(browser, live, admin) as page:  # its sign-in is audited, from here
        page.goto(f"/audit?target={target}")
        headers = page.get_by_role("columnheader").all_inner_texts()
        assert tuple(h.strip() for h in headers) == COLUMNS
        login = page.get_by_role("row").filter(has_text="login.success")
        invite = page.get_by_role("row").filter(has_text="person.invite")
        cells = [c.strip() for c in login.get_by_role("cell").all_inner_texts()]
        assert cells[1] == f"person:{admin.email}" and cells[2] == BROWSER_ADDRESS
        assert "source" not in cells[6] and "None" not in cells[6]
        # The invitation was made on the server's command line; its grants a list in words.
        shown = [c.strip() for c in invite.get_by_role("cell").all_inner_texts()]
        assert shown[2] == "command line (on the server)"
        assert invite.locator("dt", has_text="grants").count() == 1
        grants = invite.locator("dt:text-is('grants') + dd").inner_text()
        assert "[" not in grants and "'" not in grants and ", " in grants
        screenshot(page, "audit-columns")
