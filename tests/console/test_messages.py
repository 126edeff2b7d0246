"""Support finds a referral, reads it, and resends it; a viewer can do none of the resending,
whatever they send: in a real browser against a running engine with a real MLLP receiver."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from integrator.access import Grant, Role
from integrator.console.render import local_time
from tests.conftest import load_sample
from tests.console.conftest import new_context, screenshot, signed_in_page
from tests.console.live import LiveEngine, Person
from tests.store.factories import make_event, make_message

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ZD = "ZD100000001"  # the sample referral's


@pytest.fixture(scope="module")
def referral(live: LiveEngine) -> str:
    """The sample referral, delivered to ``noord`` (cluster CARD); its message id."""
    return live.submit(load_sample("referral"))


@pytest.fixture(scope="module")
def support(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """A signed-in person with the resend role for all clusters."""
    person = live.person("sam@example.org", Grant(Role.RESEND))
    with signed_in_page(browser, live, person) as page:
        yield page


@pytest.fixture(scope="module")
def viewer(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """A signed-in person who may only browse CARD's messages and dashboards."""
    person: Person = live.person("vera@example.org", Grant(Role.VIEWER, "CARD"))
    with signed_in_page(browser, live, person) as page:
        yield page


def csrf_of(page: Page) -> str:
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    return token


def resends(live: LiveEngine, message_id: str) -> list[Any]:
    return live.call(live.engine.store.list_resends(message_id))[1]


def test_support_finds_a_referral_by_zd_number_and_reads_it(
    support: Page, live: LiveEngine, referral: str
) -> None:
    support.goto("/")
    support.get_by_role("link", name="Messages").click()
    support.get_by_label("ZD number").fill(ZD)
    support.get_by_role("button", name="Search").click()
    # The form posts (it has the BSN field); without a BSN it is kept too, by its handle.
    support.wait_for_url("**/messages?search=*")
    assert ZD not in support.url
    rows = support.locator("#message-list tbody tr")
    assert rows.count() == 1
    assert "noord" in rows.first.inner_text() and "delivered" in rows.first.inner_text()
    screenshot(support, "messages")
    rows.first.get_by_role("link").click()
    support.wait_for_url(f"**/messages/{referral}")

    pid5 = support.locator('#hl7-fields tr[data-field="PID-5"]')
    assert pid5.locator("td").nth(1).inner_text() == "Patient Name"
    assert "Berg" in pid5.locator("td").nth(2).inner_text()
    assert support.locator("#patient-name").inner_text() == "Jan van der Berg"
    # The letter's history, two lines, is one OBX-5 with a \.br\ on the wire; it also reads
    # as the GP wrote it, and a value without escapes is shown once.
    history = support.locator("#hl7-fields tr", has_text="Hypertensie sinds 2019.")
    assert "2019.\\.br\\Rookt" in history.locator("td").nth(2).inner_text()
    reads = history.locator(".reads").inner_text()
    assert reads == "Reads: Hypertensie sinds 2019.\nRookt 10 sigaretten per dag.", reads
    assert pid5.locator(".reads").count() == 0
    assert "MSA" in support.locator(".side-by-side pre.raw").inner_text()  # the ACK beside it
    assert support.locator("pre.raw .sep").count() > 10  # separators made visible
    screenshot(support, "message")
    views = live.audit_actions("person:sam@example.org")
    assert ("patient_data.view", referral) in views


def test_support_finds_a_message_by_the_msh_10_the_hospital_quotes(
    support: Page, live: LiveEngine, referral: str
) -> None:
    """The hospital's interface team quotes a message's MSH-10; the API and the CLI found it,
    the console had no field for it. Typed as read out (lower case, spaces around), found;
    a search for one message is not offered to be saved."""
    message = live.call(live.engine.store.get_message(referral))
    assert message is not None
    support.goto("/messages")
    support.get_by_label("MSH-10 (the message's control id)").fill(
        f"  {message.control_id.lower()} "
    )
    support.get_by_role("button", name="Search").click()
    support.wait_for_url("**/messages?search=*")
    rows = support.locator("#message-list tbody tr")
    assert rows.count() == 1
    assert rows.first.get_by_role("link").get_attribute("href") == f"/messages/{referral}"
    assert support.locator("#save-name").count() == 0
    support.get_by_label("MSH-10 (the message's control id)").fill("INT99999999999999999")
    support.get_by_role("button", name="Search").click()
    support.wait_for_url("**/messages?search=*")
    assert support.locator("#message-list tbody tr").count() == 0


