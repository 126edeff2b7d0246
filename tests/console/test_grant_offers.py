"""The grant rows of the invitation, person and token forms offer what the access service
would take from the person filling them in, and say beside the rows why a role is not offered
or where only it is (the service's own refusal: the page holds no rule); a person or admin of
one cluster finds that cluster filled in, and a row left with it and no role is a blank row;
a token refused for all clusters names what the person holds. Request by request against a
real engine (destination ``noord`` in cluster CARD)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_refusals import beside
from tests.console.test_saved_searches import post, signed_in


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


def _options(page: str, select_id: str) -> list[str]:
    found = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert found, page
    return re.findall(r'<option value="([^"]*)"', found[1])


def _offers(page: str, prefix: str) -> dict[str, str]:
    """What is said beside the rows, by role."""
    found = re.search(rf'<ul class="hint" id="{prefix}-offers">(.*?)</ul>', page, re.S)
    assert found, page
    said = re.findall(r'<li data-role="([^"]+)">(.*?)</li>', found[1], re.S)
    return {role: html.unescape(text) for role, text in said}


def _clusters(page: str, prefix: str) -> list[str]:
    return re.findall(rf'id="{prefix}-cluster-\d+" name="cluster" [^>]*value="([^"]*)"', page)


async def test_an_admin_without_resend_is_not_offered_it_and_is_told_why(engine: Engine) -> None:
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        page = (await ada.get("/people")).text
        options = _options(page, "invite-role-0")
        assert "resend" not in options, options
        assert {"viewer", "destinations", "preview", "reports", "admin"} <= set(options)
        said = _offers(page, "invite")
        assert said["resend"].startswith(
            "resend is not offered: resend reads patient data: only someone who holds resend "
            "there gives it, so you may not give resend@*"
        ), said
        assert 'aria-describedby="invite-offers"' in page
        assert _clusters(page, "invite") == [""] * 6  # all clusters may be given: none filled
        # A forged form is refused by the service all the same, and nobody is invited.
        forged = await post(
            ada, "/people/invite", {"email": "mallory@example.org", "role": "resend"}
        )
        assert forged.status_code == 403, forged.text
        assert "you may not give resend@*" in beside(forged, "grants")
    assert await engine.store.get_person(email="mallory@example.org") is None


async def test_a_one_cluster_admin_gets_their_cluster_filled_in(engine: Engine) -> None:
    grants = (Grant(Role.ADMIN, "CARD"), Grant(Role.RESEND, "CARD"))
    async with signed_in(engine, "cas@example.org", *grants, lang="nl") as cas:
        page = (await cas.get("/people")).text
        assert "resend" in _options(page, "invite-role-0")  # held in CARD: given there
        said = _offers(page, "invite")
        assert said["resend"] == "resend: alleen voor CARD", said
        assert said["intake"].startswith("intake wordt niet aangeboden: "), said
        assert "intake" not in _options(page, "invite-role-0")
        assert _clusters(page, "invite") == ["CARD"] * 6
        # The form as the browser sends it: one row filled in, five left with the cluster.
        sent = await post(
            cas,
            "/people/invite",
            {
                "email": "bo@example.org",
                "role": ["resend", "", "", "", "", ""],
                "cluster": ["CARD"] * 6,
            },
        )
        assert sent.status_code == 200, sent.text  # the link, shown once
    bo = await engine.store.get_person(email="bo@example.org")
    assert bo is not None
    assert [(g.role, g.cluster) for g in bo.grants] == [("resend", "CARD")]


async def test_a_one_cluster_persons_token_is_for_their_cluster(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND, "CARD")) as sam:
        page = (await sam.get("/tokens")).text
        assert _clusters(page, "token") == ["CARD"] * 6
        assert _options(page, "token-role-0") == ["", "resend"]
        assert _offers(page, "token")["resend"] == "resend: only for CARD"
        made = await post(
            sam,
            "/tokens",
            {"name": "sam-cli", "role": ["resend", "", ""], "cluster": ["CARD"] * 3},
        )
        assert made.status_code == 200, made.text
        # Emptied (all clusters): refused, naming what the person holds.
        wide = await post(sam, "/tokens", {"name": "sam-cli2", "role": "resend", "cluster": ""})
        assert wide.status_code == 403, wide.text
        assert beside(wide, "grants") == (
            "a token of your own holds only grants you hold yourself, not resend@*; you hold "
            "resend@CARD"
        )
    tokens = await engine.store.list_tokens()
    assert [(t.name, [(g.role, g.cluster) for g in t.grants]) for t in tokens] == [
        ("sam-cli", [("resend", "CARD")])
    ]
