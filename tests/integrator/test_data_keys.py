"""Data keys: the setting's format, the sealed envelope, and ``integrator keys generate|rotate``.

Store behaviour on both backends is in tests/store/test_sealing.py; here the CLI runs on a
SQLite store, as an operator would run it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner, Result

from destinations.receiver import MllpReceiver
from integrator.catalog import build_catalog
from integrator.cli import app
from integrator.cli.common import err_console
from integrator.datakeys import DataKeysSettingError, parse_data_keys, sealer_for
from integrator.engine import Engine
from integrator.settings import Settings
from integrator.store import AttemptRecord, AuditFilter, Store
from integrator.store.errors import DataKeyError, TamperedValue, UnknownDataKey
from integrator.store.sealing import MAGIC, DataKey, Sealer, aad
from tests.cli_in_process import make_store
from tests.integrator.support import destination, settings_for
from tests.store.factories import T0, make_event, make_message

SEARCH_KEY = "data-keys-tests-search-key"
BSN = "999990019"  # the sample referral's


def entry(kid: str, key: bytes | None = None) -> str:
    return f"{kid}:{base64.b64encode(key or os.urandom(32)).decode()}"


# -- the setting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", r"set but empty"),
        ("kid1", r"entry 1: give <key id>:<base64 key>, with a colon"),
        ("bad id:" + base64.b64encode(b"k" * 32).decode(), r"entry 1: the key id must be 1-32"),
        ("kid1:not base64!!", r"entry 1 \(key id 'kid1'\): the key is not base64"),
        ("kid1:" + base64.b64encode(b"k" * 16).decode(), r"32 bytes \(256 bits\).*not 16 bytes"),
        # Fixed keys: test ids must be the same in every process that collects them.
        (entry("kid1", b"a" * 32) + ",", r"entry 2 is empty"),
        (
            entry("kid1", b"a" * 32) + "," + entry("kid1", b"b" * 32),
            r"entry 2: the key id 'kid1' appears twice",
        ),
    ],
)
def test_a_malformed_setting_names_the_entry_and_the_rule(value: str, expected: str) -> None:
    with pytest.raises(DataKeysSettingError, match=expected):
        parse_data_keys(value)


def test_the_settings_error_never_shows_the_key() -> None:
    short = base64.b64encode(os.urandom(16)).decode()
    with pytest.raises(ValidationError) as caught:
        Settings(data_keys=f"kid1:{short}")
    assert short not in str(caught.value) and "not 16 bytes" in str(caught.value)
    good = entry("kid1")
    settings = Settings(data_keys=good)
    assert good.split(":")[1] not in repr(settings)
    assert settings.sealer().kids == ("kid1",)


def test_the_first_entry_seals_and_every_entry_opens() -> None:
    old, new = entry("old"), entry("new")
    sealed_old = sealer_for(old).seal(b"MSH|x", b"ctx")
    both = sealer_for(f"{new}, {old}")
    assert both.current_kid == "new"
    assert both.open(sealed_old, b"ctx") == b"MSH|x"
    assert both.seal(b"MSH|x", b"ctx").startswith(MAGIC + bytes([1, 3]) + b"new")


# -- the envelope ----------------------------------------------------------------------------


def test_plain_values_pass_through_and_lookalikes_are_escaped() -> None:
    plain = Sealer()
    assert plain.seal(b"MSH|1", b"a") == b"MSH|1"
    assert plain.seal_text('{"a":1}', b"a") == '{"a":1}'
    hostile = MAGIC + b"\x01\x04kid1" + b"x" * 40
    assert plain.seal(hostile, b"a") != hostile
    assert plain.open(plain.seal(hostile, b"a"), b"a") == hostile
    assert plain.open_text(plain.seal_text("$itg$1$k$AAAA", b"a"), b"a") == "$itg$1$k$AAAA"
    keyed = Sealer([DataKey("kid1", os.urandom(32))])
    assert keyed.open(plain.seal(hostile, b"a"), b"a") == hostile  # written before the key


def test_a_sealed_value_opens_only_with_its_key_in_its_place() -> None:
    key = DataKey("kid1", os.urandom(32))
    sealer = Sealer([key])
    value = sealer.seal_text("Jansen", aad("events", "payload", "e1"))
    assert "Jansen" not in value
    assert sealer.open_text(value, aad("events", "payload", "e1")) == "Jansen"
    with pytest.raises(TamperedValue, match=r"^events\.payload of e2: .*changed or moved"):
        sealer.open_text(value, aad("events", "payload", "e2"))
    with pytest.raises(TamperedValue):
        Sealer([DataKey("kid1", os.urandom(32))]).open_text(value, aad("events", "payload", "e1"))
    with pytest.raises(UnknownDataKey, match="'kid1'"):
        Sealer([DataKey("kid2", os.urandom(32))]).open_text(value, b"")
    with pytest.raises(UnknownDataKey, match="'kid1'"):
        Sealer().open_text(value, b"")
    binary = sealer.seal(b"ACK", b"x")
    with pytest.raises(TamperedValue, match="cut short"):
        sealer.open(binary[:20], b"x")
    with pytest.raises(TamperedValue, match="not base64"):
        sealer.open_text("$itg$1$kid1$***", b"x")
    assert repr(key).count("kid1") == 1 and key.key.hex() not in repr(key)


# -- the commands ----------------------------------------------------------------------------


def cli(env: Mapping[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def env_for(tmp_path: Path, keys: str | None) -> dict[str, str | None]:
    return {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_DATA_KEYS": keys,
        "USER": "operator",
    }


def fill(tmp_path: Path, keys: str | None, count: int) -> list[str]:
    """``count`` events, each with a message and an attempt with an ACK; the message ids."""
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def go() -> list[str]:
        ids = []
        async with await Store.open(url, sealer=sealer_for(keys)) as store:
            for _ in range(count):
                message = make_message()
                await store.accept_event(make_event(), [message])
                tried = AttemptRecord(message.id, 1, T0, 1.0, "retry", "AE", b"MSA|AE", "ACK AE")
                await store.record_attempt(tried, status="retrying", last_error="ACK AE")
                ids.append(message.id)
        return ids

    return asyncio.run(go())


def test_generate_prints_an_entry_the_setting_takes(tmp_path: Path) -> None:
    result = cli(env_for(tmp_path, None), "keys", "generate", "--id", "k2026")
    assert result.exit_code == 0, result.output
    [key] = parse_data_keys(result.stdout.strip())
    assert key.kid == "k2026" and len(key.key) == 32
    again = cli(env_for(tmp_path, None), "keys", "generate", "--id", "k2026").stdout
    assert again != result.stdout
    refused = cli(env_for(tmp_path, None), "keys", "generate", "--id", "no:colons")
    assert refused.exit_code == 2 and "key id" in refused.stderr


def test_generate_never_reuses_an_id_the_setting_or_the_store_has(tmp_path: Path) -> None:
    """A second key under an id the store knows would be taken for the first: what that one
    sealed (also in backups) would not open. Refused naming where the id is; the default id
    takes the day's next free one."""
    old, new = entry("kid1"), entry("kid2")
    fill(tmp_path, old, 1)
    configured = cli(env_for(tmp_path, old), "keys", "generate", "--id", "kid1")
    assert configured.exit_code == 2 and configured.stdout == ""
    assert "key id 'kid1' is already in INTEGRATOR_DATA_KEYS" in configured.stderr
    rotated = cli(env_for(tmp_path, f"{new},{old}"), "keys", "rotate", "--quiet")
    assert rotated.exit_code == 0, rotated.output
    retired = cli(env_for(tmp_path, new), "keys", "generate", "--id", "kid1")
    assert retired.exit_code == 2 and retired.stdout == ""
    assert "key id 'kid1' is already known to the store (retired)" in " ".join(
        retired.stderr.split()
    )
    assert cli(env_for(tmp_path, new), "keys", "generate", "--id", "kid3").exit_code == 0

    today = "k" + datetime.now(UTC).strftime("%Y%m%d")
    fresh = cli(env_for(tmp_path, f"{entry(today)},{new}"), "keys", "generate")
    assert fresh.exit_code == 0, fresh.output
    [key] = parse_data_keys(fresh.stdout.strip())
    assert key.kid == today + "b"