def test_a_bsn_search_is_posted_kept_and_audited(
    support: Page, live: LiveEngine, referral: str
) -> None:
    """``referral``: a message for the BSN to find (the test found one only when another test
    of the file had made it first)."""
    bsn = load_sample("referral")["patient"]["bsn"]
    urls: list[str] = []
    support.on("request", lambda request: urls.append(request.url))
    support.goto("/messages")
    support.get_by_label("BSN").fill(bsn)
    support.get_by_role("button", name="Search").click()
    support.wait_for_url("**/messages?search=*")
    assert support.locator("#message-list tbody tr").count() >= 1
    assert not any(bsn in url for url in urls)
    assert ("patient_data.view", "messages.search") in live.audit_actions("person:sam@example.org")


def test_support_resends_after_seeing_the_difference(
    support: Page, live: LiveEngine, referral: str
) -> None:
    receiver = live.receivers["noord"]
    received = receiver.message_count
    support.goto(f"/messages/{referral}")
    support.get_by_label("Reason").fill("GP phoned: not arrived")
    support.get_by_label("Mode").select_option("remap")
    support.get_by_role("button", name="Show what would be sent").click()
    diff = support.locator("#resend-diff")
    diff.wait_for()
    assert diff.locator('tr[data-field="MSH-10"]').count() == 1  # a remap has a new MSH-10
    assert diff.locator('tr[data-field="PID-5"]').count() == 0  # the patient is the same
    # The time and control id are made by the resend itself: the preview's dry run made
    # others, which would never be sent, so it says they are new instead of showing them.
    # (MSH-7 is listed only when the clock moved on since the original was mapped.)
    for row in diff.locator('tr[data-field="MSH-10"], tr[data-field="MSH-7"]').all():
        assert row.locator("td").nth(3).inner_text() == "new, set when it is resent"
    assert diff.locator('tr[data-field="MSH-10"] td').nth(3).inner_text() == (
        "new, set when it is resent"
    )
    screenshot(support, "resend-preview")
    assert resends(live, referral) == []  # the preview resent nothing

    support.get_by_role("button", name="Resend now").click()
    support.wait_for_url(re.compile(r"/messages/(?!" + referral + r")[0-9a-f-]+$"))
    from playwright.sync_api import expect

    expect(support.locator("#message-status")).to_have_text("delivered")
    assert support.locator("#resent-from").inner_text() == referral
    screenshot(support, "resent")
    [made] = resends(live, referral)
    assert made.actor == "person:sam@example.org" and made.reason == "GP phoned: not arrived"
    assert ("message.resend", referral) in live.audit_actions("person:sam@example.org")
    assert receiver.message_count == received + 1
    # The original links to its resend, with who resent it and why.
    support.locator("#resent-from").click()
    support.wait_for_url(f"**/messages/{referral}")
    listed = support.locator("#resends").inner_text()
    assert made.message_id in listed
    assert "person:sam@example.org" in listed and "GP phoned: not arrived" in listed
    # And when, in the engine's time zone with its offset, as every time on the page: two
    # resends by two colleagues read apart, and a GP told when it went out again.
    assert local_time(made.at, live.engine.settings.zone) in listed


