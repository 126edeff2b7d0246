"""``integrator submit`` of a file above ``EVENT_BODY_LIMIT``: refused unread, kept, said.

It read every file whole: into the store it parsed one of 70 MiB (several times that in
memory) to refuse it and kept all its bytes; through the engine it held it whole to send it,
and the engine's 413 was said as a file "not taken" (exit 1: try again). Now such a file is
not read: into the store it is kept as rejected input without its bytes, rule
``body_too_large`` with its size, as the API keeps a body too large; through the engine it is
declared by its size alone, which the API refuses before it reads a byte and keeps; both
say it as a refused file (exit 2) and submit the others.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from integrator.access import Grant, Role
from integrator.submit import TooLarge, read_files, submit_via_http
from schemas.refused import EVENT_BODY_LIMIT
from tests.cli_in_process import run_cli as cli
from tests.http.support import token_for
from tests.http.test_store_failures import engine_on, serving

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "samples"
SIZE = EVENT_BODY_LIMIT + 1


def large_file(tmp_path: Path) -> Path:
    """A file one byte above the limit, of no disk space (sparse): none of it is JSON."""
    path = tmp_path / "large.json"
    with path.open("wb") as file:
        file.truncate(SIZE)
    return path


def test_into_the_store_it_is_kept_without_its_bytes_and_the_others_go_in(
    env: dict[str, str], tmp_path: Path
) -> None:
    files = [str(large_file(tmp_path)), str(SAMPLES / "referral.json")]
    result = cli("submit", "--json", *files, env=env)
    assert result.returncode == 2, result.stderr
    refused, taken = json.loads(result.stdout)
    assert taken["accepted"] is True
    assert refused["accepted"] is False and refused["rejected_id"]
    assert refused["errors"] == [
        {
            "path": "$",
            "rule": "body_too_large",
            "message": f"is {SIZE} bytes, more than the {EVENT_BODY_LIMIT} bytes an event may be; "
            "the body was not read as an event or kept",
        }
    ]
    shown = cli("rejected", "show", refused["rejected_id"], "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    kept = json.loads(shown.stdout)
    assert (kept["source"], kept["body"]) == ("cli", "")
    assert kept["caller"].startswith("local:")
    plain = cli("rejected", "show", refused["rejected_id"], env={**env, "COLUMNS": "200"})
    assert plain.stdout.rstrip().endswith(
        "Body as it arrived:\nnothing kept: it was refused before it was read"
    ), plain.stdout

    said = cli("submit", files[0], env=env)
    assert said.returncode == 2
    assert f"{files[0]}: refused (kept as rejected event " in said.stdout
    assert "[body_too_large]" in said.stdout


async def test_through_the_engine_it_is_refused_on_its_declared_size_and_kept(
    tmp_path: Path,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample = tmp_path / "referral.json"
    sample.write_text(json.dumps(referral_data))
    async with (
        engine_on(tmp_path, f"sqlite:///{tmp_path}/store.db") as engine,
        serving(engine) as api,
    ):
        monkeypatch.setenv("INTEGRATOR_TOKEN", api.headers["Authorization"].split()[1])
        settings = engine.settings.model_copy(update={"http_port": api.base_url.port})
        files = read_files([large_file(tmp_path), sample])
        assert files[0][1] == TooLarge(SIZE)  # not read
        refused, taken = await submit_via_http(settings, files)
        assert taken.accepted is not None
        [summary] = await engine.store.list_rejected()
        # The engine's answer names the id it kept it under (X-Integrator-Rejected-Id).
        assert (refused.accepted, refused.failed, refused.rejected_id) == (None, None, summary.id)
        said = (
            f"is {SIZE} bytes, more than the {EVENT_BODY_LIMIT} bytes an event may be; "
            "the body was not read as an event or kept"
        )
        assert refused.errors == [{"path": "$", "rule": "body_too_large", "message": said}]
        record = await engine.store.get_rejected(summary.id)
        assert record is not None
        assert (record.source, record.raw) == ("http", b"")
        assert record.reason[0]["rule"] == "body_too_large"
        assert record.caller is not None and record.caller.startswith("token:")

        # A token that may not submit events: nothing kept, and said so, not as refused input.
        viewer = await token_for(engine, Grant(Role.VIEWER), name="viewer-only")
        monkeypatch.setenv("INTEGRATOR_TOKEN", viewer)
        [unkept] = await submit_via_http(settings, files[:1])
        assert unkept.failed is not None and unkept.errors is None, unkept
        assert "nothing was kept, as INTEGRATOR_TOKEN is no token with the intake role" in (
            unkept.failed
        )
        assert len(await engine.store.list_rejected()) == 1
