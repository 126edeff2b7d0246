"""The machine's PostgreSQL cluster stopped, started and restarted under a running engine:
for the tests marked ``exclusive``, which run alone. Needs root (``pg_ctlcluster``)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator

import pytest

from tests.deploy.tools import require_binary, require_root
from tests.services import POSTGRES_HOST, POSTGRES_PORT, port_answers


def cluster() -> list[str]:
    """``pg_ctlcluster`` arguments naming the machine's (newest) main cluster."""
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: float(v))
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def pg_ctl(action: str) -> None:
    subprocess.run([*cluster(), action], check=True, capture_output=True, timeout=120)


@pytest.fixture
def restartable_postgres() -> Iterator[Callable[[], None]]:
    """A function that restarts PostgreSQL; afterwards PostgreSQL answers again, always."""
    require_root("pg_ctlcluster restarts the machine's PostgreSQL")
    require_binary("pg_ctlcluster", "postgresql-common")
    if not os.path.isdir("/etc/postgresql"):
        pytest.skip("no Debian PostgreSQL cluster (/etc/postgresql) to restart")
    try:
        yield lambda: pg_ctl("restart")
    finally:
        if not port_answers(POSTGRES_HOST, POSTGRES_PORT):
            pg_ctl("start")