def test_generate_fails_when_the_store_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "store.db").write_bytes(b"not a database, " * 512)
    failed = cli(env_for(tmp_path, None), "keys", "generate", "--id", "kid9")
    assert failed.exit_code == 1 and failed.stdout == ""
    assert "the store's key ids could not be read, so none was generated" in " ".join(
        failed.stderr.split()
    )


def test_rotate_dry_run_counts_then_rotates_with_progress_and_an_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bar is drawn only on a terminal (``progress_bar``): stderr here is one, as for an
    # operator at a shell.
    monkeypatch.setattr(err_console, "_force_terminal", True)
    old, new = entry("kid1"), entry("kid2")
    fill(tmp_path, None, 2)  # written before there was a key
    ids = fill(tmp_path, old, 3)
    env = env_for(tmp_path, f"{new},{old}")

    dry = cli(env, "keys", "rotate", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    counted = json.loads(dry.stdout)
    assert counted["key"] == "kid2" and counted["total"] == 5 * 5  # 5 rows, 5 sealed values each
    assert counted["counts"]["attempts.ack_bytes"] == 5
    assert cli(env, "keys", "rotate", "--dry-run", "--json").stdout == dry.stdout  # wrote nothing

    done = cli(env, "keys", "rotate", "--batch", "4")
    assert done.exit_code == 0, done.output
    assert "25 values sealed with data key kid2" in done.stdout
    assert "sealing" in done.stderr and "25/25" in done.stderr  # the progress bar
    assert "kid1 any more: it may be removed from INTEGRATOR_DATA_KEYS" in done.stdout
    # A backup made before this rotation still holds values under kid1: it is not to be lost.
    assert (
        "keep it in your secret store, with the backups, as long as any backup made before now "
        "is kept: such a backup opens only with it "
        "(docs/operators.md#retired-keys-and-older-backups)"
    ) in done.stdout

    again = cli(env, "keys", "rotate", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["resealed"] == 0

    only_new = env_for(tmp_path, new)
    shown = cli(only_new, "messages", "show", ids[0], "--json")
    assert shown.exit_code == 0, shown.output
    listed = cli(only_new, "keys", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == {
        "keys": [
            {"key": "kid2", "configured": "current", "store": "in use"},
            {"key": "kid1", "configured": None, "store": "retired"},
        ],
        "warnings": [],
    }
    assert cli(env, "keys", "list").stdout.count("retired") == 1

    async def audit() -> list[str]:
        async with await Store.open_existing(
            str(env["INTEGRATOR_DATABASE_URL"]), sealer=sealer_for(new)
        ) as store:
            entries = await store.list_audit(AuditFilter(action="datakey.rotate"))
            return [e.actor for e in entries]

    assert asyncio.run(audit()) == ["local:operator"] * 4  # two runs, a start and an end each


def fill_delivered(tmp_path: Path, keys: str, count: int, *, days_ago: int) -> list[str]:
    """``count`` events with a delivered message each, written ``days_ago`` days back."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    at = datetime.now(UTC) - timedelta(days=days_ago)

    async def go() -> list[str]:
        ids = []
        async with await Store.open(url, sealer=sealer_for(keys), clock=lambda: at) as store:
            for _ in range(count):
                message = make_message()
                assert await store.accept_event(make_event(received_at=at), [message])
                await store.set_status(message.id, "delivered")
                ids.append(message.id)
        return ids

    return asyncio.run(go())


def test_rotate_counts_and_seals_only_payloads_that_retention_left(tmp_path: Path) -> None:
    """A pruned payload is emptied, plain, in a store with keys too: it holds nothing, so the
    dry run does not count it, the rotation leaves it, and the old key is still retired."""
    old, new = entry("kid1"), entry("kid2")
    pruned = fill_delivered(tmp_path, old, 3, days_ago=200)
    [kept] = fill_delivered(tmp_path, old, 1, days_ago=0)
    prune = cli(env_for(tmp_path, old), "prune", "--json")
    assert prune.exit_code == 0, prune.output
    assert json.loads(prune.stdout)["counts"]["messages"] == 3
    env = env_for(tmp_path, f"{new},{old}")

    dry = cli(env, "keys", "rotate", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    counted = json.loads(dry.stdout)
    assert counted["counts"]["messages.payload"] == 1
    assert counted["counts"]["events.payload"] == 1
    assert counted["total"] == 2  # the one message left whole: its payload and its event's

    done = cli(env, "keys", "rotate", "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["resealed"] == 2 and report["left"] == 0 and report["retired"] == ["kid1"]

    only_new = env_for(tmp_path, new)
    for message_id in (*pruned, kept):
        shown = cli(only_new, "messages", "show", message_id, "--json")
        assert shown.exit_code == 0, shown.output
        assert (json.loads(shown.stdout)["pruned_at"] is None) == (message_id == kept)


def test_a_backup_from_before_a_rotation_asks_for_the_retired_key(tmp_path: Path) -> None:
    """The operator followed the rotation to the end and took kid1 out of the setting; a
    backup made before still holds values under kid1, and its refusal says where to look."""
    old, new = entry("kid1"), entry("kid2")
    ids = fill(tmp_path, old, 1)
    copy = tmp_path / "before-rotation.db"
    backed_up = cli(env_for(tmp_path, old), "backup", str(copy), "--quiet")
    assert backed_up.exit_code == 0, backed_up.output
    rotated = cli(env_for(tmp_path, f"{new},{old}"), "keys", "rotate", "--quiet")
    assert rotated.exit_code == 0 and "kid1 any more" in rotated.stdout
    assert cli(env_for(tmp_path, new), "messages", "show", ids[0]).exit_code == 0

    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "store.db").write_bytes(copy.read_bytes())
    refused = cli(env_for(restored, new), "messages", "list")
    assert refused.exit_code == 2
    assert "data key 'kid1' and INTEGRATOR_DATA_KEYS lacks it: configure it" in refused.stderr
    assert (
        "A store restored from a backup made before a rotation needs the keys it was sealed "
        "with, retired since: take them from where the retired keys are kept with the backups "
        "(docs/operators.md#retired-keys-and-older-backups)"
    ) in " ".join(refused.stderr.split())
    for key in (old, new):
        assert key.split(":")[1] not in refused.output
    with_retired = cli(env_for(restored, f"{new},{old}"), "messages", "show", ids[0])
    assert with_retired.exit_code == 0, with_retired.output


def test_rotate_without_a_key_or_with_a_wrong_one_is_refused(tmp_path: Path) -> None:
    fill(tmp_path, entry("kid1"), 1)
    unset = cli(env_for(tmp_path, None), "keys", "rotate")
    assert unset.exit_code == 2 and "INTEGRATOR_DATA_KEYS is not set" in unset.stderr
    wrong_key = entry("kid1")
    wrong = cli(env_for(tmp_path, wrong_key), "keys", "rotate", "--dry-run")
    assert wrong.exit_code == 2
    assert "the key under id 'kid1' is not the key" in wrong.stderr
    assert wrong_key.split(":")[1] not in wrong.output


def test_submit_refused_by_the_stores_keys_exits_2_with_the_refusal(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """``submit`` says a refusal of the configured data keys or search key as every command
    does (``with_store``): its own text, exit 2, never a key; nothing is written."""
    old = entry("kid1")
    first = tmp_path / "first.json"
    first.write_text(json.dumps(referral_data), encoding="utf-8")
    make_store(f"sqlite:///{tmp_path / 'store.db'}")  # as the engine's first start made it
    accepted = cli(env_for(tmp_path, old), "submit", str(first))  # registers both keys
    assert accepted.exit_code == 0, accepted.output
    sample = tmp_path / "event.json"
    sample.write_text(json.dumps({**referral_data, "event_id": str(uuid.uuid4())}))
    wrong_key = entry("kid1")
    cases = [
        (env_for(tmp_path, None), "data key 'kid1' and INTEGRATOR_DATA_KEYS is not set"),
        (env_for(tmp_path, wrong_key), "the key under id 'kid1' is not the key"),
        (
            {**env_for(tmp_path, old), "INTEGRATOR_SEARCH_KEY": "another-search-key-0002"},
            "INTEGRATOR_SEARCH_KEY: the search key is not the one this store",
        ),
    ]
    for env, refusal in cases:
        submitted = cli(env, "submit", str(sample))
        assert submitted.exit_code == 2, submitted.output
        said = " ".join(submitted.stderr.split())
        assert said.startswith("error: ") and refusal in said, said
        assert "submit failed" not in said and "Error:" not in said  # no type name
        for key in (old, wrong_key, SEARCH_KEY, "another-search-key-0002"):
            assert key.split(":")[-1] not in submitted.output
    listed = cli(env_for(tmp_path, old), "events", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == 1  # the first one only: nothing written since


def test_the_engine_refuses_to_start_with_a_wrong_key(tmp_path: Path) -> None:
    fill(tmp_path, entry("kid1"), 1)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        destinations_dir=tmp_path,
        search_key=SEARCH_KEY,
        data_keys=entry("kid1"),
        http_port=0,
    )
    engine = Engine(settings)

    async def start() -> None:
        try:
            await engine.start()
        finally:
            await engine.stop()

    with pytest.raises(DataKeyError, match="'kid1'"):
        asyncio.run(start())


def database_bytes(directory: Path) -> bytes:
    """The SQLite store's files as they lie on disk, the write-ahead log included."""
    return b"".join(path.read_bytes() for path in sorted(directory.glob("store.db*")))


async def test_the_engine_delivers_sealed_messages_and_keeps_the_ack_sealed(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Intake, store, delivery over real MLLP and the attempt's ACK, with a data key."""
    rejecting = MllpReceiver(ack_code="AR")
    await rejecting.start()
    catalog = build_catalog(
        [
            (
                "ziekenhuis-noord.yaml",
                destination("ziekenhuis-noord", rejecting.port, providers=["ziekenhuis-noord"]),
            )
        ],
        today=date(2026, 11, 27),
    )
    settings = settings_for(tmp_path, search_key=SEARCH_KEY, data_keys=entry("kid1"))
    engine = Engine(settings, catalog=catalog)
    await engine.start()
    try:
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        assert await engine.wait_settled(timeout=10)
        message = await engine.store.get_message(result.messages[0].message_id)
        assert message is not None and message.status == "dead"
        assert rejecting.received == [message.payload]  # sent as mapped, not sealed
        assert message.last_error is not None and "AR" in message.last_error
        [attempt] = await engine.store.list_attempts(message.id)
        assert attempt.ack_bytes is not None and attempt.ack_bytes.startswith(b"MSH|")
        event = await engine.store.get_event(result.event_id)
        assert event is not None and isinstance(event.payload, dict)
        assert event.payload["patient"]["bsn"] == BSN
    finally:
        await engine.stop()
        await rejecting.stop()
    database = database_bytes(tmp_path)
    family = referral_data["patient"]["name"]["family"].encode()
    assert BSN.encode() not in database and family not in database
    assert b"MSA|AR" not in database


def test_keys_list_without_a_key_says_nothing_is_sealed(tmp_path: Path) -> None:
    fill(tmp_path, None, 1)
    shown = cli(env_for(tmp_path, None), "keys", "list")
    assert shown.exit_code == 0, shown.output
    assert "no data key configured (INTEGRATOR_DATA_KEYS)" in shown.stdout
    assert "stored unsealed" in shown.stdout
    listed = cli(env_for(tmp_path, None), "keys", "list", "--json")
    assert listed.exit_code == 0, listed.output
    shown_json = json.loads(listed.stdout)  # the table's warning, not a bare empty list
    assert shown_json["keys"] == []
    [warning] = shown_json["warnings"]
    assert warning.startswith("no data key configured (INTEGRATOR_DATA_KEYS)")
    assert "stored unsealed" in warning
    with_key = cli(
        env_for(tmp_path, f"kid1:{base64.b64encode(bytes(32)).decode()}"), "keys", "list"
    )
    assert "no data key configured" not in with_key.stdout


def test_listings_do_not_open_the_message_bodies(tmp_path: Path) -> None:
    """``messages list`` and ``deadletter list`` read and unsealed every message's HL7 for a
    table of ids and states (2 GB in the engine for 1,000 referrals with a PDF each). A body
    that cannot be opened shows it: the listings work, only ``show`` needs the body."""
    import sqlite3

    keys = entry("kid1")
    [tampered, other] = fill(tmp_path, keys, 2)
    with sqlite3.connect(tmp_path / "store.db") as db:
        [(payload,)] = db.execute("SELECT payload FROM messages WHERE id = ?", (tampered,))
        db.execute(
            "UPDATE messages SET payload = ? WHERE id = ?",
            (bytes(payload[:-1]) + bytes([payload[-1] ^ 1]), tampered),
        )
    env = env_for(tmp_path, keys)
    listed = cli(env, "messages", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert {m["id"] for m in json.loads(listed.stdout)} == {tampered, other}
    exported = cli(env, "messages", "list", "--csv")
    assert exported.exit_code == 0 and tampered in exported.stdout, exported.output
    shown = cli(env, "messages", "show", tampered, "--json")
    assert shown.exit_code != 0 and "sealed with" in shown.output
