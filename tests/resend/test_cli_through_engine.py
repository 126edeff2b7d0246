"""``integrator resend`` with a running engine: the engine applies the rules its dry run showed."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from destinations.worker import OutboundMessage
from integrator.access import Grant, Role
from integrator.cli import app
from integrator.engine import Engine
from integrator.http import create_app
from integrator.transport import TransportUnavailable
from tests.cli_in_process import run_cli as cli
from tests.http.support import token_for
from tests.integrator.support import destination, settings_for
from tests.store.factories import make_event, make_message

NOORD = "ziekenhuis-noord"


@asynccontextmanager
async def serving_engine(env: dict[str, str], tmp_path: Path, port: int) -> AsyncIterator[Engine]:
    """An engine with its HTTP API on ``env``'s port, sending NOORD's messages to ``port``."""
    config = destination(NOORD, port, providers=[NOORD])
    path = Path(env["INTEGRATOR_DESTINATIONS_DIR"], f"{NOORD}.yaml")
    await asyncio.to_thread(path.write_text, dump_destination(config), encoding="utf-8")
    settings = settings_for(tmp_path, http_port=int(env["INTEGRATOR_HTTP_PORT"]))
    engine = Engine(settings)
    await engine.start()
    # The commands run in this process too, and print into a stream the engine's log lines
    # would share: its daily prune, due at its start, has logged before any command runs.
    await asyncio.wait_for(engine.daily_prune.first_tick.wait(), timeout=30)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine),
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            lifespan="off",
        )
    )
    listening = socket.create_server((settings.http_host, settings.http_port))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield engine
    finally:
        server.should_exit = True
        await serving
        listening.close()
        await engine.stop()


async def delivered_referral(engine: Engine, referral_data: dict[str, Any], zd_number: str) -> str:
    """The sample referral again under a new event id and ``zd_number``, taken in and
    delivered; its message's id."""
    data = copy.deepcopy(referral_data)
    data["event_id"], data["zd_number"] = str(uuid.uuid4()), zd_number
    submitted = await engine.intake.submit(json.dumps(data), source="cli")
    assert await engine.wait_settled(timeout=10)
    return submitted.messages[0].message_id


