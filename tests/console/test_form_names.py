"""A refused form marks the field it refused, and a control repeated on a page is named by
what it acts on (docs/console.md): in process, from the HTML each page answers.

console.js puts the keyboard's focus on the first control marked ``aria-invalid``; a refusal
that marks none leaves it on the page's top, however clearly the alert says "see beside the
fields below". A screen reader that lists a page's form controls or links offers each by its
accessible name: five "Take this role away" buttons, or links named by a timestamp, do not say
which is which.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.clock import ManualClock
from integrator.engine import Engine
from tests.conftest import load_sample
from tests.console.test_saved_searches import post, signed_in
from tests.http.support import MAKER
from tests.integrator.support import destination, settings_for

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    for dest_id, port in (("lab-west", 2599), ("lab-oost", 2598)):
        config = destination(dest_id, port, providers=[dest_id])
        (settings.destinations_dir / f"{dest_id}.yaml").write_text(
            dump_destination(config), encoding="utf-8"
        )
    started = Engine(settings, clock=ManualClock(START))
    await started.start()
    yield started
    await started.stop()


@dataclass
class Control:
    """A button, link, select or (not hidden) input: its attributes, its accessible name and
    what it does (a link's address; a form control's form and name, a button's value)."""

    tag: str
    attrs: dict[str, str]
    does: str
    text: list[str] = field(default_factory=list)
    name: str = ""


class Page(HTMLParser):
    """The controls of a page in document order, named as a browser names them here: by
    ``aria-label``, else by the ``<label for>`` of their id, else (buttons, links) by their
    text. The console's templates use no other way of naming."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.controls: list[Control] = []
        self.ids: set[str] = set()
        self._labels: dict[str, list[str]] = {}
        self._label: list[str] | None = None
        self._open: Control | None = None
        self._action = ""
        self.feed(text)
        self.close()
        for control in self.controls:
            own = " ".join(" ".join(control.text).split())
            label = " ".join(" ".join(self._labels.get(control.attrs.get("id", ""), [])).split())
            control.name = control.attrs.get("aria-label") or label or own

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "form":
            self._action = values.get("action", "")
        elif tag == "label" and "for" in values:
            self._label = self._labels.setdefault(values["for"], [])
        elif tag == "a" and "href" in values:
            self._open = Control(tag, values, values["href"])
            self.controls.append(self._open)
        elif tag == "button":
            does = f"{self._action} {values.get('name', '')}={values.get('value', '')}"
            self._open = Control(tag, values, does)
            self.controls.append(self._open)
        elif tag in ("input", "select") and values.get("type") != "hidden":
            self.controls.append(Control(tag, values, f"{self._action} {values.get('name')}"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label = None
        elif tag in ("a", "button"):
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._label.append(data)
        if self._open is not None:
            self._open.text.append(data)

    def by_id(self, fid: str) -> Control:
        [found] = [c for c in self.controls if c.attrs.get("id") == fid]
        return found

    def refused(self) -> list[str]:
        """The ids of the controls marked refused, in document order (the first is focused)."""
        return [c.attrs["id"] for c in self.controls if c.attrs.get("aria-invalid") == "true"]

    def same_names(self) -> dict[str, set[str]]:
        """Accessible names shared by controls that do different things."""
        doing: dict[str, set[str]] = {}
        for control in self.controls:
            doing.setdefault(control.name, set()).add(control.does)
        return {name: does for name, does in doing.items() if len(does) > 1}


def refused_beside(answer: httpx.Response, fid: str, error_id: str) -> Page:
    """The page of a refused form, whose first refused control is ``fid``, described by the
    refusal ``error_id`` shown on the page."""
    assert answer.status_code in (403, 422), answer.text
    page = Page(answer.text)
    assert page.refused()[:1] == [fid], (fid, page.refused())
    assert error_id in page.by_id(fid).attrs.get("aria-describedby", "").split()
    assert error_id in page.ids
    return page


async def test_a_refused_form_marks_the_field_it_refused(engine: Engine) -> None:
    anna = await engine.access.invite(MAKER, "anna@example.org", [Grant(Role.RESEND, "CARD")])
    assert anna.person_id is not None
    grants = (Grant(Role.ADMIN), Grant(Role.DESTINATIONS))
    async with signed_in(engine, "ada@example.org", *grants) as ada:
        no_role = await post(ada, "/people/invite", {"email": "bo@example.org"})
        crad = {"role": ["viewer", "resend"], "cluster": ["CARD", "CRAD"]}
        invite_crad = await post(ada, "/people/invite", {"email": "bo@example.org", **crad})
        # Roles Ada may give a token (she holds no resend): the cluster is what is refused.
        token_crad = await post(
            ada,
            "/tokens",
            {"name": "lab-feed", "role": ["viewer", "viewer"], "cluster": crad["cluster"]},
        )
        person = f"/people/{anna.person_id}"
        grants_crad = await post(ada, f"{person}/grants", {**crad, "reason": "moves"})
        grants_blank = await post(ada, f"{person}/grants", {"role": "viewer", "reason": " "})
        drop = {"role": "resend", "cluster": "CARD", "reason": " "}
        drop_blank = await post(ada, f"{person}/deactivate-role", drop)
        gone_blank = await post(ada, f"{person}/deactivate", {"reason": " "})
        pause = {"enabled": "false", "reason": " "}
        dashboard_blank = await post(ada, "/destinations/lab-oost/enabled", pause)
        page_blank = await post(ada, "/destinations/lab-oost/state", pause)

    refused_beside(no_role, "invite-role-0", "grants-error")
    # A cluster no destination is in: the row that names it, not the one that is fine.
    assert refused_beside(invite_crad, "invite-cluster-1", "grants-error").refused() == [
        "invite-cluster-1"
    ]
    refused_beside(token_crad, "token-cluster-1", "grants-error")
    refused_beside(grants_crad, "grants-cluster-1", "grants-refused")
    assert refused_beside(grants_blank, "grants-reason", "grants-refused").refused() == [
        "grants-reason"
    ]
    refused_beside(drop_blank, "drop-1", "drop-1-refused")
    refused_beside(gone_blank, "deactivate-reason", "deactivate-refused")
    # A pause without a reason: its form again, the refusal beside that tile's reason alone.
    assert refused_beside(
        dashboard_blank, "reason-lab-oost", "reason-lab-oost-error"
    ).refused() == ["reason-lab-oost"]
    assert "a reason is required" in dashboard_blank.text
    refused_beside(page_blank, "state-reason", "state-reason-error")
    # Nothing was done.
    assert engine.catalog.destinations["lab-oost"].enabled
    found = await engine.store.get_person(email="anna@example.org")
    assert found is not None
    assert {f"{g.role}@{g.cluster}" for g in found.grants if g.active} == {"resend@CARD"}
    assert await engine.store.get_person(email="bo@example.org") is None
    assert "lab-feed" not in {t.name for t in await engine.store.list_tokens()}


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_controls_repeated_on_a_page_are_named_by_what_they_act_on(
    engine: Engine, lang: str
) -> None:
    anna = await engine.access.invite(
        MAKER,
        f"anna.{lang}@example.org",
        [Grant(Role.RESEND, "CARD"), Grant(Role.VIEWER, "CARD"), Grant(Role.PREVIEW, "CARD")],
    )
    assert anna.person_id is not None
    for name in ("lab-feed", "his-feed"):
        await engine.access.create_token(MAKER, f"{name}-{lang}", [Grant(Role.VIEWER, "CARD")])
    event = load_sample("referral")
    event["provider"]["id"] = "lab-west"
    for n in (1, 2):
        event["event_id"] = f"6f1c2a4e-8b1d-4a53-9d0e-3c2b1a00000{n}"
        await engine.intake.submit(json.dumps(event), source="cli")
    grants = (Grant(Role.ADMIN), Grant(Role.DESTINATIONS), Grant(Role.RESEND))
    async with signed_in(engine, f"ada.{lang}@example.org", *grants, lang=lang) as ada:
        pages = {
            url: Page((await ada.get(url)).text)
            for url in (
                "/",
                f"/people/{anna.person_id}",
                "/tokens",
                "/messages?destination=lab-west",
            )
        }

    for url, page in pages.items():
        assert not page.same_names(), (url, page.same_names())
    names = {url: Counter(c.name for c in page.controls) for url, page in pages.items()}
    english = lang == "en"
    expected = {
        "/": (
            ["Reason for pausing Lab West", "Pause Lab West"]
            if english
            else ["Reden om Lab West te pauzeren", "Lab West pauzeren"]
        ),
        f"/people/{anna.person_id}": (
            ["Reason for taking away resend@CARD", "Take this role away: resend@CARD"]
            if english
            else ["Reden om resend@CARD in te trekken", "Deze rol intrekken: resend@CARD"]
        ),
        "/tokens": (
            [f"Reason for revoking lab-feed-{lang}", f"Revoke lab-feed-{lang}"]
            if english
            else [f"Reden om lab-feed-{lang} in te trekken", f"lab-feed-{lang} intrekken"]
        ),
    }
    for url, said in expected.items():
        for name in said:
            assert names[url][name] == 1, (url, name, sorted(names[url]))
    opened = [
        c.name
        for c in pages["/messages?destination=lab-west"].controls
        if c.attrs.get("href", "").startswith("/messages/") and c.text
    ]
    start = "Open message " if english else "Bericht "
    assert len([n for n in opened if n.startswith(start)]) == 2, opened


def test_every_search_field_holds_no_more_than_its_page_takes() -> None:
    """A term longer than the page takes would be refused on a bare page, the form and the
    other terms lost (a pasted line, say): the browser stops the typing at the same bound."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "integrator" / "console" / "templates"
    for name in ("messages.html", "events.html", "rejected.html", "deadletters.html"):
        text = (templates / name).read_text(encoding="utf-8")
        for tag in re.findall(r'<input [^>]*type="text"[^>]*>', text):
            assert "maxlength=" in tag, (name, tag)
