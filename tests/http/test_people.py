"""People through the HTTP API (docs/access.md): invite, accept, grants, taking away, clusters.

A real engine and store; the invited person accepts with the service, as the console will, and
signs in with a recovery code (a TOTP code would need the next 30-second step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.access import Grant, Identity, InvitationInvalid, Role, totp
from integrator.engine import Engine
from tests.access.mailbox import SENDER, mailbox
from tests.http.support import MAKER, add_lab_cluster, api_client, token_for
from tests.integrator.support import settings_for
from tests.services import free_port

PASSWORD = "lange zin als wachtwoord"


def secret_of(link: str) -> str:
    return link.split("#", 1)[1]


async def accept(engine: Engine, link: str) -> list[str]:
    """Accept the invitation as its person would; their recovery codes."""
    start = await engine.access.begin_accept(secret_of(link))
    code = totp.code_at(start.totp_secret, engine.clock.now())
    return (await engine.access.finish_accept(secret_of(link), PASSWORD, code)).recovery_codes


async def signed_in(engine: Engine, email: str, recovery_code: str) -> Identity:
    """The identity of a console session of ``email``."""
    result = await engine.access.login(email, PASSWORD, recovery_code)
    identity = await engine.access.authenticate_session(result.session)
    assert identity is not None
    return identity


def grant(role: str, cluster: str | None = None) -> dict[str, Any]:
    return {"role": role, "cluster": cluster}


async def audit(engine: Engine, action: str) -> list[Any]:
    return [a for a in await engine.store.list_audit(limit=1000) if a.action == action]


async def test_a_person_is_invited_accepts_and_is_managed_through_the_api(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    invited = await api.post(
        "/api/v1/people",
        json={
            "email": "Anna@Example.nl",
            "name": "Anna de Vries",
            "grants": [grant("resend", "CARD"), grant("viewer")],
            "reason": "new support colleague",
        },
    )
    assert invited.status_code == 201, invited.text
    shown = invited.json()
    assert shown["email"] == "anna@example.nl" and shown["sent"] is False
    person_id = shown["person"]
    # No mail server: the link is in the answer, to pass on; it works.
    codes = await accept(engine, shown["link"])

    listed = (await api.get("/api/v1/people")).json()
    [anna] = [p for p in listed if p["id"] == person_id]
    assert anna["status"] == "active" and anna["name"] == "Anna de Vries"
    assert {(g["role"], g["cluster"]) for g in anna["grants"]} == {
        ("resend", "CARD"),
        ("viewer", None),
    }
    assert (await api.get(f"/api/v1/people/{person_id}")).json() == anna

    granted = await api.put(
        f"/api/v1/people/{person_id}/grants",
        json={"grants": [grant("resend", "CARD"), grant("reports", "CARD")], "reason": "reports"},
    )
    assert granted.status_code == 200, granted.text
    assert {g["role"] for g in granted.json()["grants"]} == {"resend", "reports"}

    taken = await api.post(
        f"/api/v1/people/{person_id}/roles/reports/deactivate",
        json={"cluster": "CARD", "reason": "not needed"},
    )
    assert taken.status_code == 200, taken.text
    assert [g["role"] for g in taken.json()["grants"]] == ["resend"]
    assert {g["role"] for g in taken.json()["inactive_grants"]} == {"viewer", "reports"}

    # Signed in, the person makes a token of their own; deactivating the account stops it.
    anna_session = await signed_in(engine, "anna@example.nl", codes[0])
    own = await engine.access.create_token(
        anna_session, "anna-script", [Grant(Role.RESEND, "CARD")]
    )
    async with api_client(engine, own.token) as script:
        assert (await script.get("/api/v1/messages")).status_code == 200
        gone = await api.post(
            f"/api/v1/people/{person_id}/deactivate", json={"reason": "left the team"}
        )
        assert gone.status_code == 200, gone.text
        assert gone.json()["status"] == "deactivated"
        # At once: the next request of the person's token is refused like no token at all.
        refused = await script.get("/api/v1/messages")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"

    # Every change is audited as the token that made it, with where it came from.
    for action, reason in (
        ("person.invite", "new support colleague"),
        ("person.grants", "reports"),
        ("person.role_deactivate", "not needed"),
        ("person.deactivate", "left the team"),
    ):
        [entry] = await audit(engine, action)
        assert entry.actor.startswith("token:test-"), action
        assert entry.target == "person:anna@example.nl" and entry.reason == reason
        assert entry.details["source"] == "127.0.0.1", action
    [invite] = await audit(engine, "person.invite")
    assert "link" not in invite.details and shown["link"] not in repr(invite.details)


async def test_sending_the_invitation_again_replaces_the_link(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    first = (
        await api.post(
            "/api/v1/people", json={"email": "bo@example.nl", "grants": [grant("viewer")]}
        )
    ).json()
    again = await api.post(f"/api/v1/people/{first['person']}/invitation")
    assert again.status_code == 201, again.text
    assert again.json()["link"] != first["link"]
    # The first link stopped working; the new one works.
    with pytest.raises(InvitationInvalid, match="replaced by a newer one"):
        await engine.access.begin_accept(secret_of(first["link"]))
    await accept(engine, again.json()["link"])
    # Accepted: no more invitations for this person.
    done = await api.post(f"/api/v1/people/{first['person']}/invitation")
    assert done.status_code == 422
    # Said without the address (no error echoes).
    assert done.json() == {
        "detail": "this person is active, not invited: only someone who has not accepted "
        "their invitation yet can be sent it again"
    }
    [entry, *_] = await audit(engine, "person.reinvite")
    assert entry.details["source"] == "127.0.0.1"


async def test_an_admin_of_one_cluster_sees_and_acts_only_there(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    await add_lab_cluster(engine)
    card = (
        await api.post(
            "/api/v1/people",
            json={"email": "carla@example.nl", "grants": [grant("viewer", "CARD")]},
        )
    ).json()["person"]
    both = (
        await api.post(
            "/api/v1/people",
            json={
                "email": "bram@example.nl",
                "grants": [grant("viewer", "CARD"), grant("viewer", "LAB")],
            },
        )
    ).json()["person"]
    lab_admin = await token_for(engine, Grant(Role.ADMIN, "LAB"), name="lab-admin")
    audit_before = len(await engine.store.list_audit(limit=1000))
    async with api_client(engine, lab_admin) as lab:
        # Carla (CARD only) does not exist for LAB's admin; Bram shows with his LAB grant only.
        listed = {p["email"]: p for p in (await lab.get("/api/v1/people")).json()}
        assert set(listed) == {"bram@example.nl"}
        assert listed["bram@example.nl"]["grants"] == [grant("viewer", "LAB")]
        for method, url, body in (
            ("GET", f"/api/v1/people/{card}", None),
            ("POST", f"/api/v1/people/{card}/invitation", None),
            ("PUT", f"/api/v1/people/{card}/grants", {"grants": [grant("viewer", "LAB")]}),
            ("POST", f"/api/v1/people/{card}/deactivate", None),
            ("POST", f"/api/v1/people/{card}/roles/viewer/deactivate", {"cluster": "CARD"}),
        ):
            answer = await lab.request(method, url, json=body)
            assert answer.status_code == 404, (method, url)
            assert answer.json() == {"detail": "no person with that id"}
        # Inviting into CARD, granting there, taking CARD's grant away: refused, naming why.
        into_card = await lab.post(
            "/api/v1/people", json={"email": "dirk@example.nl", "grants": [grant("viewer", "CARD")]}
        )
        assert into_card.status_code == 403
        assert "viewer@CARD" in into_card.json()["detail"]
        everywhere = await lab.put(
            f"/api/v1/people/{both}/grants", json={"grants": [grant("viewer")], "reason": "r"}
        )
        assert everywhere.status_code == 403
        take_card = await lab.post(
            f"/api/v1/people/{both}/roles/viewer/deactivate",
            json={"cluster": "CARD", "reason": "r"},
        )
        assert take_card.status_code == 403
        # Bram also holds a role in CARD: his whole account is not LAB's admin's to end.
        whole = await lab.post(f"/api/v1/people/{both}/deactivate", json={"reason": "x"})
        assert whole.status_code == 403 and "outside your clusters" in whole.json()["detail"]
        assert audit_before == len(await engine.store.list_audit(limit=1000))
        # Within LAB it works, and CARD's grant is left alone.
        changed = await lab.put(
            f"/api/v1/people/{both}/grants",
            json={"grants": [grant("reports", "LAB")], "reason": "reports"},
        )
        assert changed.status_code == 200, changed.text
        # An account with roles in LAB only is LAB's admin's to end.
        lab_only = await lab.post(
            "/api/v1/people", json={"email": "lotte@example.nl", "grants": [grant("viewer", "LAB")]}
        )
        assert lab_only.status_code == 201, lab_only.text
        ended = await lab.post(
            f"/api/v1/people/{lab_only.json()['person']}/deactivate", json={"reason": "left"}
        )
        assert ended.status_code == 200, ended.text
        assert ended.json()["status"] == "deactivated"
    async with api_client(engine) as admin:
        bram = (await admin.get(f"/api/v1/people/{both}")).json()
    assert {(g["role"], g["cluster"]) for g in bram["grants"]} == {
        ("viewer", "CARD"),
        ("reports", "LAB"),
    }


async def test_bad_input_is_refused_naming_the_field_and_rule_and_changes_nothing(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    before = len(await engine.store.list_audit(limit=1000))
    refusals: list[tuple[dict[str, Any], int, Any]] = [
        (
            {"email": "999990019", "grants": [grant("viewer")]},
            422,
            {"detail": "email: not an e-mail address"},
        ),
        ({"email": "e@example.nl", "grants": []}, 422, ["body", "grants"]),
        ({"email": "e@example.nl", "grants": [grant("boss")]}, 422, ["body", "grants", 0, "role"]),
        (
            {"email": "e@example.nl", "grants": [grant("viewer", " ")]},
            422,
            {
                "detail": "cluster: the name of cluster ' ' must not be blank nor begin or end "
                "with white space (leave the cluster out for all clusters)"
            },
        ),
        (
            {"email": "e@example.nl", "grants": [grant("viewer")], "actor": "x"},
            422,
            ["body", "actor"],
        ),
        (
            {"email": "e@example.nl", "name": "x" * 201, "grants": [grant("viewer")]},
            422,
            ["body", "name"],
        ),
        (
            {"email": "e@example.nl", "grants": [grant("viewer")], "reason": "x" * 1001},
            422,
            ["body", "reason"],
        ),
    ]
    for body, status, expected in refusals:
        answer = await api.post("/api/v1/people", json=body)
        assert answer.status_code == status, (body, answer.text)
        if isinstance(expected, dict):
            assert answer.json() == expected
        else:
            assert [e["loc"] for e in answer.json()["detail"]] == [expected], answer.text
        assert "999990019" not in answer.text
    assert await engine.access.list_people(MAKER) == []
    assert len(await engine.store.list_audit(limit=1000)) == before

    made = await api.post(
        "/api/v1/people", json={"email": "e@example.nl", "grants": [grant("viewer")]}
    )
    assert made.status_code == 201
    twice = await api.post(
        "/api/v1/people", json={"email": "E@example.nl", "grants": [grant("viewer")]}
    )
    assert twice.status_code == 409
    assert twice.json()["detail"] == (
        "email: an account or an open invitation already has this e-mail address; someone "
        "invited who has not accepted yet gets a new link when the invitation is sent again"
    )  # the rule, never the address typed
    person = made.json()["person"]
    not_an_id = await api.get("/api/v1/people/not-an-id")  # names nobody: as an unknown id
    assert not_an_id.status_code == 404 and not_an_id.json() == {"detail": "no person with that id"}
    bad_role = await api.post(f"/api/v1/people/{person}/roles/boss/deactivate")
    assert bad_role.status_code == 422 and bad_role.json()["detail"][0]["loc"] == ["path", "role"]
    not_held = await api.post(
        f"/api/v1/people/{person}/roles/admin/deactivate", json={"reason": "r"}
    )
    assert not_held.status_code == 422
    # Without the address (no error echoes).
    assert not_held.json() == {"detail": "this person holds no active grant admin@*"}
    no_grants = await api.put(f"/api/v1/people/{person}/grants", json={"grants": [], "reason": "r"})
    assert no_grants.status_code == 422
    # A change of someone's access says why: without a reason (or a blank one), refused.
    unexplained: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", f"/api/v1/people/{person}/grants", {"grants": [grant("resend")]}),
        ("POST", f"/api/v1/people/{person}/roles/viewer/deactivate", {"reason": "  "}),
        ("POST", f"/api/v1/people/{person}/deactivate", None),
    ]
    for method, url, sent in unexplained:
        answer = await api.request(method, url, json=sent)
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json() == {
            "detail": "reason: a reason is required (it goes into the audit log)"
        }
    assert (await api.get(f"/api/v1/people/{person}")).json()["grants"] == [grant("viewer")]


async def test_people_routes_need_a_token(engine: Engine, api: httpx.AsyncClient) -> None:
    viewer = await token_for(engine, Grant(Role.VIEWER), name="just-a-viewer")
    async with api_client(engine, viewer) as client:
        answer = await client.get("/api/v1/people")
    assert answer.status_code == 403 and "people.manage" in answer.json()["detail"]


async def test_with_a_mail_server_the_invitation_is_mailed_and_the_answer_holds_no_link(
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = settings_for(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from=SENDER,
        smtp_starttls=False,
        public_url="https://integrator.example.nl",
    )
    engine = Engine(settings)
    await engine.start()
    try:
        async with api_client(engine) as api:
            with mailbox(port) as inbox:
                invited = await api.post(
                    "/api/v1/people", json={"email": "anna@example.nl", "grants": [grant("viewer")]}
                )
                assert invited.status_code == 201, invited.text
                assert invited.json()["sent"] is True and "link" not in invited.json()
                link = inbox.link()
                assert link.startswith("https://integrator.example.nl/invitation#")
                assert secret_of(link) not in invited.text
                await accept(engine, link)
            # No mail server: a clear 502, and the person stays invited.
            down = await api.post(
                "/api/v1/people", json={"email": "bo@example.nl", "grants": [grant("viewer")]}
            )
            assert down.status_code == 502
            assert down.json()["detail"].startswith(
                "the person is invited, but the invitation could not be sent: no mail sent "
                f"through 127.0.0.1:{port}"
            )
            [bo] = [
                p for p in (await api.get("/api/v1/people")).json() if p["email"] == "bo@example.nl"
            ]
            assert bo["status"] == "invited"
            # Once mail works again, sending the invitation again delivers a working link.
            with mailbox(port) as inbox:
                again = await api.post(f"/api/v1/people/{bo['id']}/invitation")
                assert again.status_code == 201 and again.json()["sent"] is True
                await accept(engine, inbox.link())
    finally:
        await engine.stop()


async def test_nobody_changes_their_own_roles_through_the_api(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    await add_lab_cluster(engine)
    invited = await api.post(
        "/api/v1/people",
        json={
            "email": "eva@example.nl",
            "grants": [grant("admin", "CARD"), grant("resend", "LAB")],
        },
    )
    eva = invited.json()["person"]
    me = await signed_in(
        engine, "eva@example.nl", (await accept(engine, invited.json()["link"]))[0]
    )
    # Admin in CARD, support in LAB: a token with both is hers (she manages no tokens in LAB).
    own = await engine.access.create_token(
        me, "eva-script", [Grant(Role.ADMIN, "CARD"), Grant(Role.RESEND, "LAB")]
    )
    async with api_client(engine, own.token) as mine:
        for method, path, body in (
            ("PUT", f"/api/v1/people/{eva}/grants", {"grants": [grant("resend", "CARD")]}),
            ("POST", f"/api/v1/people/{eva}/roles/admin/deactivate", {"cluster": "CARD"}),
        ):
            answer = await mine.request(method, path, json={**body, "reason": "mine"})
            assert answer.status_code == 403, (path, answer.text)
            assert "another admin, or the server's CLI" in answer.json()["detail"], path
    shown = (await api.get(f"/api/v1/people/{eva}")).json()
    assert {(g["role"], g["cluster"]) for g in shown["grants"]} == {
        ("admin", "CARD"),
        ("resend", "LAB"),
    }
    assert await audit(engine, "person.grants") == []


async def test_an_invitation_with_several_mistakes_is_refused_naming_each(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """Each refused input in one answer, ``<field>: <rule>`` each; it named the first only."""
    refused = await api.post(
        "/api/v1/people",
        json={"email": "x@localhost", "grants": [grant("intake", "CARD"), grant("viewer", "CRAD")]},
    )
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert "email: not an e-mail address" in detail
    assert "cluster: intake is given for all clusters only" in detail
    assert "cluster: no destination is in cluster CRAD" in detail
    assert await engine.store.get_person(email="x@localhost") is None
    assert await audit(engine, "person.invite") == []


async def test_an_invited_person_says_when_the_link_expires(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """``invitation_expires_at``: when an invited person's link stops working (null for
    anyone else), so an admin can tell an expired link from one not used yet."""
    invited = await api.post(
        "/api/v1/people", json={"email": "link@example.nl", "grants": [grant("viewer")]}
    )
    assert invited.status_code == 201, invited.text
    shown = (await api.get(f"/api/v1/people/{invited.json()['person']}")).json()
    assert shown["invitation_expires_at"] == invited.json()["expires_at"]
    await accept(engine, invited.json()["link"])
    accepted = (await api.get(f"/api/v1/people/{invited.json()['person']}")).json()
    assert accepted["status"] == "active" and accepted["invitation_expires_at"] is None
