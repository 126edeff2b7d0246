"""A value typed on the command line that is not UTF-8 (a terminal set to Latin-1 sends
``Jénsen`` as ``J\\xe9nsen``, which Python keeps as a lone surrogate) is refused naming its
option or argument, exit 2: it went on to the store, where SQLite failed with a traceback and
PostgreSQL with a store error naming neither (``integrator.cli.undecodable``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrator.cli import app
from tests.integrator.test_cli_repeated_options import runner

__all__ = ["runner"]  # the fixture: the CLI in process, on a store that is not there

NOT_UTF8 = b"J\xe9nsen".decode("utf-8", "surrogateescape")  # as Python reads the command line
RULE = "not UTF-8 text; set the terminal to UTF-8 (LANG=C.UTF-8, say) and type it again"


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["users", "invite", "a@example.org", "--role", "viewer", "--name", NOT_UTF8], "--name"),
        (["users", "invite", f"{NOT_UTF8}@example.org", "--role", "viewer"], "EMAIL"),
        (["messages", "list", f"--control-id={NOT_UTF8}"], "--control-id"),
    ],
    ids=["option", "argument", "option=value"],
)
def test_a_value_that_is_not_utf8_is_refused_naming_where(
    runner: CliRunner, tmp_path: Path, args: list[str], where: str
) -> None:
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == 2, done.output
    error = json.loads(done.stdout.splitlines()[0])["error"]
    assert (error["message"], error["fields"]) == (f"{where}: {RULE}", [where])
    assert not (tmp_path / "none.db").exists()  # refused before anything was opened
