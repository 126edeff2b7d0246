"""A destination's page and forms, request by request against a real engine (no browser): a
test message goes out once per form and its result is a page of its own (a reload sends
nothing); a refused save keeps the reason typed with the rest; a rollback the access rules
refuse names the rule; an id that exists already is refused beside the *Id* field.

The world: ``lab-west`` in CARD (serving provider ``lab-west``, its port a receiver that
answers AA) and ``lab`` in LAB (serving ``lab-only``).
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_refusals import EXISTING_LAB_WEST, beside, problems
from tests.console.test_saved_searches import ORIGIN, csrf, post, signed_in
from tests.integrator.support import destination, settings_for


@pytest.fixture
async def engine(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    for config in (
        destination("lab-west", receiver.port, providers=["lab-west"]),
        destination("lab", receiver.port, providers=["lab-only"], cluster="LAB"),
    ):
        path = settings.destinations_dir / f"{config.id}.yaml"
        path.write_text(dump_destination(config), encoding="utf-8")
    started = Engine(settings)
    await started.start()
    yield started
    await started.stop()


async def _tests_audited(engine: Engine) -> int:
    entries = await engine.store.list_audit(target="lab-west", limit=1000)
    return sum(e.action == "destination.test" for e in entries)


def _test_form(page: httpx.Response) -> dict[str, str]:
    """The *Send a test message* form's fields as the page holds them."""
    found = re.search(r'name="once" value="([^"]*)"', page.text)
    assert found is not None and found[1], page.text
    return {"csrf": csrf(page.text), "once": found[1], "event_type": "referral"}


async def test_a_test_message_goes_out_once_and_a_reload_only_shows_its_result(
    engine: Engine, receiver: MllpReceiver
) -> None:
    async with signed_in(engine, "pia@example.org", Grant(Role.PREVIEW)) as pia:
        form = _test_form(await pia.get("/destinations/lab-west"))
        sent = await pia.post("/destinations/lab-west/test", data=form, headers=ORIGIN)
        assert sent.status_code == 303, sent.text  # Post/Redirect/Get
        result_at = sent.headers["location"]
        assert re.fullmatch(r"/destinations/lab-west/tested/[0-9a-f]+", result_at), result_at
        assert (receiver.message_count, await _tests_audited(engine)) == (1, 1)

        for _ in range(2):  # the result page, then its reload: shown, nothing sent again
            shown = await pia.get(result_at)
            assert shown.status_code == 200, shown.text
            assert '<dd data-figure="ack-code">AA</dd>' in shown.text
            assert 'id="once-again"' not in shown.text
        assert (receiver.message_count, await _tests_audited(engine)) == (1, 1)

        # The same form posted again (Back and submit, a second click): its first result.
        again = await pia.post("/destinations/lab-west/test", data=form, headers=ORIGIN)
        assert again.status_code == 303 and again.headers["location"] == f"{result_at}?again=1"
        said = html.unescape((await pia.get(again.headers["location"])).text)
        assert "This test message was already sent at" in said
        assert "by person:pia@example.org; nothing was sent again" in said
        assert '<dd data-figure="ack-code">AA</dd>' in said
        assert (receiver.message_count, await _tests_audited(engine)) == (1, 1)

        # A token of another destination's form sends nothing here.
        other = _test_form(await pia.get("/destinations/lab"))
        refused = await pia.post("/destinations/lab-west/test", data=other, headers=ORIGIN)
        assert refused.status_code == 422 and "no longer valid" in refused.text
        # The result page shows a new form, with a token of its own: a new test is a new post.
        fresh = _test_form(await pia.get(result_at))
        assert fresh["once"] != form["once"]
        second = await pia.post("/destinations/lab-west/test", data=fresh, headers=ORIGIN)
        assert second.status_code == 303 and second.headers["location"] != result_at
    assert (receiver.message_count, await _tests_audited(engine)) == (2, 2)


async def test_a_refused_test_message_sends_nothing_and_its_form_can_be_posted_again(
    engine: Engine, receiver: MllpReceiver
) -> None:
    await engine.admin.set_enabled("lab-west", False, actor="local:root", reason="storing")
    async with signed_in(engine, "pia@example.org", Grant(Role.PREVIEW), lang="nl") as pia:
        form = _test_form(await pia.get("/destinations/lab-west"))
        refused = await pia.post("/destinations/lab-west/test", data=form, headers=ORIGIN)
        assert refused.status_code == 422, refused.text
        assert "gepauzeerd" in html.unescape(refused.text)
        # Said beside the form, whose box sends one anyway: not an error page without it.
        assert 'id="test-refused"' in refused.text
        assert 'id="test-even-if-paused"' in refused.text
        assert receiver.message_count == 0
        anyway = {**form, "even_if_paused": "true"}  # the same token: released by the refusal
        sent = await pia.post("/destinations/lab-west/test", data=anyway, headers=ORIGIN)
        assert sent.status_code == 303, sent.text
    assert receiver.message_count == 1


