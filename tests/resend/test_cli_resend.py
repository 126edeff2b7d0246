"""``integrator resend``, ``deadletter resend`` and the richer ``messages`` commands, as run."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest

import deadletter
from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.cli.common import err_console
from integrator.store import Store
from tests.cli_in_process import run_cli as cli
from tests.http.support import message_once_delivered, token_in_store
from tests.integrator.support import destination
from tests.integrator.test_cli import SAMPLES
from tests.services import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
BSN = "999990019"
LOGIN = pwd.getpwuid(os.getuid()).pw_name


def write_destination(env: dict[str, str], port: int) -> None:
    config = destination("ziekenhuis-noord", port, providers=["ziekenhuis-noord"])
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "ziekenhuis-noord.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )


def submit(env: dict[str, str]) -> str:
    result = cli("submit", "--json", str(SAMPLES / "referral.json"), env=env)
    assert result.returncode == 0, result.stderr
    message_id: str = json.loads(result.stdout)[0]["messages"][0]["message_id"]
    return message_id


def mark(env: dict[str, str], message_id: str, status: str) -> None:
    async def go() -> None:
        store = await Store.open(env["INTEGRATOR_DATABASE_URL"])
        try:
            await store.set_status(message_id, status)
        finally:
            await store.close()

    asyncio.run(go())


def test_bad_input_is_refused_with_exit_2_and_a_clear_message(env: dict[str, str]) -> None:
    write_destination(env, free_port())
    message_id = submit(env)
    mark(env, message_id, "delivered")
    cases = [
        (("resend", "--reason", "x"), "say which messages"),
        (("resend", message_id), "a reason is required"),
        (("resend", "nope", "--reason", "x"), "no message has that id (not an id"),
        (("resend", message_id, "--reason", "x", "--mode", "sideways"), "--mode: must be"),
        (
            ("resend", message_id, "--reason", "x", "--mode", "original", "--to", "lab"),
            "use --mode remap",
        ),
        (("resend", "--since", "yesterday", "--reason", "x"), "not an ISO date"),
        (("deadletter", "resend", "--reason", "x"), "say which dead letters"),
        (("deadletter", "resend", message_id, "--reason", "x"), "is delivered, not dead"),
        (("messages", "list", "--bsn", "123"), "9 digits"),
    ]
    for args, expected in cases:
        result = cli(*args, env=env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert expected in " ".join(result.stderr.split()), (args, result.stderr)

    # One support discarded (deadletter list --all: "discarded"): said so, with the way on.
    mark(env, message_id, "cancelled")
    discarded = cli("deadletter", "resend", message_id, "--reason", "x", env=env)
    assert discarded.returncode == 2, discarded.stderr
    assert " ".join(discarded.stderr.split()) == (
        f"error: message {message_id} was discarded (status cancelled), so it is no dead letter "
        f"to resend; to send it after all, resend it as any message: integrator resend {message_id}"
    )


def test_a_selection_refused_as_a_whole_names_the_options(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line says its options (``--zd``, ``--since``) where the API says the body's
    terms (tests/resend/test_api_refusals.py): the same refusals, each front door's names."""
    write_destination(env, free_port())
    sample = json.loads((SAMPLES / "referral.json").read_text(encoding="utf-8"))
    for number, status in enumerate(("delivered", "delivered", "dead", "dead")):
        referral = Path(env["INTEGRATOR_DESTINATIONS_DIR"]).parent / f"referral-{number}.json"
        event_id = f"6f1c2a4e-8b1d-4a53-9d0e-3c2b1a00010{number}"
        referral.write_text(json.dumps({**sample, "event_id": event_id}), encoding="utf-8")
        submitted = cli("submit", "--json", str(referral), env=env)
        assert submitted.returncode == 0, submitted.stderr
        mark(env, json.loads(submitted.stdout)[0]["messages"][0]["message_id"], status)
    expected = [
        (
            ("resend", "--reason", "x"),
            "say which messages: message ids, or at least one of --zd, --control-id, "
            "--event-id, --destination, --status, --version, --event-type, --since, --until",
        ),
        (
            ("deadletter", "resend", "--reason", "x"),
            "say which dead letters: message ids, --all, --destination, --since or --until",
        ),
        (
            ("deadletter", "discard", "--reason", "x"),
            "say which dead letters: message ids, --all, --destination, --since or --until",
        ),
    ]
    too_many = (
        "the selection matches more than 1 messages, the most one resend takes; narrow it "
        "(--since/--until, --destination, --status) and resend in parts"
    )
    # One resend takes 100,000; here the same refusal at 1, through the commands' own calls.
    monkeypatch.setattr(
        deadletter, "select_for_resend", functools.partial(deadletter.select_for_resend, limit=1)
    )
    monkeypatch.setattr(
        deadletter,
        "select_dead_letters",
        functools.partial(deadletter.select_dead_letters, limit=1),
    )
    # Dead letters have no --status to narrow by, and a discard resends nothing.
    too_many_dead = (
        "the selection matches more than 1 dead letters, the most one batch takes; narrow it "
        "(--since/--until, --destination) and act on it in parts"
    )
    expected += [
        (("resend", "--status", "delivered", "--reason", "x"), too_many),
        (("deadletter", "resend", "--all", "--reason", "x", "--dry-run"), too_many_dead),
        (("deadletter", "discard", "--all", "--reason", "x"), too_many_dead),
    ]
    for args, text in expected:
        result = cli(*args, env=env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert " ".join(result.stderr.split()) == f"error: {text}", args


@pytest.mark.real_login_name  # USER names someone else; the CLI must not believe it
def test_without_engine_resends_go_into_the_store_and_show_both_ways(
    env: dict[str, str],
) -> None:
    write_destination(env, free_port())
    message_id = submit(env)
    mark(env, message_id, "dead")

    dry = cli("resend", "--zd", "ZD100000001", "--reason", "x", "--dry-run", "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["total"] == 1

    done = cli(
        "deadletter",
        "resend",
        "--all",
        "--reason",
        "GP called",
        "--json",
        env={**env, "USER": "anna"},
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    # USER names someone else: the audit records the login the process runs as, not "anna".
    assert outcome["via"] == "store" and outcome["actor"] == f"local:{LOGIN}"
    [resent] = outcome["resent"]
    assert resent["original_id"] == message_id and resent["mode"] == "original"

    found = cli("messages", "list", "--bsn", BSN, "--json", env=env)
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert {r["id"] for r in rows} == {message_id, resent["message_id"]}
    assert {r["status"] for r in rows} == {"dead", "queued"}
    assert cli("messages", "list", "--bsn", "999990020", "--json", env=env).stdout.strip() == "[]"

    csv_out = cli("messages", "list", "--zd", "ZD100000001", "--csv", env=env)
    assert csv_out.returncode == 0, csv_out.stderr
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0].startswith("message_id,event_id,zd_number") and len(lines) == 3
    assert BSN not in csv_out.stdout and "Berg" not in csv_out.stdout

    shown = cli("messages", "show", message_id, env=env)
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "Resends of this message" in text and LOGIN in text and "GP called" in text
    assert BSN in text and "Jan van der Berg" in text  # on the terminal, for support staff
    child = cli("messages", "show", resent["message_id"], env=env)
    assert f"This message resends {message_id}" in " ".join(child.stdout.split())
    assert BSN not in shown.stderr + child.stderr + found.stderr  # logs


def test_with_a_running_engine_the_resend_goes_through_its_api(
    env: dict[str, str], tmp_path: Path
) -> None:
    receiver_port = free_port()
    write_destination(env, receiver_port)
    # Made on the server before the engine starts: one for support, one that may only look.
    support = asyncio.run(
        token_in_store(
            env["INTEGRATOR_DATABASE_URL"], Grant(Role.RESEND), Grant(Role.INTAKE), name="support"
        )
    )
    viewer = asyncio.run(
        token_in_store(env["INTEGRATOR_DATABASE_URL"], Grant(Role.VIEWER), name="looker")
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "integrator", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for args in (("receiver", "--port", str(receiver_port), "--quiet"), ("run",))
    ]
    base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"

    def status_of(message_id: str) -> str:
        status: str = message_once_delivered(base, message_id, support)["status"]
        return status

    try:
        if not wait_until_answering(f"{base}/healthz", 30):
            pytest.fail("engine did not answer /healthz within 30 s")
        # Without INTEGRATOR_TOKEN the engine refuses, and the CLI says what to set.
        refused = cli("submit", "--json", str(SAMPLES / "referral.json"), env=env)
        assert refused.returncode == 1
        assert (
            refused.stderr.strip()
            .splitlines()[-1]
            .endswith(
                f"the engine at {base} refused: set INTEGRATOR_TOKEN to a token with the "
                "intake role; `integrator tokens create NAME --role intake` makes one"
            )
        )
        message_id = submit({**env, "INTEGRATOR_TOKEN": support})
        assert status_of(message_id) == "delivered"
        resend = ("resend", message_id, "--reason", "GP called", "--mode", "remap", "--json")
        lacking = cli(*resend, env={**env, "INTEGRATOR_TOKEN": viewer})
        assert lacking.returncode == 1
        assert "set INTEGRATOR_TOKEN to a token with the resend role" in lacking.stderr
        result = cli(*resend, env={**env, "INTEGRATOR_TOKEN": support})
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout)
        assert outcome["via"] == "engine"
        [resent] = outcome["resent"]
        assert resent["mode"] == "remap" and resent["control_id"]
        assert status_of(resent["message_id"]) == "delivered"
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    engine_log = processes[1].stderr.read() if processes[1].stderr else ""
    # No public key any more: the engine made the store's own, which the CLI's search used.
    assert (tmp_path / "store.db.search-key").stat().st_mode & 0o777 == 0o600
    assert BSN not in engine_log and "Berg" not in engine_log


def test_a_dry_run_in_the_store_shows_its_progress(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """8,000 messages took 10 s of dry run without a sign of life: the store's way decides
    message by message, as the real run does, and shows the same bar (on a terminal)."""
    monkeypatch.setattr(err_console, "_force_terminal", True)
    write_destination(env, free_port())
    for n in (1, 2):
        event = {**json.loads((SAMPLES / "referral.json").read_text()), "event_id": str(uuid4())}
        event["zd_number"] = f"ZD10000001{n}"
        path = tmp_path / f"referral-{n}.json"
        path.write_text(json.dumps(event), encoding="utf-8")
        submitted = cli("submit", "--json", str(path), env=env)
        assert submitted.returncode == 0, submitted.stderr
        mark(env, json.loads(submitted.stdout)[0]["messages"][0]["message_id"], "dead")
    dry = cli("resend", "--destination", "ziekenhuis-noord", "--reason", "x", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "resending" in dry.stderr and "2/2" in dry.stderr  # the progress bar, finished
    assert "Dry run: 2 of 2 messages would be resent" in dry.stdout


def test_a_resend_into_the_store_registers_the_data_key_it_seals_with(
    env: dict[str, str],
) -> None:
    """The resend opens only a store that is there, and opens it as a writer: a key first
    configured for it is registered as every writer registers it, so ``keys list`` knows the
    store holds values under it (opened as a reader, it would seal without saying so)."""
    write_destination(env, free_port())
    message_id = submit(env)  # before there was a key
    mark(env, message_id, "dead")
    keyed = {**env, "INTEGRATOR_DATA_KEYS": f"kid1:{base64.b64encode(os.urandom(32)).decode()}"}
    done = cli("resend", message_id, "--reason", "GP called", "--json", env=keyed)
    assert done.returncode == 0, done.stderr
    listed = json.loads(cli("keys", "list", "--json", env=keyed).stdout)
    assert [(k["key"], k["store"]) for k in listed["keys"]] == [("kid1", "in use")]


def test_ctrl_c_stops_a_resend_in_the_store_between_chunks_and_says_how_far_it_got(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C ended the command silently (exit 130) with 8,000 of 10,000 resends committed,
    and nothing said so. Now the signal is acted on between chunks: what was done is kept and
    said, and a second run with the same filter resends only the rest."""
    import importlib

    import integrator.cli.resend as resend_command
    from tests.resend.support import ctrl_c_at
    from tests.store.factories import make_event, make_message
    from tests.terminal import at_a_terminal

    write_destination(env, free_port())
    monkeypatch.setattr(importlib.import_module("deadletter.resend"), "CHUNK", 2)
    again = ("deadletter", "resend", "--all", "--mode", "original", "--reason", "x")

    async def five_dead() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for _ in range(5):
                message = make_message()
                await store.accept_event(make_event(), [message])
                await store.set_status(message.id, "dead")

    asyncio.run(five_dead())

    with monkeypatch.context() as patched, at_a_terminal():
        patched.setattr(resend_command, "progress_bar", ctrl_c_at(2))
        stopped = cli(*again, env=env)
    assert stopped.returncode == 130, stopped.stdout + stopped.stderr
    said = " ".join(stopped.stderr.split())
    assert "stopped after 2 of 5 messages done (each chunk committed and audited)" in said
    assert "the other 3 were not resent" in said

    rest = cli(*again, "--json", env=env)
    done = json.loads(rest.stdout)
    assert (len(done["resent"]), len(done["skipped"])) == (3, 2)  # the first two: resent before
    assert rest.returncode == 1  # as for any run that skipped some
