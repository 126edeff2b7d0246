"""``integrator events route --dry-run`` through a running engine speaks in the conditional, as
the rest of the dry run does, and leaves no progress bar standing at nought."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import uuid
from pathlib import Path
from typing import Any

from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from tests.cli_in_process import run_cli as cli
from tests.http.support import token_for
from tests.resend.test_cli_through_engine import NOORD, serving_engine

UNSERVED = "kliniek-west"


async def test_a_dry_run_says_would_skip_and_finishes_its_progress_bar(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        for n in (1, 2):  # a batch: the progress bar shows from two events on
            data = copy.deepcopy(referral_data)
            data["event_id"], data["zd_number"] = str(uuid.uuid4()), f"ZD90000001{n}"
            data["provider"]["id"] = UNSERVED
            assert not (await engine.intake.submit(json.dumps(data), source="cli")).messages
        token = await token_for(engine, Grant(Role.RESEND), name="desk")
        with_token = {**env, "INTEGRATOR_TOKEN": token}
        route = ("events", "route", "--provider", UNSERVED, "--reason", "west connected?")
        dry, real = [
            await asyncio.to_thread(cli, *route, *more, env=with_token)
            for more in (("--dry-run",), ())
        ]
        # Once a destination serves the provider, the dry run says what it would route.
        await engine.admin.patch(NOORD, {"providers": [NOORD, UNSERVED]}, actor="test")
        would_route = await asyncio.to_thread(cli, *route, "--dry-run", env=with_token)
        assert len(noord.received) == 0  # dry runs send nothing
        routed = await asyncio.to_thread(cli, *route, env=with_token)
    assert (dry.returncode, real.returncode) == (1, 1), dry.stderr  # as the real run would
    said = dry.stdout.splitlines()
    assert "Dry run: 0 of 2 events would be routed via the running engine" in said[0]
    assert [line.split()[:2] for line in said[1:]] == [["would", "skip"]] * 2, dry.stdout
    assert "skipped" not in dry.stdout
    assert all(f"no destination serves provider '{UNSERVED}' yet" in line for line in said[1:])
    # The real run says what it did.
    assert real.stdout.startswith("Nothing routed: 0 of 2 events, via the running engine")
    assert [line.split()[0] for line in real.stdout.splitlines()[1:]] == ["skipped"] * 2
    assert routed.returncode == 0, routed.stderr
    assert routed.stdout.startswith("Routed 2 of 2 events via the running engine, as token:")
    assert would_route.returncode == 0, would_route.stderr
    planned = would_route.stdout.splitlines()
    assert "Dry run: 2 of 2 events would be routed" in planned[0]
    assert [line.split()[:2] for line in planned[1:]] == [["would", "route"]] * 2, planned
    assert all(line.endswith("(ref-v2, would be queued)") for line in planned[1:]), planned
    assert "✓" not in would_route.stdout
    # The bar ran to the end (or was never left behind at nought), in every run.
    for result in (dry, real, would_route):
        assert not re.search(r"\b0/2\b", result.stderr), result.stderr