def _reason_shown(answer: httpx.Response) -> str:
    found = re.search(r'<input id="f-reason" name="reason"[^>]*value="([^"]*)"', answer.text)
    assert found is not None, answer.text
    return html.unescape(found[1])


async def test_a_refused_save_keeps_the_reason_typed_with_the_rest(engine: Engine) -> None:
    typed = {"revision": "1", "name": "Lab West (LIS)", "port": "twelve", "reason": "new LIS"}
    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as otto:
        invalid = await post(otto, "/destinations/lab-west/edit", typed)
        assert invalid.status_code == 422, invalid.text
        assert "port: must be a whole number from 1 to 65535" in beside(invalid, "port")
        assert _reason_shown(invalid) == "new LIS"
        assert 'name="name" type="text" value="Lab West (LIS)"' in invalid.text

        # A reason longer than the history takes: refused beside it, the rest kept.
        long = {**typed, "port": "2600", "reason": "x" * 1001}
        too_long = await post(otto, "/destinations/lab-west/edit", long)
        assert too_long.status_code == 422, too_long.text
        assert beside(too_long, "reason") == "reason: at most 1000 characters"
        assert re.search(r'<input id="f-reason" [^>]*aria-invalid="true"', too_long.text)
        assert 'value="Lab West (LIS)"' in too_long.text and 'value="2600"' in too_long.text

        # Changed since the form was opened (409): the reason stays with the person's changes.
        await engine.admin.set_enabled("lab-west", False, actor="local:root", reason="storing")
        changed = await post(otto, "/destinations/lab-west/edit", {**typed, "port": "2600"})
        assert changed.status_code == 409, changed.text
        assert _reason_shown(changed) == "new LIS"
        assert 'value="Lab West (LIS)"' in changed.text
    config, _ = await engine.admin.get("lab-west")
    assert config.name == "Lab West"  # nothing saved


async def test_a_rollback_the_access_rules_refuse_names_the_rule(engine: Engine) -> None:
    admin = engine.admin
    shared = await admin.patch("lab", {"providers": ["lab-only", "lab-west"]}, actor="local:root")
    await admin.patch("lab", {"providers": ["lab-only"]}, actor="local:root")
    revisions = len(await admin.history("lab"))
    form = {"revision": str(shared.revision), "reason": "undo the undo"}
    async with signed_in(engine, "lars@example.org", Grant(Role.DESTINATIONS, "LAB")) as lars:
        for lang, rule in (
            ("en", "provider lab-west is served by a destination outside your clusters; ask"),
            ("nl", "zorgaanbieder lab-west wordt bediend door een bestemming buiten je clusters"),
        ):
            lars.cookies.set("integrator-lang", lang)
            refused = await post(lars, "/destinations/lab/rollback", form)
            assert refused.status_code == 403, refused.text
            assert rule in problems(refused)
    assert len(await admin.history("lab")) == revisions  # nothing rolled back
    assert engine.catalog.destinations["lab"].providers == ("lab-only",)


async def test_a_blank_rollback_reason_is_refused_beside_its_revisions_field(
    engine: Engine,
) -> None:
    """Spaces pass the browser's ``required``: the history comes back (422) with the refusal
    beside that revision's reason, not a bare page that loses the history; each revision's
    field is named by what it acts on."""
    await engine.admin.set_enabled("lab-west", False, actor="local:root")
    await engine.admin.set_enabled("lab-west", True, actor="local:root")
    revisions = len(await engine.admin.history("lab-west"))
    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as otto:
        shown = await otto.get("/destinations/lab-west/history")
        refused = await post(
            otto, "/destinations/lab-west/rollback", {"revision": "1", "reason": "   "}
        )
    assert 'aria-label="Reason for rolling back to revision 1"' in shown.text
    assert refused.status_code == 422, refused.text
    assert 'id="rollback-reason-1-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text and "<ol" in refused.text  # the history
    assert len(await engine.admin.history("lab-west")) == revisions  # nothing rolled back


async def test_an_id_that_exists_already_is_refused_beside_the_id(engine: Engine) -> None:
    form = {**EXISTING_LAB_WEST, "reason": "second lab"}
    async with signed_in(engine, "otto@example.org", Grant(Role.DESTINATIONS)) as otto:
        refused = await post(otto, "/destinations-new", form)
    assert refused.status_code == 422, refused.text
    assert beside(refused, "id") == (
        "id: destination lab-west exists already; open it and edit it to change it"
    )
    assert re.search(r'<input id="f-id" name="id"[^>]*aria-invalid="true"', refused.text)
    assert "exists already" not in " ".join(
        re.findall(r'<p class="problem"[^>]*>(.*?)</p>', refused.text, re.S)
    )
    assert _reason_shown(refused) == "second lab"
