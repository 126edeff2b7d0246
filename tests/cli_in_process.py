"""``integrator ARGS`` run in the test's own process, answering like ``subprocess.run`` does.

Each ``integrator`` process the suite starts pays the interpreter's and the CLI's imports, about
a second of CPU and more on a loaded machine; the CLI tests made hundreds of them and were most
of the suite's time. A test about the command's behaviour (its output, exit code, files and
store) runs it here instead; a test about the process itself (signals, start-up, the console
script, stdout being a pipe) keeps starting one.

The answer has the three attributes those tests read (``returncode``, ``stdout``, ``stderr``),
so a test moves from one to the other without being rewritten. The environment given replaces
the CLI's view of ``os.environ`` for the call, as ``subprocess.run(env=...)`` would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import structlog
from typer.testing import CliRunner

from integrator.cli import app


@dataclass(frozen=True)
class CliOutcome:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str], input: str | None = None) -> CliOutcome:
    """Run ``integrator *args`` with exactly ``env`` as its environment."""
    saved_logging = structlog.get_config()
    saved_environ = dict(os.environ)
    os.environ.clear()
    try:
        result = CliRunner().invoke(app, list(args), env=env, input=input)
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        # The CLI configured structlog to print to the runner's stream, closed by now.
        structlog.configure(**saved_logging)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliOutcome(result.exit_code, result.stdout, result.stderr)


def make_store(url: str) -> None:
    """The store at ``url``, made as an engine's first start makes it: ``submit`` and the read
    commands use a store that is there and never make one (run elsewhere, it would be empty)."""
    import asyncio

    from integrator.store import Store

    async def made() -> None:
        store = await Store.open(url)
        await store.close()

    asyncio.run(made())


def json_error(stdout: str, code: int) -> dict[str, Any]:
    """The JSON error object a command given ``--json`` printed when it failed with ``code``
    (``integrator.cli.json_errors``), checked to be the whole of ``stdout``: ``code``,
    ``message``, ``fields``, ``rule``."""
    import json

    answer = json.loads(stdout)
    assert isinstance(answer, dict) and set(answer) == {"error"}, stdout
    error: dict[str, Any] = answer["error"]
    assert set(error) == {"code", "message", "fields", "rule"}, error
    assert error["code"] == code, error
    return error
