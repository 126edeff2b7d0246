"""The ``integrator`` command as a user runs it: real sockets, real files.

``cli`` runs the command in this process (``tests.cli_in_process``); ``process_cli`` starts it
as a process, for the tests about the process itself: the demo, start-up refusals, what reaches
its stderr.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from destinations.config import dump_destination
from integrator.store import Store
from tests.cli_in_process import run_cli as cli
from tests.http.support import message_once_delivered, token_in_store
from tests.integrator.support import destination
from tests.services import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "samples"


def process_cli(
    *args: str, env: dict[str, str], timeout: float = 60, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """``integrator ARGS`` as its own process, run in ``cwd`` (a relative store URL is there)."""
    return subprocess.run(
        [sys.executable, "-m", "integrator", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


async def create_store(url: str) -> None:
    store = await Store.open(url)
    await store.close()


def test_demo_delivers_both_samples_and_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "integrator", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "REF^I12^REF_I12" in result.stdout
    assert "ORM^O01^ORM_O01" in result.stdout
    assert "All messages delivered" in result.stdout
    assert "Submitting 2 sample events from" in " ".join(result.stdout.split())
    # Where a newcomer goes next: its store and receivers are gone when it ends.
    assert 'Next: the README\'s "Using it"' in " ".join(result.stdout.split())


def test_submit_without_engine_stores_and_lists(env: dict[str, str]) -> None:
    result = cli("submit", "--json", str(SAMPLES / "referral.json"), env=env)
    assert result.returncode == 0, result.stderr
    [outcome] = json.loads(result.stdout)
    assert outcome["accepted"] is True
    assert outcome["zd_number"] == "ZD100000001"
    listed = cli("messages", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    # No destination serves the provider in this empty destinations dir: stored, with a warning.
    assert json.loads(listed.stdout) == []
    assert any("no destination serves" in w for w in outcome["warnings"])


def test_submit_where_there_is_no_store_makes_none_and_submits_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run elsewhere than the engine's directory (the default store is a relative path), it
    made a new, empty store and its key file, said "Submitted to the store (sent when the
    engine runs)", and no engine ever read that store: a referral silently lost."""
    monkeypatch.chdir(tmp_path)
    env = {"PATH": os.environ.get("PATH", ""), "INTEGRATOR_HTTP_PORT": str(free_port())}
    for command in (
        ("submit", str(SAMPLES / "referral.json")),
        ("resend", "--status", "dead", "--reason", "HIS back"),
        ("events", "route", "--provider", "ziekenhuis-noord", "--reason", "HIS back"),
    ):
        result = cli(*command, env=env)
        assert result.returncode == 1, (command, result.stdout + result.stderr)
        assert result.stdout == ""
        said = f"error: no store at sqlite:///{tmp_path}/var/integrator.db;"
        assert result.stderr.startswith(said), (command, result.stderr)
        assert "a new store is made by the engine's first start: integrator run" in result.stderr
        assert list(tmp_path.iterdir()) == [], command


def test_a_destination_added_where_there_is_no_store_says_the_store_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """A change is kept (the compose file's seed adds the first destinations to an empty
    database), but run in the wrong directory it went into a new store no engine reads and
    said only "✓ noord: add (revision 1)". It names the store it made now; with a store there,
    nothing more is said."""
    monkeypatch.chdir(tmp_path)
    text = dump_destination(destination("noord", free_port(), providers=["ziekenhuis-noord"]))
    bare = {"PATH": os.environ.get("PATH", ""), "USER": "anna"}
    added = cli("destinations", "add", "-", input=text, env=bare)
    assert added.returncode == 0, added.stderr
    said = " ".join(added.stderr.split())
    assert (
        f"warning: no store was at sqlite:///{tmp_path}/var/integrator.db, so a new, empty" in said
    )
    assert "if the engine runs elsewhere, run this from its directory" in said
    again = cli("destinations", "pause", "noord", env=bare)
    assert again.returncode == 0 and "no store was at" not in again.stderr
    into_existing = cli("destinations", "add", "-", input=text.replace("noord", "zuid"), env=env)
    assert into_existing.returncode == 0 and "no store was at" not in into_existing.stderr


