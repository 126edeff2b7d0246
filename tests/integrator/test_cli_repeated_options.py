"""An option that takes one value, given twice, is refused, naming it (``integrator.cli.once``):
click kept the last value and said nothing, so ``resend --zd A --zd B`` resent B's messages
alone, reported "1 of 1", and exited 0.

In process (``CliRunner``): the refusal comes while the command line is read, before any
store is looked for; the commands whose options pass are stopped by the missing store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrator.cli import app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("INTEGRATOR_DATABASE_URL", f"sqlite:///{tmp_path}/none.db")
    return CliRunner()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["resend", "--zd", "ZD100000001", "--zd", "ZD200000002", "--reason", "x"], "--zd"),
        (["messages", "list", "--status", "cancelled", "--status", "delivered"], "--status"),
        (
            ["deadletter", "list", "--destination", "a", "--destination", "b", "--all"],
            "--destination",
        ),
        (
            ["tokens", "create", "t", "--role", "intake", "--expires", "12h", "--expires", "90d"],
            "--expires",
        ),
        (["events", "route", "--provider", "a", "--provider", "b", "--reason", "x"], "--provider"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else v,
)
def test_an_option_that_takes_one_value_is_refused_when_given_twice(
    runner: CliRunner, args: list[str], option: str
) -> None:
    done = runner.invoke(app, args)
    assert done.exit_code == 2, done.output
    assert f"{option}: given 2 times; it takes one value" in done.output
    # Neither value is repeated (a value may be a BSN or a name).
    assert "ZD100000001" not in done.output and "cancelled" not in done.output


def test_with_json_the_refusal_is_a_json_error_too(runner: CliRunner) -> None:
    done = runner.invoke(app, ["messages", "list", "--json", "--bsn", "1", "--bsn", "2"])
    assert done.exit_code == 2
    error = json.loads(done.stdout.splitlines()[0])["error"]
    assert error == {
        "code": 2,
        "message": "--bsn: given 2 times; it takes one value",
        "fields": ["--bsn"],
        "rule": "given 2 times; it takes one value",
    }


def test_a_flag_given_twice_is_refused_and_a_value_that_looks_like_an_option_is_a_value(
    runner: CliRunner,
) -> None:
    flag = runner.invoke(app, ["messages", "list", "--json", "--json"])
    assert flag.exit_code == 2
    assert "--json: given 2 times; give it once" in flag.output
    # ``--reason --zd``: the second is --reason's value, so --zd is given once.
    once = runner.invoke(app, ["resend", "--reason", "--zd", "--zd", "ZD100000001"])
    assert "given 2 times" not in once.output


def test_options_that_take_several_values_are_repeated_as_ever(runner: CliRunner) -> None:
    done = runner.invoke(
        app, ["users", "invite", "a@example.org", "--role", "resend", "--role", "viewer"]
    )
    assert "given 2 times" not in done.output
    assert done.exit_code == 1 and "no store at" in done.output  # past the command line