def test_resending_the_same_bytes_previews_no_difference(
    support: Page, live: LiveEngine, referral: str
) -> None:
    support.goto(f"/messages/{referral}")
    support.get_by_label("Reason").fill("check")
    support.get_by_label("Mode").select_option("original")
    support.get_by_role("button", name="Show what would be sent").click()
    support.locator("#resend-same").wait_for()
    assert support.locator("#resend-diff").count() == 0
    # A reason of blanks is no reason: refused, and shown in place.
    support.get_by_label("Reason").fill("   ")
    support.get_by_role("button", name="Show what would be sent").click()
    support.locator("#resend-preview .problem").wait_for()
    assert "reason" in support.locator("#resend-preview .problem").inner_text()
    # The field it is about is marked and has the focus: a screen reader says which to mend.
    from playwright.sync_api import expect

    reason = support.get_by_label("Reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    # Described by the refusal too: a screen reader says why, not only "invalid".
    described = (reason.get_attribute("aria-describedby") or "").split()
    assert "refused-in-place" in described and "resend-reason-hint" in described
    expect(support.locator("#refused-in-place")).to_contain_text("reason")
    reason.fill("check again")  # mended: the next answer clears the mark
    support.get_by_role("button", name="Show what would be sent").click()
    support.locator("#resend-same").wait_for()
    assert reason.get_attribute("aria-invalid") is None
    assert reason.get_attribute("aria-describedby") == "resend-reason-hint"


def test_a_viewer_sees_no_resend_and_a_forged_one_is_refused(
    viewer: Page, support: Page, live: LiveEngine, referral: str
) -> None:
    viewer.goto(f"/messages/{referral}")
    assert viewer.locator("#zd-number").inner_text() == ZD
    assert viewer.get_by_role("button", name="Show what would be sent").count() == 0
    assert viewer.locator("#hl7-fields").count() == 0  # no patient data for a viewer
    assert viewer.locator("#patient-name").count() == 0
    screenshot(viewer, "message-viewer")
    before = len(resends(live, referral))
    url = f"{live.url}/messages/{referral}/resend"
    form: dict[str, str | float | bool] = {"reason": "forged", "mode": "original", "to": ""}
    own = {"origin": live.url}

    # A valid session and token, but no permission.
    answer = viewer.request.post(url, form={**form, "csrf": csrf_of(viewer)}, headers=own)
    assert answer.status == 403
    # A person who may resend, but the request lacks the token, or comes from another site.
    assert support.request.post(url, form=form, headers=own).status == 403
    support.goto("/")
    token = csrf_of(support)
    assert (
        support.request.post(
            url, form={**form, "csrf": token}, headers={"origin": "https://evil.example"}
        ).status
        == 403
    )
    assert support.request.post(url, form={**form, "csrf": "0" * 64}, headers=own).status == 403
    assert len(resends(live, referral)) == before
    assert not [
        a for a in live.audit_actions("person:vera@example.org") if a[0] == "message.resend"
    ]


def test_outside_the_clusters_is_not_found(viewer: Page, live: LiveEngine) -> None:
    lab = load_sample("referral")
    lab["event_id"] = "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a0000aa"
    lab["zd_number"] = "ZD100000077"
    lab["provider"]["id"] = "lab-zuid"
    message_id = live.submit(lab)
    answer = viewer.goto(f"/messages/{message_id}")
    assert answer is not None and answer.status == 404
    viewer.goto("/messages?zd_number=ZD100000077")
    assert viewer.locator("#no-messages").is_visible()


@pytest.fixture(scope="module")
def dutch(browser: Browser, live: LiveEngine) -> Iterator[Page]:
    """A signed-in person who may resend, reading the console in Dutch."""
    person = live.person("daan@example.org", Grant(Role.RESEND))
    context = new_context(browser, live, lang="nl")
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(person.email)
    page.get_by_label("Wachtwoord").fill(person.password)
    page.get_by_label("Code uit je authenticator-app").fill(person.code())
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def released(live: LiveEngine) -> str:
    """A referral to ``noord`` that was held (as at its version's sunset) and then released by
    the engine, mapped again and delivered; its message id."""
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = "ZD100000078"
    held = make_message(destination_id="noord", status="held", payload=b"")
    stored = make_event(id=event["event_id"], zd_number=event["zd_number"], payload=event)
    live.call(live.engine.store.accept_event(stored, [held]))
    assert live.call(live.engine.intake.release_held(["noord"])) == 1
    assert live.call(live.engine.wait_settled(timeout=20))
    return held.id


def test_a_message_released_from_held_says_when_and_one_never_held_does_not(
    support: Page, viewer: Page, dutch: Page, live: LiveEngine, referral: str, released: str
) -> None:
    message = live.call(live.engine.store.get_message(released))
    assert message is not None and message.released_at is not None
    shown = local_time(message.released_at, live.engine.settings.zone)
    # With patient data (the API's detail) and without it (the summary a viewer gets).
    for page in (support, viewer):
        page.goto(f"/messages/{released}")
        assert page.locator("#released-at").inner_text() == shown
        label = page.locator("#released-at").locator("xpath=preceding-sibling::dt[1]")
        assert label.inner_text() == "Released from held"
    screenshot(support, "message-released")
    dutch.goto(f"/messages/{released}")
    label = dutch.locator("#released-at").locator("xpath=preceding-sibling::dt[1]")
    assert label.inner_text() == "Vrijgegeven na vasthouden"
    assert dutch.locator("#released-at").inner_text() == shown

    support.goto(f"/messages/{referral}")  # never held
    assert support.locator("#message-status").inner_text() == "delivered"
    assert support.locator("#released-at").count() == 0
    assert "Released from held" not in support.locator("main").inner_text()


def test_a_search_by_status_sending_says_no_message_is_ever_in_it(
    support: Page, dutch: Page, referral: str
) -> None:
    support.goto("/messages")
    support.get_by_label("Status").select_option("sending")
    support.get_by_role("button", name="Search").click()
    support.wait_for_url("**/messages?search=*")
    note = support.locator("#status-note")
    assert note.inner_text() == (
        "No message is ever in status sending: the engine does not record it. A message on its "
        "way shows as queued (or retrying) until its attempt is recorded."
    )
    assert support.locator("#no-messages").is_visible()
    screenshot(support, "messages-sending")
    dutch.goto("/messages?status=sending")
    assert (
        dutch.locator("#status-note")
        .inner_text()
        .startswith("Geen enkel bericht heeft ooit de status ‘wordt verstuurd’")
    )
    screenshot(dutch, "messages-sending-nl")

    support.goto("/messages?status=delivered")  # a status messages are in: no note
    assert support.locator("#message-list tbody tr").count() >= 1
    assert support.locator("#status-note").count() == 0


def test_the_timeline_of_a_held_message_says_it_was_mapped_at_its_release(
    support: Page, dutch: Page, live: LiveEngine, referral: str, released: str
) -> None:
    """A message held at its creation was not mapped then (no bytes, no message type): it was
    mapped at its release, in the version it has now. The line used to say "Mapped as" at its
    creation."""
    zone = live.engine.settings.zone
    message = live.call(live.engine.store.get_message(released))
    assert message is not None and message.released_at is not None
    assert message.released_at > message.created_at
    support.goto(f"/messages/{released}")
    held = support.locator("#timeline-held")
    assert held.locator("time").inner_text() == local_time(message.created_at, zone)
    assert f"Held, not mapped; MSH-10 {message.control_id} reserved" in held.inner_text()
    at_release = support.locator("#timeline-released")
    assert at_release.locator("time").inner_text() == local_time(message.released_at, zone)
    assert at_release.inner_text().endswith(
        f"Released from held and mapped as {message.version} ({message.message_type})"
    )
    assert support.locator("#timeline-mapped").count() == 0
    assert "Mapped as" not in support.locator("#timeline").inner_text()
    screenshot(support, "message-released-timeline")
    dutch.goto(f"/messages/{released}")
    assert (
        dutch.locator("#timeline-released")
        .inner_text()
        .endswith(
            f"Vrijgegeven na vasthouden en omgezet als {message.version} ({message.message_type})"
        )
    )
    assert "Vastgehouden, niet omgezet" in dutch.locator("#timeline-held").inner_text()

    # Still held: not mapped, no release line.
    event = load_sample("referral")
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = "ZD100000079"
    waiting = make_message(destination_id="noord", status="held", payload=b"", message_type="")
    stored = make_event(id=event["event_id"], zd_number=event["zd_number"], payload=event)
    live.call(live.engine.store.accept_event(stored, [waiting]))
    support.goto(f"/messages/{waiting.id}")
    assert f"Held, not mapped; MSH-10 {waiting.control_id}" in (
        support.locator("#timeline-held").inner_text()
    )
    assert support.locator("#timeline-released, #timeline-mapped").count() == 0

    support.goto(f"/messages/{referral}")  # never held: mapped at its creation, as before
    delivered = live.call(live.engine.store.get_message(referral))
    assert delivered is not None
    mapped = support.locator("#timeline-mapped")
    assert mapped.locator("time").inner_text() == local_time(delivered.created_at, zone)
    assert f"Mapped as {delivered.version} ({delivered.message_type})" in mapped.inner_text()
    assert support.locator("#timeline-held, #timeline-released").count() == 0
