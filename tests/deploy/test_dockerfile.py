"""The image's rules, read from the Dockerfile (no Docker needed), and a build where Docker runs.

Each rule is one that broke or would break a deployment: a store or destinations directory the
service user cannot write (pausing a destination answered 500), state outside a volume (lost
with the container), running as root, no health check, a stop signal the engine does not treat
as "finish the attempt on the wire".
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import require_docker

ROOT = Path(__file__).resolve().parents[2]


def instructions(stage: int = -1) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of one stage, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            stages.append([])
        stages[-1].append((word.upper(), rest.strip()))
    return stages[stage]


def env_of(final: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for word, rest in final:
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                values[key] = value
    return values


def test_the_store_and_the_destinations_are_volumes_owned_by_the_service_user() -> None:
    final = instructions()
    env = env_of(final)
    [volumes] = [json.loads(rest) for word, rest in final if word == "VOLUME"]
    database = env["INTEGRATOR_DATABASE_URL"].removeprefix("sqlite:///")
    assert str(Path(database).parent) in volumes
    assert env["INTEGRATOR_DESTINATIONS_DIR"] in volumes
    [setup] = [rest for word, rest in final if word == "RUN" and "install -d" in rest]
    owned = shlex.split(setup.split("install -d", 1)[1])
    assert owned[:4] == ["-o", "integrator", "-g", "integrator"]
    for volume in volumes:
        assert volume in owned
    # VOLUME comes after the RUN that made them: later changes to a volume path are discarded.
    words = [word for word, _ in final]
    assert words.index("VOLUME") > final.index(("RUN", setup))


def test_it_runs_as_the_service_user_not_root() -> None:
    users = [rest for word, rest in instructions() if word == "USER"]
    assert users == ["integrator"]


def test_the_code_is_installed_from_a_wheel_not_editable() -> None:
    runs = " ".join(rest for word, rest in instructions() if word == "RUN")
    assert "pip install" in runs and " -e " not in runs and "--editable" not in runs
    assert "pip wheel" in " ".join(rest for word, rest in instructions(0) if word == "RUN")


def test_it_stops_on_sigterm_and_checks_its_health() -> None:
    final = dict(instructions())
    assert final["STOPSIGNAL"] == "SIGTERM"
    assert final["HEALTHCHECK"].endswith('CMD ["integrator", "health"]')
    assert final["CMD"] == '["integrator", "run"]'
    assert "INTEGRATOR_HTTP_HOST" in env_of(instructions())


@pytest.mark.slow
def test_the_image_builds() -> None:
    docker = require_docker()
    done = subprocess.run(
        [docker, "build", "--quiet", "--tag", "integrator:test", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr
