"""What support meets on the command line when a GP calls, at its edges: an empty search by
ZD number for a referral that arrived unrouted says so; ``events show --json`` gives times in
INTEGRATOR_TIMEZONE as every other listing; an MSH-10 as the hospital reads it out (lower
case, a space pasted along) finds its message; ``deadletter discard --dry-run`` refuses the
reason the real discard refuses, with the same exit code."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from integrator.store import Store
from tests.integrator.test_cli_reading import cli, env_for
from tests.store.dead_families import dead_letter
from tests.store.factories import make_event, make_message


def _stored(tmp_path: Path) -> tuple[dict[str, str], str, str, str]:
    """An unrouted event (ZD600000001), and a dead letter whose MSH-10 is upper case."""
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> tuple[str, str, str]:
        async with await Store.open(url) as store:
            unrouted = make_event(zd_number="ZD600000001", provider_id="ziekenhuis-oost")
            assert await store.accept_event(unrouted, [])
            sent = make_message(control_id="1A23AF4770E4EB395CE")
            assert await store.accept_event(make_event(zd_number="ZD600000002"), [sent])
            letter = await dead_letter(store, "ZD600000003", None)
            return unrouted.id, sent.id, letter

    event_id, message_id, letter = asyncio.run(fill())
    return {**env_for(url, tmp_path), "COLUMNS": "200"}, event_id, message_id, letter


def test_an_empty_search_by_zd_number_says_it_arrived_unrouted(tmp_path: Path) -> None:
    env, _event_id, _message_id, _letter = _stored(tmp_path)
    nothing = cli(env, "messages", "list", "--zd", "ZD600000001")
    assert nothing.exit_code == 0, nothing.output
    said = " ".join(nothing.stderr.split())
    assert "no messages; 1 unrouted event with this ZD number" in said
    assert "integrator events list --zd ZD600000001" in said


def test_events_show_json_gives_local_times(tmp_path: Path) -> None:
    env, event_id, _message_id, _letter = _stored(tmp_path)
    shown = json.loads(cli(env, "events", "show", event_id, "--json").stdout)
    assert shown["received_at"].endswith(("+01:00", "+02:00")), shown["received_at"]


def test_an_msh10_read_out_finds_its_message(tmp_path: Path) -> None:
    env, _event_id, message_id, _letter = _stored(tmp_path)
    for typed in ("1a23af4770e4eb395ce", " 1A23AF4770E4EB395CE "):
        found = json.loads(cli(env, "messages", "list", "--control-id", typed, "--json").stdout)
        assert [m["id"] for m in found] == [message_id], typed


def test_a_discard_dry_run_refuses_the_reason_the_real_one_does(tmp_path: Path) -> None:
    env, _event_id, _message_id, letter = _stored(tmp_path)
    for reason in ("x" * 1001, "   "):
        dry = cli(env, "deadletter", "discard", letter, "--dry-run", "--reason", reason)
        real = cli(env, "deadletter", "discard", letter, "--reason", reason)
        assert dry.exit_code == real.exit_code == 2, (dry.output, real.output)
        assert dry.stderr.startswith("error: --reason: ")