def test_submit_warns_of_a_cancel_before_its_new_and_accepts_both(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """One batch, the cancel first: each is accepted and says what does not fit (exit 0)."""
    cancel, new = (tmp_path / "cancel.json", tmp_path / "new.json")
    cancel.write_text(json.dumps({**referral_data, "action": "cancel"}))
    other_id = "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a0000ff"
    new.write_text(json.dumps({**referral_data, "event_id": other_id}))
    result = cli("submit", str(cancel), str(new), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    cancel_part, new_part = result.stdout.split("new.json", 1)
    assert "warning: cancel_without_new: no new referral with this ZD number" in cancel_part
    assert "warning: new_after_cancel: this ZD number's referral was cancelled" in new_part
    assert f"in event {referral_data['event_id']}" in new_part


def test_submit_says_a_message_s_own_warnings(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """A ``ref-v1`` message (ISO 8859-1) of a name with a ``ł`` records that it was
    transliterated; only ``--json`` said so, where docs/product.md §6 has submit print its
    warnings."""
    latin = destination(
        "noord",
        free_port(),
        providers=[referral_data["provider"]["id"]],
        messages={"referral": "ref-v1", "diagnostic_request": "orm-v3"},
    )
    Path(env["INTEGRATOR_DESTINATIONS_DIR"]).mkdir(exist_ok=True)
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "noord.yaml").write_text(dump_destination(latin))
    event = copy.deepcopy(referral_data)
    event["patient"]["name"]["given"] = "Łukasz"
    path = tmp_path / "latin.json"
    path.write_text(json.dumps(event))
    result = cli("submit", str(path), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    [at] = [n for n, line in enumerate(lines) if "→ noord ref-v1" in line]
    assert "warning: 1 character outside ISO 8859-1 was transliterated" in lines[at + 1]


def test_submit_into_the_store_says_each_warning_once_not_also_as_a_log_line(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """With no engine running, the engine's own warning line (``[warning ] event does not fit
    its ZD number's history … rule=cancel_without_new``) came on stderr beside the command's
    ``warning: cancel_without_new: …``, and so did ``event rejected`` beside ``✗ … refused``
    and ``duplicate event differs`` beside its warning: each said twice. The command says them;
    the lines are info now, there for INTEGRATOR_LOG_LEVEL=info."""
    cancel, bad, changed = (tmp_path / "cancel.json", tmp_path / "bad.json", tmp_path / "c.json")
    cancel.write_text(json.dumps({**referral_data, "action": "cancel"}))
    other_id = "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a0000ff"
    bad.write_text(json.dumps({**referral_data, "event_id": other_id, "priority": "asap"}))
    changed.write_text(json.dumps({**referral_data, "action": "cancel", "priority": "urgent"}))
    first = cli("submit", str(cancel), str(bad), env=env)
    assert first.returncode == 2, first.stdout + first.stderr
    assert "warning: cancel_without_new:" in first.stdout and "refused" in first.stdout
    again = cli("submit", str(changed), env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "differs from the one accepted in priority" in " ".join(again.stdout.split())
    for said in (
        "event does not fit its ZD number's history",
        "event rejected",
        "duplicate event differs",
    ):
        assert said not in first.stderr + again.stderr
    logged = cli("submit", str(bad), env={**env, "INTEGRATOR_LOG_LEVEL": "info"})
    lines = [json.loads(line) for line in logged.stderr.splitlines() if line.startswith("{")]
    assert [line["level"] for line in lines if line["event"] == "event rejected"] == ["info"]


def test_submit_of_a_duplicate_with_another_zd_number_prints_the_stored_one(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The answer is the stored event's: printing the copy's ZD number beside the stored
    event's messages would link the wrong referral to them."""
    first, copy_of = (tmp_path / "first.json", tmp_path / "copy.json")
    first.write_text(json.dumps(referral_data))
    copy_of.write_text(json.dumps({**referral_data, "zd_number": "ZD100000099"}))
    assert cli("submit", str(first), env=env).returncode == 0
    result = cli("submit", str(copy_of), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    printed = " ".join(result.stdout.split())  # the console wraps at 160 columns
    assert f"event {referral_data['event_id']} (ZD100000001) (duplicate: accepted before)" in (
        printed
    )
    assert "ZD100000099" not in printed
    assert "differs from the one accepted in zd_number; the change was not taken" in printed
    as_json = cli("submit", "--json", str(copy_of), env=env)
    [outcome] = json.loads(as_json.stdout)
    assert outcome["duplicate"] is True and outcome["zd_number"] == "ZD100000001"
    assert any("not taken" in w for w in outcome["warnings"])
    # Said where a program reads it: the copy is kept as rejected input, under this id.
    assert outcome["changed"] is True and outcome["rejected_id"]
    assert any(w.startswith("changed_duplicate: ") for w in outcome["warnings"])


def test_submit_bad_input_exits_2_with_field_errors(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    bad = copy.deepcopy(referral_data)
    bad["zd_number"] = "ZD12"
    del bad["referrer"]["agb"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = cli("submit", str(SAMPLES / "referral.json"), str(path), env=env)
    assert result.returncode == 2
    assert "zd_number" in result.stdout and "referrer.agb" in result.stdout
    # The line above the files says how they fared, not "Submitted" above a refusal.
    first = result.stdout.splitlines()[0]
    assert first == "Written to the store (sent when the engine runs): 1 accepted, 1 refused"
    as_json = cli("submit", "--json", str(path), env=env)
    [outcome] = json.loads(as_json.stdout)
    assert {e["path"] for e in outcome["errors"]} == {"zd_number", "referrer.agb"}
    assert outcome["rejected_id"]


def test_submit_of_a_bsn_given_twice_is_refused_and_kept(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Accepted before, the last ``bsn`` taken: the hospital got a patient the first one
    (which a parser upstream may have read) did not name."""
    body = json.dumps(referral_data).replace('"bsn":', '"bsn": "111222333", "bsn":', 1)
    path = tmp_path / "twice.json"
    path.write_text(body)
    result = cli("submit", "--json", str(path), env=env)
    assert result.returncode == 2, result.stderr
    [outcome] = json.loads(result.stdout)
    assert [(e["path"], e["rule"]) for e in outcome["errors"]] == [("patient.bsn", "duplicate_key")]
    kept = cli("rejected", "show", outcome["rejected_id"], "--json", env=env)
    assert kept.returncode == 0, kept.stderr
    assert "111222333" not in result.stdout + result.stderr


def test_submit_missing_file_is_bad_input(env: dict[str, str], tmp_path: Path) -> None:
    result = cli("submit", str(tmp_path / "nope.json"), env=env)
    assert result.returncode == 2


def test_a_missing_file_among_others_submits_none_and_the_help_says_so(
    env: dict[str, str], tmp_path: Path
) -> None:
    """``submit --help`` said "1 when a file was not taken at all: the others are still
    submitted", so ``submit ref.json nope.json`` read as submitting ref.json and exiting 1. A
    file that is not there is what was typed wrong: exit 2, naming it and why, and nothing is
    submitted (the help now says so); never the other file's contents."""
    referral = tmp_path / "ref.json"
    referral.write_bytes((SAMPLES / "referral.json").read_bytes())
    result = cli("submit", str(referral), str(tmp_path / "nope.json"), env=env)
    assert result.returncode == 2
    said = "".join(result.stderr.replace("│", " ").split())  # in a box, wrapped anywhere
    assert "nope.json'doesnotexist" in said
    assert "Berg" not in result.stdout + result.stderr  # the referral's patient
    listed = cli("events", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    shown = cli("submit", "--help", env={**env, "COLUMNS": "200"})
    assert shown.returncode == 0
    helped = " ".join(shown.stdout.split())
    assert (
        "a file that does not exist or cannot be read (named, and then no file is submitted)"
        in helped
    )
    assert "1 when a file was not taken at all" not in helped


def test_event_loop_setting_asyncio_works_and_a_wrong_one_is_refused(
    env: dict[str, str],
) -> None:
    on_asyncio = process_cli(
        "submit",
        "--json",
        str(SAMPLES / "referral.json"),
        env={**env, "INTEGRATOR_EVENT_LOOP": "asyncio"},
    )
    assert on_asyncio.returncode == 0, on_asyncio.stderr
    assert json.loads(on_asyncio.stdout)[0]["accepted"] is True
    wrong = process_cli("messages", "list", env={**env, "INTEGRATOR_EVENT_LOOP": "trio"})
    assert wrong.returncode == 2
    assert "INTEGRATOR_EVENT_LOOP" in wrong.stderr
    assert "'uvloop' or 'asyncio'" in wrong.stderr
    assert "never awaited" not in wrong.stderr  # one line, no warning from the unstarted work


def test_versions_json_lists_the_registry(env: dict[str, str]) -> None:
    asyncio.run(create_store(env["INTEGRATOR_DATABASE_URL"]))  # a read command creates none
    result = cli("versions", "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"ref-v1", "ref-v2", "orm-lfdv1", "orm-lfdv2", "orm-v3", "oml-v3"}
    assert rows["orm-lfdv1"]["status"] == "retired"
    assert rows["ref-v1"]["successor"] == "ref-v2"


def test_run_delivers_submitted_events_and_stops_cleanly_on_sigterm(
    env: dict[str, str], tmp_path: Path
) -> None:
    from destinations.receiver import MllpReceiver  # noqa: F401  (receiver runs as a process)

    receiver_port = free_port()
    config = destination("ziekenhuis-noord", receiver_port, providers=["ziekenhuis-noord"])
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "ziekenhuis-noord.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    # Made on the server before the engine starts; the CLI sends it to the engine's API.
    token = asyncio.run(token_in_store(env["INTEGRATOR_DATABASE_URL"], name="cli"))
    env["INTEGRATOR_TOKEN"] = token
    receiver = subprocess.Popen(
        [sys.executable, "-m", "integrator", "receiver", "--port", str(receiver_port), "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    engine = subprocess.Popen(
        [sys.executable, "-m", "integrator", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
    try:
        if not wait_until_answering(f"{base}/healthz", 30):
            pytest.fail("engine did not answer /healthz within 30 s")
        result = cli("submit", "--json", str(SAMPLES / "referral.json"), env=env)
        assert result.returncode == 0, result.stderr
        [outcome] = json.loads(result.stdout)
        message_id = outcome["messages"][0]["message_id"]
        detail = message_once_delivered(base, message_id, token)
        assert detail["status"] == "delivered"
        assert detail["attempt_history"][-1]["ack_code"] == "AA"

        engine.send_signal(signal.SIGTERM)
        started = time.monotonic()
        engine.wait(timeout=10)
        assert time.monotonic() - started < 5
        assert engine.returncode == 0, engine.stderr.read() if engine.stderr else ""
    finally:
        for process in (engine, receiver):
            if process.poll() is None:
                process.kill()
                process.wait()
    shown = cli("messages", "show", message_id, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "RF1-6" in shown.stdout and "delivered" in shown.stdout
    stderr = engine.stderr.read() if engine.stderr else ""
    assert "999990019" not in stderr and "Berg" not in stderr  # no patient data in logs


def test_destinations_cli_add_update_history_and_usage_report(env: dict[str, str]) -> None:
    text = dump_destination(
        destination(
            "noord", free_port(), providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
        )
    )
    added = cli("destinations", "add", "-", "--json", input=text, env={**env, "USER": "anna"})
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["revision"] == 1
    assert any("deprecated" in w for w in json.loads(added.stdout)["warnings"])
    bad = cli("destinations", "update", "noord", "--set", "port=0", env=env)
    assert bad.returncode == 2 and "port" in bad.stderr
    ok = cli("destinations", "update", "noord", "--set", "port=2577", "--reason", "moved", env=env)
    assert ok.returncode == 0, ok.stderr
    history = json.loads(cli("destinations", "history", "noord", "--json", env=env).stdout)
    assert [(h["revision"], h["reason"]) for h in history] == [(1, None), (2, "moved")]
    newest = cli("destinations", "history", "noord", "--last", "1", "--json", env=env)
    assert [h["revision"] for h in json.loads(newest.stdout)] == [2]
    none = cli("destinations", "history", "noord", "--last", "0", env=env)
    assert none.returncode == 2 and "--last" in none.stderr
    report = json.loads(cli("versions", "--usage", "--json", env=env).stdout)
    assert [(r["destination"], r["version"], r["successor"]) for r in report] == [
        ("noord", "ref-v1", "ref-v2")
    ]
    missing = cli("destinations", "show", "nope", env=env)
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_a_platform_authority_too_long_for_the_placer_numbers_is_refused_at_start(
    env: dict[str, str],
) -> None:
    # Every order message would otherwise fail to map: <zd>^<authority> has at most 22 characters.
    result = process_cli("run", env={**env, "INTEGRATOR_PLATFORM_AUTHORITY": "ZORGDOMEIN-NL"})
    assert result.returncode == 2
    assert "INTEGRATOR_PLATFORM_AUTHORITY" in result.stderr and "10 characters" in result.stderr
