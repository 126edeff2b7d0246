"""compose.yaml: the services docs/deploy.md describes, wired so that they can work together.

Read as YAML (no Docker needed) and, where the Docker Compose plugin is installed, checked by
``docker compose config`` as well.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from destinations.config import destination_from_mapping
from integrator.engine import stop_budget_s
from integrator.settings import Settings
from tests.deploy.test_dockerfile import env_of, instructions

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ("engine-1", "engine-2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def test_it_has_the_broker_the_store_two_engines_and_a_receiver(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgres",
        "rabbitmq",
        "receiver",
        "seed",
        *ENGINES,
    }


def test_the_engines_share_one_store_one_broker_one_key_and_the_destinations(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    first, second = (services[name] for name in ENGINES)
    assert first["environment"] == second["environment"]
    env = first["environment"]
    assert env["INTEGRATOR_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["INTEGRATOR_DATABASE_URL"]
    assert "@rabbitmq:5672/" in env["INTEGRATOR_AMQP_URL"]
    # Secrets come from the environment and are required: no default anyone could know.
    for value in (env["INTEGRATOR_SEARCH_KEY"], env["INTEGRATOR_DATABASE_URL"]):
        assert "${" in value and ":?" in value
    image_dirs = env_of(instructions())
    mounts = {f"destinations:{image_dirs['INTEGRATOR_DESTINATIONS_DIR']}"}
    for name in (*ENGINES, "seed"):
        assert mounts <= set(services[name]["volumes"]), name
    assert {first["ports"][0], second["ports"][0]} == {
        "127.0.0.1:8080:8080",
        "127.0.0.1:8081:8080",
    }


MARGIN_S = 5.0
"""What the grace period must leave beyond the stop budget."""


def test_the_engines_get_enough_time_to_finish_an_attempt_when_stopped(
    compose: dict[str, Any],
) -> None:
    defaults = destination_from_mapping(
        yaml.safe_load(compose["configs"]["ziekenhuis-noord"]["content"]), source="compose"
    )
    # The whole stop (``stop_budget_s``: the attempt, the HTTP API, a store that does not
    # answer), with a margin for a loaded host: past the grace period the attempt is cut off.
    needed = stop_budget_s(defaults.connect_timeout + 2 * defaults.ack_timeout) + MARGIN_S
    for name in ENGINES:
        engine = compose["services"][name]
        assert engine["stop_signal"] == "SIGTERM"
        grace = engine["stop_grace_period"]
        assert grace.endswith("s") and float(grace[:-1]) > needed


def test_the_seeded_destinations_point_at_the_receiver_and_serve_the_samples(
    compose: dict[str, Any],
) -> None:
    receiver = compose["services"]["receiver"]["command"]
    port = int(receiver[receiver.index("--port") + 1])
    seeded = [
        destination_from_mapping(yaml.safe_load(config["content"]), source=name)
        for name, config in compose["configs"].items()
    ]
    assert {(d.host, d.port) for d in seeded} == {("receiver", port)}
    served = {provider for d in seeded for provider in d.providers}
    samples = (ROOT / "config" / "samples").glob("*.json")
    assert {json.loads(p.read_text())["provider"]["id"] for p in samples} <= served
    targets = {c["target"] for c in compose["services"]["seed"]["configs"]}
    assert targets == {f"/seed/{d.id}.yaml" for d in seeded}


def test_the_example_secrets_file_names_every_variable_compose_requires() -> None:
    text = (ROOT / "compose.yaml").read_text()
    required = {
        word.split(":?")[0]
        for word in text.replace("}", " ").split("${")[1:]
        if ":?" in word.split()[0]
    }
    example = (ROOT / "deploy.env.example").read_text().splitlines()
    named = {line.split("=", 1)[0] for line in example if "=" in line and line[0] != "#"}
    assert required and required <= named


def test_the_example_search_key_is_a_setting_a_new_store_refuses_as_the_placeholder() -> None:
    """So a first try with the example file fails on nothing but the values to change, and the
    key's refusal says it is the example's placeholder (a key everyone knows)."""
    for line in (ROOT / "deploy.env.example").read_text().splitlines():
        if line.startswith("INTEGRATOR_SEARCH_KEY="):
            settings = Settings(search_key=line.split("=", 1)[1])
            assert settings.search_key_weakness() == "it is the example settings' placeholder"
            return
    raise AssertionError("deploy.env.example lacks INTEGRATOR_SEARCH_KEY")


def test_docker_compose_accepts_it(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed")
    plugin = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30
    )
    if plugin.returncode != 0:
        pytest.skip("the Docker Compose plugin is not installed (`docker compose version` fails)")
    env = dict(os.environ)
    for line in (ROOT / "deploy.env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    done = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, shlex.join(done.args) + "\n" + done.stderr
