"""A command given ``--json`` that fails writes a JSON error object on stdout
(``integrator.cli.json_errors``): ``{"error": {"code", "message", "fields", "rule"}}``, the
same exit code and the human line on stderr as without ``--json``, and never a patient value
that the human line would not hold either."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from integrator.cli.common import JsonOption, fail, print_json
from integrator.cli.json_errors import JsonErrorsGroup, error_object
from tests.cli_in_process import CliOutcome, make_store, run_cli
from tests.integrator.test_cli_reading import BSN, env_for, stored
from tests.store.factories import make_event, make_message

IDS = ["abcd1111-0000-4000-8000-000000000000", "abcd2222-0000-4000-8000-000000000000"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A store with two messages whose ids share their first four characters."""
    batch = [(make_event(), [make_message(id=i) for i in IDS])]
    return stored(tmp_path, batch, timedelta(seconds=1))


def error_of(done: CliOutcome, code: int) -> dict[str, Any]:
    """The JSON error ``done`` printed, checked to be the whole of stdout, with ``code`` as
    its exit code and the human line on stderr too."""
    assert done.returncode == code, done
    assert "error" in done.stderr.lower(), done.stderr
    answer = json.loads(done.stdout)  # the whole of stdout: one document
    assert set(answer) == {"error"}
    error: dict[str, Any] = answer["error"]
    assert set(error) == {"code", "message", "fields", "rule"}
    assert error["code"] == code
    return error


def test_an_unknown_or_ambiguous_id_is_a_json_error_with_exit_2(env: dict[str, str]) -> None:
    unknown = error_of(run_cli("messages", "show", "abce", "--json", env=env), 2)
    assert "no message with id starting with abce" in unknown["message"]
    # The argument, as its help names it: "fields": [] told a script nothing of what was wrong.
    assert (unknown["fields"], unknown["rule"]) == (
        ["MESSAGE_ID"],
        "no message with id starting with abce",
    )
    ambiguous = error_of(run_cli("messages", "show", "abcd", "--json", env=env), 2)
    assert "ambiguous" in ambiguous["message"] and IDS[0] in ambiguous["message"]
    by_option = error_of(run_cli("audit", "list", "--message", "abce", "--json", env=env), 2)
    assert by_option["fields"] == ["--message"]
    assert by_option["message"] == f"--message: {by_option['rule']}"
    assert "no message with id starting with abce" in by_option["rule"]


def test_a_refused_filter_names_its_option_and_rule(env: dict[str, str]) -> None:
    since = error_of(run_cli("messages", "list", "--since", "soon", "--json", env=env), 2)
    assert since["fields"] == ["--since"]
    assert since["rule"].startswith("not an ISO date or date-time")
    period = error_of(
        run_cli("events", "list", "--since", "2h", "--until", "3h", "--json", env=env), 2
    )
    assert period["fields"] == ["--since", "--until"]
    both = error_of(run_cli("audit", "list", "--json", "--csv", env=env), 2)
    assert (both["fields"], both["rule"]) == (["--json", "--csv"], "choose one")


def test_a_bsn_in_the_wrong_option_is_not_in_the_json_error(env: dict[str, str]) -> None:
    for option in ("--zd", "--since", "--destination"):
        done = run_cli("messages", "list", option, BSN, "--json", env=env)
        error = error_of(done, 2)
        assert error["fields"] == [option]
        assert BSN not in done.stdout and BSN not in done.stderr


def test_a_store_that_cannot_be_opened_is_a_json_error_with_exit_1(tmp_path: Path) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'nowhere.db'}", tmp_path)
    error = error_of(run_cli("messages", "list", "--json", env=env), 1)
    assert error["message"].startswith("no store at")
    assert (error["fields"], error["rule"]) == ([], None)


def test_a_refused_resend_is_a_json_error(env: dict[str, str]) -> None:
    to = error_of(
        run_cli("resend", IDS[0], "--to", "nowhere", "--reason", "x", "--json", env=env), 2
    )
    assert to["fields"] == ["--to"] and "nowhere" in to["rule"]


def test_a_usage_error_click_finds_is_a_json_error_naming_the_option(
    env: dict[str, str],
) -> None:
    """A value typer converts (a number) or a missing argument: the option or argument and
    its rule, never the value typed, which click's own line on stderr still shows."""
    limit = error_of(run_cli("messages", "list", "--limit", "lots", "--json", env=env), 2)
    assert limit == {
        "code": 2,
        "message": "--limit: a whole number from 1 to 100000",
        "fields": ["--limit"],
        "rule": "a whole number from 1 to 100000",
    }
    # ``--json`` first or last: it is read before any other option's value is judged.
    first = run_cli("events", "list", "--json", "--limit", "0", env=env)
    assert error_of(first, 2)["fields"] == ["--limit"]
    missing = error_of(run_cli("messages", "show", "--json", env=env), 2)
    assert (missing["fields"], missing["rule"]) == (["MESSAGE_ID"], "required")


