"""A batch resend reads its messages' bytes a chunk at a time, and keeps none of them.

An audit measured 1.43 GB in the CLI for ``deadletter resend --all`` of 320 dead letters with a
1 MiB PDF each, and the engine's listings and resend jobs read every body of their selection at
once. The broad selections now list no bodies, ``resend`` reads each chunk's (for those sent as
they were), and what it reports holds no bytes once they are stored.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from deadletter import ResendRequest, select_dead_letters, select_for_resend
from integrator.resending import resend_in_store
from integrator.settings import Settings
from integrator.store import Store
from tests.integrator.support import settings_for
from tests.resend.support import Desk


def _dead_letters(desk: Desk, referral_data: dict[str, Any], zd: str, count: int) -> list[str]:
    letters = []
    for n in range(count):
        message_id = desk.submit(referral_data, f"{zd}{n}")
        desk.set_status(message_id, "dead")
        letters.append(message_id)
    return letters


def _settings(desk: Desk) -> Settings:
    return settings_for(
        desk.tmp_path,
        database_url=desk.env["INTEGRATOR_DATABASE_URL"],
        destinations_dir=Path(desk.env["INTEGRATOR_DESTINATIONS_DIR"]),
    )


def test_a_batch_sends_each_original_s_bytes_and_keeps_none(
    desk: Desk, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importlib.import_module("deadletter.resend"), "CHUNK", 2)
    letters = _dead_letters(desk, referral_data, "ZD81000000", 5)
    settings = _settings(desk)

    async def go(store: Store) -> tuple[list[Any], list[Any]]:
        selection = await select_dead_letters(store, every=True)
        request = ResendRequest(reason="HIS back", actor="local:anna", mode="original")
        return list(selection), await resend_in_store(settings, store, selection, request)

    selected, results = desk.with_store(go)
    assert sorted(m.id for m in selected) == sorted(letters)
    assert {m.payload for m in selected} == {b""}  # listed without their bodies
    assert [r.outcome for r in results] == ["resent"] * 5
    for result in results:
        assert result.original.payload == b"" and result.message is not None
        assert result.message.payload == b""  # stored, then let go
        stored, original = desk.message(result.message.id), desk.message(result.original.id)
        assert stored.payload == original.payload and stored.payload.startswith(b"MSH|")


@pytest.mark.parametrize("how", ["named", "named dead letters"])
def test_named_ids_are_selected_without_their_bytes_and_sent_with_them(
    desk: Desk, referral_data: dict[str, Any], how: str
) -> None:
    """An API batch names up to 100,000 ids: each was read whole, one by one, before anything
    went out. Now named ones are listed bare too, and their chunk's bytes read to send them."""
    letters = _dead_letters(desk, referral_data, "ZD82000000", 3)
    settings = _settings(desk)

    async def go(store: Store) -> tuple[list[Any], list[Any]]:
        if how == "named":
            selection = await select_for_resend(store, message_ids=letters)
        else:
            selection = await select_dead_letters(store, message_ids=letters)
        request = ResendRequest(reason="GP called", actor="local:anna", mode="original")
        return list(selection), await resend_in_store(settings, store, selection, request)

    selected, results = desk.with_store(go)
    assert [m.id for m in selected] == letters
    assert {m.payload for m in selected} == {b""}
    assert [r.outcome for r in results] == ["resent"] * 3
    for result in results:
        assert result.message is not None
        stored, original = desk.message(result.message.id), desk.message(result.original.id)
        assert stored.payload == original.payload and stored.payload.startswith(b"MSH|")
