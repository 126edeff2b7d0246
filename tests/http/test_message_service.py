"""``integrator.message_service`` on its own: the rules the API's message routes and the
console's message pages share, asked directly with identities and domain values (no HTTP).

The destination ``noord`` lies in cluster ``CARD`` (``tests.http.conftest``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from deadletter import ResendRefused, UnknownMessageId
from integrator.access import Grant, Role
from integrator.access.permissions import Identity, IdentityKind, Permission
from integrator.clusters import ClusterScope, NotPermitted
from integrator.engine import Engine
from integrator.message_service import (
    MessageNotFound,
    MessageTerms,
    check_resend,
    find_messages,
    read_message,
    resend_message,
    visible_message,
)
from integrator.patient_views import PATIENT_DATA_VIEW
from integrator.store import AuditFilter, AuditRecord
from tests.http.conftest import BSN, submit

P = Permission
SOURCE = "192.0.2.7"


def token(name: str, *grants: Grant) -> Identity:
    return Identity(
        kind=IdentityKind.TOKEN, id=name, display=f"token:{name}", grants=frozenset(grants)
    )


SUPPORT_CARD = token("support-card", Grant(Role.RESEND, "CARD"))
SUPPORT_RAD = token("support-rad", Grant(Role.RESEND, "RAD"))
VIEWER_CARD = token("viewer-card", Grant(Role.VIEWER, "CARD"))


async def views(engine: Engine) -> list[AuditRecord]:
    return await engine.store.list_audit(AuditFilter(action=PATIENT_DATA_VIEW))


async def test_a_message_outside_the_callers_clusters_is_refused_as_an_unknown_one(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    elsewhere = ClusterScope(SUPPORT_RAD, P.PATIENT_DATA_READ)

    with pytest.raises(MessageNotFound) as outside:
        await read_message(engine, elsewhere, message_id, source=SOURCE)
    with pytest.raises(MessageNotFound) as unknown:
        await read_message(engine, elsewhere, "no-such-message", source=SOURCE)
    assert str(outside.value) == str(unknown.value) == "no message with that id"
    with pytest.raises(MessageNotFound):
        await visible_message(engine, ClusterScope(SUPPORT_RAD, P.MESSAGES_READ), message_id)
    with pytest.raises(MessageNotFound):
        await resend_message(
            engine, ClusterScope(SUPPORT_RAD, P.MESSAGES_RESEND), message_id, reason="GP called"
        )
    assert await views(engine) == []  # nothing was shown, so no view is recorded
    assert await engine.store.list_resends(message_id) == (None, [])

    found = await find_messages(
        engine, elsewhere, MessageTerms(zd_number=referral_data["zd_number"]), limit=10
    )
    assert found == []  # listings hold only the caller's clusters
    assert await visible_message(engine, ClusterScope(SUPPORT_CARD, P.MESSAGES_READ), message_id)


async def test_a_message_seen_without_the_permission_there_is_not_permitted(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    with pytest.raises(NotPermitted, match=r"^this needs the patient_data\.read permission in"):
        await read_message(
            engine, ClusterScope(VIEWER_CARD, P.PATIENT_DATA_READ), message_id, source=SOURCE
        )
    with pytest.raises(NotPermitted) as refused:
        await resend_message(
            engine, ClusterScope(VIEWER_CARD, P.MESSAGES_RESEND), message_id, reason="GP called"
        )
    assert str(refused.value) == "this needs the messages.resend permission in cluster CARD"
    assert await views(engine) == []


async def test_a_full_read_is_recorded_under_the_identity_with_its_source(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    reading = await read_message(
        engine, ClusterScope(SUPPORT_CARD, P.PATIENT_DATA_READ), message_id, source=SOURCE
    )

    assert reading.to_json()["event"]["patient_bsn"] == BSN
    assert reading.receiver_text  # support staff may read the receiver's words in ACKs
    [view] = await views(engine)
    assert (view.actor, view.action, view.target) == (
        "token:support-card",
        "patient_data.view",
        message_id,
    )
    assert view.details == {
        "view": "message",
        "bsn_hash": engine.settings.bsn_hash(BSN),
        "event_id": reading.message.event_id,
        "source": SOURCE,
    }


async def test_a_search_by_bsn_is_recorded_with_the_keyed_hash_never_the_bsn(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    typed = "999 990 019"  # as read off a letter
    found = await find_messages(
        engine,
        ClusterScope(SUPPORT_CARD, P.PATIENT_DATA_READ),
        MessageTerms(bsn=typed),
        limit=10,
        source=SOURCE,
    )

    assert [m.id for m in found] == [message_id]
    [view] = await views(engine)
    assert (view.actor, view.target) == ("token:support-card", "messages.search")
    assert view.details == {
        "view": "messages.search",
        "bsn_hash": engine.settings.bsn_hash(BSN),
        "found": 1,
        "source": SOURCE,
    }
    recorded = json.dumps([view.actor, view.target, view.reason, view.details])
    assert BSN not in recorded and typed not in recorded
    assert BSN not in repr(MessageTerms(bsn=BSN))  # nor in a traceback


async def test_a_search_by_identifiers_is_not_a_view_of_patient_data(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    found = await find_messages(
        engine,
        ClusterScope(VIEWER_CARD, P.MESSAGES_READ),
        MessageTerms(zd_number=referral_data["zd_number"].lower()),
        limit=10,
        source=SOURCE,
    )
    assert [m.id for m in found] == [message_id]
    assert await views(engine) == []


async def test_a_search_by_bsn_needs_the_patient_data_permission(engine: Engine) -> None:
    with pytest.raises(ValueError, match=r"patient_data\.read"):
        await find_messages(
            engine, ClusterScope(VIEWER_CARD, P.MESSAGES_READ), MessageTerms(bsn=BSN), limit=10
        )
    assert await views(engine) == []


async def test_a_resend_target_outside_the_callers_clusters_is_not_configured(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    message = await engine.store.get_message(message_id)
    assert message is not None
    scope = ClusterScope(SUPPORT_CARD, P.MESSAGES_RESEND)

    check_resend(engine.catalog, scope, [message], None)
    check_resend(engine.catalog, scope, [message], "noord")
    with pytest.raises(ResendRefused, match=r"^to: no configured destination has this id$"):
        check_resend(engine.catalog, scope, [message], "zuid")
    with pytest.raises(UnknownMessageId, match=r"^message_ids: no message has one of these ids$"):
        check_resend(engine.catalog, ClusterScope(SUPPORT_RAD, P.MESSAGES_RESEND), [message], None)
    with pytest.raises(ResendRefused, match=r"^to: no configured destination has this id$"):
        await resend_message(engine, scope, message_id, reason="GP called", to="zuid")
    assert await engine.store.list_resends(message_id) == (None, [])


async def test_a_resend_is_recorded_under_the_identity_with_its_source(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submit(engine, referral_data)
    result = await resend_message(
        engine,
        ClusterScope(SUPPORT_CARD, P.MESSAGES_RESEND),
        message_id,
        reason="GP called",
        source=SOURCE,
    )
    assert result.resent and result.message is not None
    [entry] = await engine.store.list_audit(AuditFilter(action="message.resend"))
    assert (entry.actor, entry.target, entry.reason) == (
        "token:support-card",
        message_id,
        "GP called",
    )
    assert entry.details["source"] == SOURCE
