"""Near misses at the support desk's command line: what people type that is almost right, and
what the answer must then say for them to get it right the next time.

An event's id copied from ``events list`` into ``messages show`` (ids of every kind look alike)
is answered with where it is shown, not only "no message"; the exit code stays that of an
unknown id (2).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from integrator.store import Store
from integrator.store.records import RejectedKeys
from tests.cli_in_process import run_cli
from tests.integrator.test_cli_reading import env_for
from tests.store.factories import make_event, make_message


def _stored(tmp_path: Path) -> tuple[dict[str, str], str, str, str]:
    """An event with one message, and one piece of rejected input: the environment, the
    event's id, the message's and the rejected input's."""
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> tuple[str, str, str]:
        async with await Store.open(url) as store:
            message = make_message()
            event = make_event(zd_number="ZD700000001")
            assert await store.accept_event(event, [message])
            rejected = await store.reject_event(
                json.dumps({"type": "referral", "zd_number": "ZD700000002"}).encode(),
                "http",
                [{"path": "event_id", "rule": "required", "message": "is required"}],
                RejectedKeys(zd_number="ZD700000002"),
            )
            return event.id, message.id, rejected

    event_id, message_id, rejected_id = asyncio.run(fill())
    return {**env_for(url, tmp_path), "COLUMNS": "200"}, event_id, message_id, rejected_id


def test_messages_show_of_an_event_id_points_to_the_event(tmp_path: Path) -> None:
    env, event_id, _message_id, _rejected = _stored(tmp_path)
    for given in (event_id, event_id[:8]):
        shown = run_cli("messages", "show", given, env=env)
        assert shown.returncode == 2, shown.stderr
        said = " ".join(shown.stderr.split())
        assert "no message with id" in said
        assert f"it is an event's id: integrator events show {event_id}" in said
        assert f"integrator messages list --event-id {event_id}" in said


def test_messages_show_of_a_rejected_id_points_to_the_rejected_input(tmp_path: Path) -> None:
    env, _event_id, _message_id, rejected_id = _stored(tmp_path)
    shown = run_cli("messages", "show", rejected_id[:8], env=env)
    assert shown.returncode == 2, shown.stderr
    said = " ".join(shown.stderr.split())
    assert f"it is a rejected input's id: integrator rejected show {rejected_id}" in said


def test_messages_show_of_an_id_of_nothing_points_nowhere(tmp_path: Path) -> None:
    env, _event_id, message_id, _rejected = _stored(tmp_path)
    unknown = "0" * 8 if not message_id.startswith("0") else "f" * 8
    shown = run_cli("messages", "show", unknown, env=env)
    assert shown.returncode == 2
    assert "no message with id starting with" in shown.stderr
    assert "it is" not in shown.stderr
    assert run_cli("messages", "show", message_id[:8], env=env).returncode == 0


def test_a_resend_by_a_zd_number_only_rejected_input_has_points_to_it(tmp_path: Path) -> None:
    env, _event_id, _message_id, _rejected = _stored(tmp_path)
    for extra in ((), ("--json",), ("--dry-run",)):
        resent = run_cli("resend", "--zd", "zd700000002", "--reason", "GP called", *extra, env=env)
        assert resent.returncode == 1, resent.stderr
        said = " ".join(resent.stderr.split())
        assert (
            "no message to resend; 1 rejected input with this ZD number: "
            "integrator rejected list --zd ZD700000002"
        ) in said, extra


def test_a_resend_by_a_zd_number_only_an_unrouted_event_has_points_to_it(tmp_path: Path) -> None:
    env, _event_id, _message_id, _rejected = _stored(tmp_path)
    url = env["INTEGRATOR_DATABASE_URL"]

    async def unrouted() -> None:
        async with await Store.open(url) as store:
            event = make_event(zd_number="ZD700000003", provider_id="ziekenhuis-oost")
            assert await store.accept_event(event, [])

    asyncio.run(unrouted())
    resent = run_cli("resend", "--zd", "ZD700000003", "--reason", "GP called", env=env)
    assert resent.returncode == 1, resent.stderr
    said = " ".join(resent.stderr.split())
    assert "error: no message matches the selection; nothing resent" in said
    assert "no message to resend; 1 unrouted event with this ZD number" in said
    assert "integrator events list --zd ZD700000003, then integrator events route" in said
