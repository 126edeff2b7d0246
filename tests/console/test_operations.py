"""The operations and administration pages in a real browser against a running engine:
destinations (form errors beside their fields, version warnings, pause, test message, history
and rollback), versions, dead letters, unrouted events, the audit trail, people and tokens; and
what a viewer may not see or do."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from integrator.access import Grant, Role
from integrator.store import AuditFilter, MessageFilter
from tests.conftest import load_sample
from tests.console.conftest import open_session, screenshot
from tests.console.live import LiveEngine
from tests.console.test_dashboard import _OVERFLOW

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page


def _see(locator: Locator) -> None:
    """Wait until the page shows ``locator`` (a page after a click may still be loading)."""
    locator.first.wait_for(state="visible")


def _referral(provider: str = "ziekenhuis-noord") -> dict[str, Any]:
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    event["provider"]["id"] = provider
    return event


def _submit(live: LiveEngine, event: dict[str, Any]) -> None:
    """Submit as an upstream system does over HTTP, and wait until it is delivered or dead."""
    live.call(live.engine.intake.submit(json.dumps(event), source="http"))
    assert live.call(live.engine.wait_settled(timeout=20))


def _state(live: LiveEngine, destination_id: str) -> bool:
    return live.call(live.engine.admin.get(destination_id))[0].enabled


def _csrf(page: Page) -> str:
    headers = page.locator("body").get_attribute("hx-headers") or "{}"
    token: str = json.loads(headers)["X-CSRF-Token"]
    return token


def test_a_viewer_sees_no_change_buttons_and_a_forged_post_is_refused(
    page: Page, live: LiveEngine
) -> None:
    viewer = live.person("vera@example.org", Grant(Role.VIEWER, "CARD"))
    open_session(page, live, viewer)
    page.goto("/destinations")
    _see(page.get_by_role("link", name="noord"))
    assert page.get_by_role("link", name="zuid").count() == 0  # another cluster
    assert page.get_by_role("link", name="Add a destination").count() == 0
    page.get_by_role("link", name="noord").click()
    assert page.locator("#dest-state").inner_text() == "active"
    for name in ("Edit", "Pause", "Send test message"):
        assert page.get_by_role("link", name=name).count() == 0
        assert page.get_by_role("button", name=name).count() == 0
    screenshot(page, "destination-viewer")
    outside = page.goto("/destinations/zuid")
    assert outside is not None and outside.status == 404  # outside the viewer's clusters
    new = page.goto("/destinations-new")
    assert new is not None and new.status == 403

    page.goto("/destinations/noord")
    form: dict[str, str | float | bool] = {"enabled": "false", "reason": "forged"}
    # Without the CSRF token: refused before the page runs.
    no_token = page.request.post("/destinations/noord/state", form=form)
    assert no_token.status == 403
    # With the viewer's own token and origin: refused, the viewer may not pause.
    genuine = page.request.post(
        "/destinations/noord/state",
        form={**form, "csrf": _csrf(page)},
        headers={"Origin": live.url},
    )
    assert genuine.status == 403
    assert _state(live, "noord") is True
    # Every other change of these pages is refused to a viewer the same way.
    for path, fields in (
        ("/destinations/noord/edit", {"name": "forged"}),
        ("/destinations/noord/rollback", {"revision": "1", "reason": "forged"}),
        ("/destinations/noord/test", {}),
        ("/destinations-new", {"id": "forged"}),
        ("/deadletters/confirm", {"ids": "x", "action": "discard"}),
        ("/deadletters/resend", {"ids": "x", "reason": "forged"}),
        ("/deadletters/discard", {"ids": "x", "reason": "forged"}),
        ("/events/route", {"provider": "x", "reason": "forged"}),
        ("/people/invite", {"email": "eve@example.org", "role": "admin"}),
        ("/tokens", {"name": "forged", "role": "admin"}),
    ):
        answer = page.request.post(
            path, form={**fields, "csrf": _csrf(page)}, headers={"Origin": live.url}
        )
        assert answer.status == 403, path
    assert not [a for a, _ in live.audit_actions(f"person:{viewer.email}") if "destination" in a]


def test_an_operator_edits_pauses_tests_and_rolls_back_a_destination(
    page: Page, live: LiveEngine
) -> None:
    operator = live.person(
        "otto@example.org",
        Grant(Role.DESTINATIONS, "CARD"),
        Grant(Role.PREVIEW, "CARD"),
    )
    open_session(page, live, operator)
    # A refused hand edit kept beside noord's file: named on the list until it is deleted.
    kept = live.engine.settings.destinations_dir / "noord.yaml.20261101T090000000000Z.refused"
    kept.write_text("id: noord\nordring: fifo\n", encoding="utf-8")
    page.goto("/destinations")
    notice = page.locator(".refused-copies").inner_text()
    assert "noord: 1 refused hand edit kept" in notice and kept.name in notice
    kept.unlink()
    page.goto("/destinations")
    assert page.locator(".refused-copies").count() == 0
    screenshot(page, "destinations")
    page.get_by_role("link", name="noord").click()
    page.get_by_role("link", name="Edit").click()

    # An invalid edit: each refusal beside its own field, and what was typed kept.
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_label("Port").fill("twenty")
    page.get_by_role("button", name="Save").click()
    _see(page.locator("#form-refused"))
    assert "whole number" in page.locator("#port-error").inner_text()
    _see(page.locator("#name-error"))
    assert page.get_by_label("Port").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Port").input_value() == "twenty"
    screenshot(page, "destination-form-errors")

    # A retired version is refused, naming its successor, beside its field.
    page.get_by_label("Name", exact=True).fill("Noord")
    page.get_by_label("Port").fill(str(live.receivers["noord"].port))
    page.get_by_label("Message version for diagnostic request").select_option("orm-lfdv1")
    page.get_by_role("button", name="Save").click()
    assert "orm-v3" in page.locator("#messages-diagnostic_request-error").inner_text()

    # A deprecated version is taken, with its sunset and successor shown.
    page.get_by_label("Message version for diagnostic request").select_option("orm-v3")
    page.get_by_label("Message version for referral").select_option("ref-v1")
    page.get_by_label("Reason (goes into the history)").fill("receiver still on v1")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/destinations/noord\?saved=\d+"))
    notice = page.locator(".notice").first.inner_text()
    assert "ref-v1" in notice and "ref-v2" in notice and "sunset" in notice
    screenshot(page, "destination-saved")

    # Pause from the destination page, with a reason.
    page.get_by_label("Reason").fill("receiver maintenance")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_url(re.compile(r"/destinations/noord"))
    assert page.locator("#dest-state").inner_text() == "paused"
    assert _state(live, "noord") is False

    # Paused on purpose: a test message is refused, naming the destination, until the
    # operator ticks the box to send it anyway (recorded in the audit log).
    received = len(live.receivers["noord"].received)
    page.get_by_role("button", name="Send test message").click()
    # The refusal, not the page's (empty) notice box for a session that ends.
    refusal = page.get_by_role("alert").filter(has_text="paused").inner_text()
    assert "'noord' is paused" in refusal and "tick the box" in refusal
    assert len(live.receivers["noord"].received) == received
    page.goto("/destinations/noord")
    page.get_by_label("Send it although this destination is paused").check()
    # A test message goes out on its own connection; the receiver's ACK is shown.
    page.get_by_role("button", name="Send test message").click()
    assert page.locator("[data-figure=ack-code]").inner_text() == "AA"
    assert "MSA|AA" in page.locator("#test-result pre").inner_text()
    screenshot(page, "destination-test")

    # History with diffs, and a rollback to the first revision.
    page.get_by_role("link", name="History").click()
    _see(page.locator("ins", has_text="ref-v1"))
    screenshot(page, "destination-history")
    first = page.locator("#revision-1")
    first.get_by_label("Reason").fill("back to how it was")
    page.once("dialog", lambda dialog: dialog.accept())  # it asks first
    first.get_by_role("button", name="Roll back to revision 1").click()
    page.wait_for_url(re.compile(r"/destinations/noord\?saved=\d+"))
    # A rollback keeps the pause (pausing has its own action and history): resumed by hand.
    assert page.locator("#dest-state").inner_text() == "paused"
    assert live.call(live.engine.admin.get("noord"))[0].messages["referral"] == "ref-v2"
    page.get_by_label("Reason").fill("maintenance over")
    page.get_by_role("button", name="Resume").click()
    page.wait_for_url(re.compile(r"/destinations/noord"))
    assert page.locator("#dest-state").inner_text() == "active"

    actions = [a for a, _ in live.audit_actions(f"person:{operator.email}")]
    for action in ("destination.update", "destination.pause", "destination.test"):
        assert action in actions
    assert "destination.rollback" in actions
    paused = [
        e
        for e in live.call(live.engine.store.list_audit(limit=1000))
        if e.action == "destination.pause" and e.actor == f"person:{operator.email}"
    ]
    assert paused and all(e.details["source"] == "127.0.0.1" for e in paused)  # from where
    tested = [
        e
        for e in live.call(live.engine.store.list_audit(limit=1000))
        if e.action == "destination.test" and e.actor == f"person:{operator.email}"
    ]
    assert [e.details.get("even_if_paused") for e in tested] == [True]
    assert [e.details.get("source") for e in tested] == ["127.0.0.1"]  # from where

    # A new destination, first in a cluster the operator may not put it in.
    page.goto("/destinations")
    page.get_by_role("link", name="Add a destination").click()
    page.get_by_label("Id", exact=True).fill("west")
    page.get_by_label("Name", exact=True).fill("West")
    page.get_by_label("Cluster").fill("LAB")
    page.get_by_label("Host").fill("127.0.0.1")
    page.get_by_label("Port").fill(str(live.receivers["zuid"].port))
    page.get_by_label("Message version for referral").select_option("ref-v2")
    page.get_by_role("button", name="Save").click()
    assert "cluster LAB" in page.locator("#cluster-error").inner_text()
    page.get_by_label("Cluster").fill("CARD")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/destinations/west\?saved=1"))
    assert "destination.add" in [a for a, _ in live.audit_actions(f"person:{operator.email}")]

    page.goto("/versions")
    _see(page.locator("#version-ref-v1").get_by_text("days left"))
    _see(page.locator("#version-ref-v2").get_by_role("link", name="noord"))
    screenshot(page, "versions")


def test_support_resends_and_discards_dead_letters_and_routes_unrouted_events(
    page: Page, live: LiveEngine
) -> None:
    support = live.person("sam@example.org", Grant(Role.RESEND), Grant(Role.VIEWER))
    receiver = live.receivers["noord"]
    receiver.ack_code = "AR"
    try:
        _submit(live, _referral())
        _submit(live, _referral())
    finally:
        receiver.ack_code = "AA"
    open_session(page, live, support)
    page.goto("/deadletters")
    group = page.locator("section.group").first
    picks = group.get_by_role("checkbox", name=re.compile(r"^Select message "))
    assert picks.count() == 2
    screenshot(page, "deadletters")

    # Resend one of the two: ticked, counted, confirmed with a reason, done.
    picks.nth(0).check()
    group.get_by_role("button", name="Resend selected…").click()
    assert "1 message selected; 1 would be resent" in page.locator("#confirm-count").inner_text()
    screenshot(page, "deadletters-confirm")
    page.get_by_label("Reason").fill("receiver fixed")
    receiver.ack_code = "AR"  # it was not fixed after all: the resend dies too
    try:
        page.get_by_role("button", name="Resend 1 message").click()
        _see(page.get_by_role("cell", name="resent", exact=True))
        assert live.call(live.engine.wait_settled(timeout=20))
    finally:
        receiver.ack_code = "AA"
    assert _sources(live, support.email, "message.resend") == ["127.0.0.1"]  # from where

    # Discard the first one: the confirmation names its dead resend, closed with it.
    page.goto("/deadletters")
    group = page.locator("section.group").first
    picks = group.get_by_role("checkbox", name=re.compile(r"^Select message "))
    assert picks.count() == 3  # the two, and the dead resend
    chain = live.call(live.engine.store.list_messages(MessageFilter(status="dead")))
    [first] = [m.resend_of for m in chain if m.resend_of is not None]
    assert first is not None
    group.get_by_label(f"Select message {first[:8]}").check()
    group.get_by_role("button", name="Discard selected…").click()
    counted = page.locator("#confirm-count").inner_text()
    assert "1 message selected; 2 will be closed as cancelled" in counted
    _see(page.get_by_role("cell", name=f"in the resend chain of {first}"))
    page.get_by_label("Reason").fill("sent by hand")
    page.get_by_role("button", name="Discard 2 messages").click()
    discarded = page.get_by_role("cell", name="discarded", exact=True)
    _see(discarded)  # count() alone reads the page before the result has loaded
    assert discarded.count() == 2
    actions = [a for a, _ in live.audit_actions(f"person:{support.email}")]
    assert actions.count("deadletter.discard") == 2

    # Discard the other one.
    page.goto("/deadletters")
    group = page.locator("section.group").first
    group.get_by_label("Select all in this group").check()
    group.get_by_role("button", name="Discard selected…").click()
    page.get_by_label("Reason").fill("sent by hand")
    page.get_by_role("button", name=re.compile(r"Discard \d message")).click()
    _see(page.get_by_role("cell", name="discarded", exact=True))
    assert live.call(live.engine.store.list_messages(MessageFilter(status="dead"))) == []
    assert _sources(live, support.email, "deadletter.discard") == ["127.0.0.1"] * 3

    # An event for a provider nobody serves, routed once a destination serves it.
    event = _referral("kliniek-west")
    _submit(live, event)
    page.goto("/events/unrouted")
    _see(page.get_by_role("cell", name="kliniek-west"))
    screenshot(page, "unrouted")
    # Nobody serves it: it is not offered to route, and the page says who can change that.
    assert page.get_by_label(f"Select event {event['event_id'][:8]}").count() == 0
    _see(page.locator("#unrouted-none-routable"))
    live.call(
        live.engine.admin.patch(
            "noord", {"providers": ["ziekenhuis-noord", "kliniek-west"]}, actor="test"
        )
    )
    page.reload()
    page.get_by_label(f"Select event {event['event_id'][:8]}").check()
    page.get_by_label("Reason").fill("kliniek west is now served by noord")
    page.get_by_role("button", name="Route now").click()
    assert "1 of 1 event routed" in page.get_by_role("status").inner_text()
    screenshot(page, "unrouted-done")


def test_support_resends_what_a_search_finds_after_seeing_what_would_happen(
    page: Page, live: LiveEngine
) -> None:
    support = live.person("rosa@example.org", Grant(Role.RESEND))
    event = _referral()
    _submit(live, event)
    open_session(page, live, support)
    page.goto(f"/messages?zd_number={event['zd_number']}&status=delivered")
    page.get_by_role("button", name="Resend these messages…").click()
    assert "1 message found; 1 would be resent" in page.locator("#confirm-count").inner_text()
    _see(page.get_by_role("cell", name=event["zd_number"]))
    screenshot(page, "messages-resend-confirm")
    page.get_by_label("Reason").fill("GP called: referral not arrived")
    page.get_by_role("button", name="Resend 1 message").click()
    _see(page.get_by_role("cell", name="resent", exact=True))
    assert live.call(live.engine.wait_settled(timeout=20))
    assert _sources(live, support.email, "message.resend") == ["127.0.0.1"]  # from where

    # The ZD number names the referral: asked again, it is resent again (a GP who calls twice).
    page.goto(f"/messages?zd_number={event['zd_number']}&status=delivered")
    page.get_by_role("button", name="Resend these messages…").click()
    assert "1 message found; 1 would be resent" in page.locator("#confirm-count").inner_text()

    # A term that cannot be used is refused naming its rule, never repeating what was sent.
    bad = page.request.post(
        "/messages/resend/confirm",
        form={"csrf": _csrf(page), "since": "gisteren-ochtend"},
        headers={"Origin": live.url},
    )
    # The page is Dutch: the term is named by its Dutch label.
    assert bad.status == 422 and "vanaf: " in bad.text() and "gisteren-ochtend" not in bad.text()

    # Who may not resend gets no button, and a forged confirmation is refused.
    viewer = live.person("vic@example.org", Grant(Role.VIEWER))
    page.context.clear_cookies()
    open_session(page, live, viewer)
    page.goto(f"/messages?zd_number={event['zd_number']}")
    _see(page.locator("#message-list"))
    assert page.get_by_role("button", name="Resend these messages…").count() == 0
    forged = page.request.post(
        "/messages/resend/confirm",
        form={"csrf": _csrf(page), "zd_number": event["zd_number"]},
        headers={"Origin": live.url},
    )
    assert forged.status == 403


def test_an_admin_invites_a_person_manages_tokens_and_searches_the_audit(
    page: Page, live: LiveEngine
) -> None:
    # ``resend`` in CARD too: only who reads patient data there may give it (docs/access.md).
    admin = live.person(
        "ada@example.org", Grant(Role.ADMIN), Grant(Role.REPORTS), Grant(Role.RESEND, "CARD")
    )
    open_session(page, live, admin)
    page.goto("/people")
    page.get_by_label("E-mail address").fill("nina@example.org")
    page.get_by_label("Name").fill("Nina")
    page.get_by_label("Role 1").select_option("viewer")
    page.get_by_label("Cluster 1").fill("CARD")
    page.get_by_role("button", name="Invite", exact=True).click()
    link = page.get_by_label("Invitation link").input_value()
    assert "/invitation#" in link
    screenshot(page, "people-invited")
    # The link's field fits a narrow window (a 1280 px screen at 200 %): no sideways scroll.
    page.set_viewport_size({"width": 640, "height": 800})
    assert page.evaluate(_OVERFLOW) == {"wider": 0, "outside": []}
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto("/people")
    screenshot(page, "people")
    page.get_by_role("link", name="Nina").click()
    _see(page.get_by_text("viewer@CARD"))
    page.get_by_label("Role 2").select_option("resend")
    page.get_by_label("Cluster 2").fill("CARD")
    page.locator("#grants-reason").fill("also answers the phone")  # required
    page.get_by_role("button", name="Save roles").click()
    _see(page.get_by_text("resend@CARD"))
    screenshot(page, "person")
    page.get_by_role("button", name="Send the invitation again").click()
    assert link != page.get_by_label("Invitation link").input_value()  # a new one

    page.goto("/tokens")
    page.get_by_label("Name", exact=True).fill("lab-feed")
    page.get_by_label("Role 1").select_option("intake")
    page.get_by_role("button", name="Create a token").click()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert len(secret) > 20
    screenshot(page, "token-created")
    page.get_by_role("link", name="Back to the tokens").click()
    page.wait_for_url(re.compile(r"/tokens$"))
    assert secret not in page.content()  # shown once only
    page.get_by_label("Reason").first.fill("test over")
    page.get_by_role("button", name="Revoke").first.click()
    _see(page.get_by_role("cell", name="revoked"))
    screenshot(page, "tokens")

    page.goto("/audit?action=person.invite")
    _see(page.get_by_role("cell", name="person:nina@example.org"))
    screenshot(page, "audit")
    export = page.get_by_role("link", name="Export these entries as CSV").get_attribute("href")
    csv = page.request.get(export or "")
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "person.invite" in csv.text()

    page.get_by_label("BSN of the patient").fill("999999990")
    page.get_by_role("button", name="Search by BSN").click()
    _see(page.get_by_text("Searched by BSN"))
    assert "999999990" not in page.url and "999999990" not in page.content()
    actions = [a for a, _ in live.audit_actions(f"person:{admin.email}")]
    for action in ("person.invite", "person.grants", "person.reinvite", "token.create"):
        assert action in actions
    assert "token.revoke" in actions and "audit.export" in actions
    for action in ("token.create", "token.revoke"):
        assert set(_sources(live, admin.email, action)) == {"127.0.0.1"}  # from where
    [exported] = [
        e
        for e in live.call(live.engine.store.list_audit(limit=1000))
        if e.action == "audit.export" and e.actor == f"person:{admin.email}"
    ]
    assert exported.details["source"] == "127.0.0.1"  # from where, as through the API
    assert "patient_data.view" in actions
    [search] = [
        e
        for e in live.call(live.engine.store.list_audit(limit=1000))
        if e.action == "patient_data.view" and e.actor == f"person:{admin.email}"
    ]
    assert search.details["view"] == "audit.search" and search.details["source"] == "127.0.0.1"


def _sources(live: LiveEngine, email: str, action: str) -> list[str | None]:
    """The client address (``details.source``) of each ``action`` the person made: the audit's
    "from where", which every console action records as the API's do."""
    entries = live.call(live.engine.store.list_audit(AuditFilter(action=action), limit=1000))
    return [e.details.get("source") for e in entries if e.actor == f"person:{email}"]
