"""A retention period of one day is said "1 day": ``prune --dry-run``'s warning said "1 days
here", its table "1 days", and the refusal of such an audit period "is 1 days"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from integrator.settings import audit_period_problem
from tests.lifecycle.test_cli import cli, env
from tests.lifecycle.test_prune_agreement import engine_keeping

__all__ = ["env"]


async def test_one_day_is_said_in_the_singular(env: dict[str, str], tmp_path: Path) -> None:
    async with engine_keeping(env, tmp_path, retain_payload_days=2):
        one_day = {**env, "INTEGRATOR_RETAIN_PAYLOAD_DAYS": "1"}
        shown = await asyncio.to_thread(cli, one_day, "prune", "--dry-run")
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.stderr.split())
    assert "INTEGRATOR_RETAIN_PAYLOAD_DAYS is 2 days there, 1 day here" in said, said
    assert "1 days" not in said
    assert "│ 1 day " in shown.stdout and "1 days" not in shown.stdout, shown.stdout


def test_an_audit_period_of_one_day_is_refused_in_the_singular() -> None:
    said = audit_period_problem(1, {"payload_days": 90})
    assert said is not None
    assert said.startswith("INTEGRATOR_RETAIN_AUDIT_DAYS is 1 day, shorter than ")