def test_a_file_name_refused_by_click_is_not_in_the_json_error(env: dict[str, str]) -> None:
    """A file's name may be a patient's (``jansen.json``): the JSON names the argument only."""
    done = run_cli("submit", "/nonexistent/jansen-19700101.json", "--json", env=env)
    error = error_of(done, 2)
    assert (error["fields"], error["rule"]) == (["FILES"], "a file that exists and can be read")
    assert "jansen" not in done.stdout


def test_without_json_a_failure_writes_nothing_on_stdout(env: dict[str, str]) -> None:
    for args in (("messages", "show", "abce"), ("messages", "list", "--limit", "lots")):
        done = run_cli(*args, env=env)
        assert done.returncode == 2 and done.stdout == "", done


def test_a_command_that_wrote_its_json_adds_no_error_object(tmp_path: Path) -> None:
    """``submit --json`` of a refused event prints its report (the errors) and exits 2: that
    report stays the one document on stdout."""
    env = env_for(f"sqlite:///{tmp_path / 'store.db'}", tmp_path)
    make_store(env["INTEGRATOR_DATABASE_URL"])
    event = tmp_path / "event.json"
    event.write_text("{}")
    done = run_cli("submit", str(event), "--json", env=env)
    assert done.returncode == 2, done
    report = json.loads(done.stdout)
    assert "error" not in report


def test_a_command_that_exits_on_its_own_still_leaves_a_json_error() -> None:
    """A command that raises its exit code itself, with nothing written: the group's net
    writes the error object; one that failed through ``fail`` gets it once."""
    app = typer.Typer(cls=JsonErrorsGroup)

    @app.command()
    def quits(as_json: JsonOption = False) -> None:
        raise typer.Exit(3)

    @app.command()
    def fails(as_json: JsonOption = False) -> None:
        fail("--what: not like that", 2)

    @app.command()
    def interrupted(as_json: JsonOption = False) -> None:
        raise KeyboardInterrupt  # Ctrl-C where the command does not catch it

    @app.command()
    def reports(as_json: JsonOption = False) -> None:
        print_json({"done": False})
        raise typer.Exit(1)

    runner = CliRunner()
    quit_ = runner.invoke(app, ["quits", "--json"])
    assert quit_.exit_code == 3
    assert json.loads(quit_.stdout)["error"]["code"] == 3
    failed = runner.invoke(app, ["fails", "--json"])
    assert failed.exit_code == 2
    assert json.loads(failed.stdout) == error_object(2, "--what: not like that")
    stopped = runner.invoke(app, ["interrupted", "--json"])
    assert stopped.exit_code == 130
    assert json.loads(stopped.stdout) == error_object(130, "interrupted")
    reported = runner.invoke(app, ["reports", "--json"])
    assert reported.exit_code == 1 and json.loads(reported.stdout) == {"done": False}
    assert runner.invoke(app, ["quits"]).stdout == ""


def test_refused_settings_name_their_variables(env: dict[str, str]) -> None:
    one = {**env, "INTEGRATOR_RETAIN_PAYLOAD_DAYS": "lots"}
    error = error_of(run_cli("messages", "list", "--json", env=one), 2)
    assert error["fields"] == ["INTEGRATOR_RETAIN_PAYLOAD_DAYS"]
    assert error["message"] == f"bad settings: INTEGRATOR_RETAIN_PAYLOAD_DAYS: {error['rule']}"
    two = {**one, "INTEGRATOR_RETAIN_AUDIT_DAYS": "many"}
    both = error_of(run_cli("messages", "list", "--json", env=two), 2)
    assert sorted(both["fields"]) == [
        "INTEGRATOR_RETAIN_AUDIT_DAYS",
        "INTEGRATOR_RETAIN_PAYLOAD_DAYS",
    ]
    assert both["message"] == f"bad settings: {both['rule']}"


def test_the_fields_are_the_leading_options_of_the_message() -> None:
    def fields(message: str) -> tuple[list[str], str | None]:
        error = error_object(2, message)["error"]
        return error["fields"], error["rule"]

    assert fields("--since: not a time") == (["--since"], "not a time")
    assert fields("--since and --until: empty") == (["--since", "--until"], "empty")
    assert fields("MESSAGE_IDS: not an id") == (["MESSAGE_IDS"], "not an id")
    assert fields("no store at x: y") == ([], None)
    assert fields("ZD100000001: a ZD number, not a field") == ([], None)