async def test_a_dry_run_goes_the_real_runs_way_and_is_refused_alike(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """docs/support.md §3: the dry run "exits with the code the real run would"."""
    env = {k: v for k, v in env.items() if k != "INTEGRATOR_TOKEN"}
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        original = await delivered_referral(engine, referral_data, "ZD900000002")
        await engine.store.set_status(original, "dead")  # a dead letter, for `deadletter resend`

        for command in (("resend", original), ("deadletter", "resend", original)):
            args = (*command, "--reason", "lab fixed")
            dry, real = [
                await asyncio.to_thread(cli, *args, *more, env=env) for more in (("--dry-run",), ())
            ]
            assert (dry.returncode, real.returncode) == (1, 1), dry.stdout
            assert dry.stderr == real.stderr
            url = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
            assert f"the engine at {url} refused: set INTEGRATOR_TOKEN" in dry.stderr
            assert dry.stdout == real.stdout == ""

        token = await token_for(engine, Grant(Role.RESEND), name="lab-desk")
        with_token = {**env, "INTEGRATOR_TOKEN": token}
        for command in (("resend", original), ("deadletter", "resend", original)):
            args = (*command, "--reason", "lab fixed", "--dry-run")
            said = await asyncio.to_thread(cli, *args, env=with_token)
            assert said.returncode == 0, said.stderr
            assert "would be resent via the running engine, as token:lab-desk" in " ".join(
                said.stdout.split()
            )
            planned = json.loads(
                (await asyncio.to_thread(cli, *args, "--json", env=with_token)).stdout
            )
            assert (planned["via"], planned["actor"]) == ("engine", "token:lab-desk")
            assert [r["original_id"] for r in planned["would_resend"]] == [original]
        assert len(noord.received) == 1  # dry runs send nothing

        done = await asyncio.to_thread(
            cli, "resend", original, "--reason", "lab fixed", "--json", env=with_token
        )
        assert done.returncode == 0, done.stderr
        assert (json.loads(done.stdout)["via"], json.loads(done.stdout)["actor"]) == (
            "engine",
            "token:lab-desk",
        )


async def test_named_and_broad_selections_through_the_engine(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    assert settings_for(tmp_path).database_url == env["INTEGRATOR_DATABASE_URL"]
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        env = {**env, "INTEGRATOR_TOKEN": await token_for(engine, Grant(Role.RESEND))}

        async def run(*args: str) -> tuple[int, dict[str, Any]]:
            result = await asyncio.to_thread(cli, *args, "--json", env=env)
            assert await engine.wait_settled(timeout=10)
            outcome: dict[str, Any] = json.loads(result.stdout)
            return result.returncode, outcome

        original = await delivered_referral(engine, referral_data, "ZD900000001")

        code, first = await run("resend", original, "--reason", "GP called")
        assert (code, first["via"], len(first["resent"])) == (0, "engine", 1)
        # The batch's job, named first on stderr: where to find it if the terminal goes.
        said = await asyncio.to_thread(cli, "resend", original, "--reason", "again", env=env)
        assert await engine.wait_settled(timeout=10)
        job = re.search(r"job (\S+): the engine resends in the background", said.stderr)
        assert job is not None, said.stderr
        assert f"GET /api/v1/jobs/{job.group(1)} follows it" in " ".join(said.stderr.split())
        # Named by ZD number: resent again, although resent (and delivered) before.
        code, by_zd = await run(
            "resend", "--zd", "ZD900000001", "--mode", "remap", "--reason", "GP again"
        )
        assert code == 0 and [r["original_id"] for r in by_zd["resent"]] == [original]

        broad = ("resend", "--destination", NOORD, "--status", "delivered", "--reason", "x")
        dry_code, promised = await run(*broad, "--dry-run")
        code, done = await run(*broad)
        assert dry_code == code == 1 and done["via"] == "engine"
        assert promised["would_resend"] == done["resent"] == []
        assert [(r["original_id"], r["note"]) for r in promised["would_skip"]] == [
            (r["original_id"], r["note"]) for r in done["skipped"]
        ]
        assert f"already resent to {NOORD}" in done["skipped"][0]["note"]
        assert len(noord.received) == 4  # the referral, and three resends of it


async def test_deadletter_resend_by_period_through_the_engine(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The period selects in the store as without an engine; the engine resends exactly what
    the dry run promised, and only what died in the period."""
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        env = {**env, "INTEGRATOR_TOKEN": await token_for(engine, Grant(Role.RESEND))}
        earlier = await delivered_referral(engine, referral_data, "ZD900000011")
        later = await delivered_referral(engine, referral_data, "ZD900000012")
        await engine.store.set_status(earlier, "dead")
        await asyncio.sleep(0.01)
        boundary = datetime.now(UTC).isoformat()  # to the microsecond, with its offset
        await asyncio.sleep(0.01)
        await engine.store.set_status(later, "dead")

        command = ["deadletter", "resend", "--since", boundary, "--reason", "HIS back", "--json"]
        # In process, in a thread of its own: the engine answers it on this loop meanwhile.
        dry = await asyncio.to_thread(CliRunner().invoke, app, [*command, "--dry-run"], env=env)
        real = await asyncio.to_thread(CliRunner().invoke, app, command, env=env)
        assert await engine.wait_settled(timeout=10)
        assert dry.exit_code == real.exit_code == 0, (dry.output, real.output)
        promised, done = json.loads(dry.stdout), json.loads(real.stdout)
        assert promised["via"] == done["via"] == "engine"
        assert [r["original_id"] for r in promised["would_resend"]] == [later]
        assert [r["original_id"] for r in done["resent"]] == [later]
        assert len(noord.received) == 3  # the two first sendings and the one resend


async def test_a_broad_selection_sends_only_what_the_token_may_resend_and_says_the_rest(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The CLI selects in the whole store; a token for one cluster then had the engine refuse
    the whole batch as unknown ids ("MESSAGE_IDS: no message has one of these ids", exit 2),
    naming an argument nobody typed, so "resend what died last night" did not work for support
    staff of one cluster. Now the others are left out, said so, and the run exits 1."""
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        token = await token_for(engine, Grant(Role.RESEND, "CARD"), name="card-desk")
        env = {**env, "INTEGRATOR_TOKEN": token}
        ours = await delivered_referral(engine, referral_data, "ZD900000021")
        await engine.store.set_status(ours, "dead")
        elsewhere = make_message(destination_id="lab-west")  # in no cluster of the token's
        assert await engine.store.accept_event(make_event(), [elsewhere])
        await engine.store.set_status(elsewhere.id, "dead")

        command = ["deadletter", "resend", "--all", "--reason", "HIS back", "--json"]
        dry = await asyncio.to_thread(CliRunner().invoke, app, [*command, "--dry-run"], env=env)
        real = await asyncio.to_thread(CliRunner().invoke, app, command, env=env)
        assert await engine.wait_settled(timeout=10)
        assert dry.exit_code == real.exit_code == 1, (dry.output, real.output)
        for run in (dry, real):
            assert (
                "1 of the selected messages lies outside the clusters of INTEGRATOR_TOKEN "
                "(token:card-desk), which may not resend it" in " ".join(run.stderr.split())
            ), run.stderr
            assert json.loads(run.stdout)["outside_token_clusters"] == 1
        assert [r["original_id"] for r in json.loads(dry.stdout)["would_resend"]] == [ours]
        assert [r["original_id"] for r in json.loads(real.stdout)["resent"]] == [ours]
        assert (await engine.store.list_resends(elsewhere.id))[1] == []


async def test_a_token_without_the_resend_role_is_told_the_role_not_its_clusters(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """Narrowed to where an intake token may resend (nowhere), every message lay "outside the
    clusters of INTEGRATOR_TOKEN": support went looking for a cluster where a role was
    missing. A resend by id said the role all along."""
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        token = await token_for(engine, Grant(Role.INTAKE), name="intake-only")
        env = {**env, "INTEGRATOR_TOKEN": token}
        letter = await delivered_referral(engine, referral_data, "ZD900000031")
        await engine.store.set_status(letter, "dead")
        command = ["deadletter", "resend", "--all", "--reason", "HIS back"]
        refused = await asyncio.to_thread(CliRunner().invoke, app, command, env=env)
        said = " ".join(refused.stderr.split())
        assert refused.exit_code != 0, refused.output
        assert "resend role" in said, said
        assert "outside the clusters" not in said and "token's clusters" not in said
        assert (await engine.store.list_resends(letter))[1] == []


async def test_a_target_the_engine_refuses_is_said_as_the_store_way_says_it(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """The engine's answer names no value it was sent; the command line names the target it
    typed when that is a well-formed destination id, and never a name."""
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        original = await delivered_referral(engine, referral_data, "ZD900000009")
        token = await token_for(engine, Grant(Role.RESEND), name="lab-desk")
        with_token = {**env, "INTEGRATOR_TOKEN": token}
        for to, said in (
            ("lab-west", "error: --to: destination lab-west is not configured"),
            ("Jan van der Berg", "error: --to: no configured destination has this id"),
        ):
            for dry_run in ((), ("--dry-run",)):
                args = ("resend", original, "--reason", "x", "--to", to, *dry_run)
                result = await asyncio.to_thread(cli, *args, env=with_token)
                assert result.returncode == 2, result.stderr
                assert " ".join(result.stderr.split()) == said
        assert await engine.store.list_resends(original) == (None, [])


async def test_a_resend_while_the_broker_is_away_succeeds_and_says_not_to_resend_it_again(
    env: dict[str, str],
    tmp_path: Path,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stored, then the publish finds the broker away (patched: the embedded transport is never
    away): the command succeeds and says the resend goes out when delivery is back, so no one
    runs it a second time (which would be a second copy at the hospital)."""
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        original = await delivered_referral(engine, referral_data, "ZD900000013")
        with_token = {**env, "INTEGRATOR_TOKEN": await token_for(engine, Grant(Role.RESEND))}

        async def unavailable(messages: Sequence[OutboundMessage]) -> None:
            raise TransportUnavailable("no connection to the message broker")

        monkeypatch.setattr(engine._transport, "publish", unavailable)
        said = await asyncio.to_thread(cli, "resend", original, "--reason", "GP", env=with_token)
        assert said.returncode == 0, said.stderr
        assert "no need to resend it again" in " ".join(said.stdout.split())
        _, resends = await engine.store.list_resends(original)
        assert len(resends) == 1
        assert len(noord.received) == 1  # the first sending only: the resend waits


async def test_a_token_for_other_clusters_is_told_so_not_that_the_message_is_unknown(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """A LAB token resending a CARD message (named by its id, or found by its ZD number) was
    told "MESSAGE_IDS: no message has one of these ids", exit 2: support concluded the referral
    did not exist. The CLI reads the store on the server; it says the token's clusters."""
    lab = destination("lab-west", 9, providers=["lab-west"], cluster="LAB", enabled=False)
    path = Path(env["INTEGRATOR_DESTINATIONS_DIR"], "lab-west.yaml")
    await asyncio.to_thread(path.write_text, dump_destination(lab), encoding="utf-8")
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        token = await token_for(engine, Grant(Role.RESEND, "LAB"), name="lab-desk")
        env = {**env, "INTEGRATOR_TOKEN": token}
        card = await delivered_referral(engine, referral_data, "ZD900000041")
        for command in (
            ["resend", card, "--reason", "GP called"],
            ["resend", "--zd", "ZD900000041", "--reason", "GP called"],
            ["resend", card[:8], "--reason", "GP called", "--dry-run"],
        ):
            run = await asyncio.to_thread(cli, *command, env=env)
            said = " ".join(run.stderr.split())
            assert run.returncode == 1, said
            assert "no message has one of these ids" not in said
            assert "outside the clusters of INTEGRATOR_TOKEN (token:lab-desk)" in said, said
        assert (await engine.store.list_resends(card))[1] == []
        assert len(noord.received) == 1


async def test_a_selection_of_nothing_says_the_way_and_the_actor_a_run_would_have(
    env: dict[str, str], tmp_path: Path
) -> None:
    """``--json`` said ``"via": null`` and the local user for a selection of nothing, where a
    selection of one said the engine and the token (found by a support walkthrough)."""
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        token = await token_for(engine, Grant(Role.RESEND), name="desk")
        args = ("resend", "--zd", "ZD299999999", "--reason", "GP called", "--json", "--dry-run")
        run = await asyncio.to_thread(cli, *args, env={**env, "INTEGRATOR_TOKEN": token})
    assert run.returncode == 1, run.stderr
    said = json.loads(run.stdout)
    assert (said["via"], said["actor"], said["total"]) == ("engine", "token:desk", 0)
    assert "no message matches the selection" in run.stderr
