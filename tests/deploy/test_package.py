"""The project as an image runs it: a wheel, installed read-only, run by a user without privileges.

This is what the Dockerfile does, without Docker: the service user owns the store and the
destinations directories and nothing else. Editing a destination must work there (it once
answered 500 because the files belonged to root), and the demo must find the schemas, mappings
and example files inside the installed package, not in a source tree.

The wheel is built once for the module from a copy of the sources and installed without its
dependencies into a fresh virtual environment; the dependencies come from the test
environment's own site-packages (a plain path, so its editable install of the project is not
activated: the tests check that ``integrator`` is imported from the wheel).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.deploy.tools import require_binary, require_root
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("integrator", "config", "shapes", "schemas", "mappings", "destinations", "deadletter")
KEY = "a-test-search-key-of-enough-length"
OFFLINE = ("--quiet", "--no-deps", "--no-index")  # the project alone; its dependencies are borrowed

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    venv: Path
    user: pwd.struct_passwd

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def package(self) -> Path:
        found = list(self.venv.glob("lib/python*/site-packages/integrator"))
        assert len(found) == 1, found
        return found[0]

    def as_user(
        self, args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(args),
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def command(self, args: list[str]) -> list[str]:
        """``args`` run as the unprivileged user, with no supplementary groups."""
        return [
            "setpriv",
            f"--reuid={self.user.pw_uid}",
            f"--regid={self.user.pw_gid}",
            "--clear-groups",
            "--",
            *args,
        ]


def _build_wheel(into: Path) -> Path:
    source = into / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in SOURCES:
        shutil.copytree(
            ROOT / name,
            source / name,
            symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    wheels = into / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = wheels.glob("integrator-*.whl")
    return wheel


def _install(wheel: Path, venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", *OFFLINE, str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [site] = venv.glob("lib/python*/site-packages")
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    require_root("to run the installed engine as the unprivileged user 'nobody'")
    require_binary("setpriv", "util-linux")
    with tempfile.TemporaryDirectory(prefix="integrator-wheel-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)  # others may read the installation, only root may change it
        wheel = _build_wheel(base)
        _install(wheel, base / "venv")
        yield Installed(base / "venv", pwd.getpwnam("nobody"))


@dataclass(frozen=True)
class Layout:
    """The image's layout: the two directories the service user owns, and its environment."""

    home: Path
    store: Path
    destinations: Path
    env: dict[str, str]


@pytest.fixture
def layout(installed: Installed) -> Iterator[Layout]:
    with tempfile.TemporaryDirectory(prefix="integrator-home-") as tmp:
        home = Path(tmp)
        home.chmod(0o755)
        store, destinations = home / "store", home / "destinations"
        for directory in (store, destinations):
            directory.mkdir(mode=0o750)
            os.chown(directory, installed.user.pw_uid, installed.user.pw_gid)
        env = {
            "PATH": f"{installed.bin}:/usr/bin:/bin",
            "HOME": str(home),
            "INTEGRATOR_DATABASE_URL": f"sqlite:///{store}/integrator.db",
            "INTEGRATOR_DESTINATIONS_DIR": str(destinations),
            "INTEGRATOR_HTTP_PORT": str(free_port()),
            "INTEGRATOR_LOG_FORMAT": "json",
        }
        yield Layout(home, store, destinations, env)


def _copy_example(installed: Installed, layout: Layout) -> Path:
    """The example destination, copied by the user from the installed package."""
    example = installed.package / "examples" / "destinations" / "ziekenhuis-noord.yaml"
    target = layout.destinations / example.name
    done = installed.as_user(["cp", str(example), str(target)], env=layout.env, cwd=layout.home)
    assert done.returncode == 0, done.stderr
    return target


def test_the_engine_runs_from_the_wheel_which_its_user_cannot_change(
    installed: Installed, layout: Layout
) -> None:
    probe = (
        "import json, os, integrator; d = os.path.dirname(integrator.__file__); "
        "print(json.dumps([d, os.access(d, os.W_OK)]))"
    )
    done = installed.as_user(
        [str(installed.bin / "python"), "-c", probe], env=layout.env, cwd=layout.home
    )
    assert done.returncode == 0, done.stderr
    where, writable = json.loads(done.stdout)
    assert Path(where) == installed.package
    assert writable is False


def test_the_unprivileged_user_pauses_a_destination(installed: Installed, layout: Layout) -> None:
    """The first destination added with the command (which makes the store, the user's), the
    second copied in by hand and then paused: its file rewritten, its comments kept. (Paused
    before any store was there, it is refused: the file would be another store's.)"""
    first = installed.package / "examples" / "destinations" / "lab-west.yaml"
    added = installed.as_user(
        ["integrator", "destinations", "add", str(first), "--reason", "first"],
        env=layout.env,
        cwd=layout.home,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    target = _copy_example(installed, layout)
    done = installed.as_user(
        ["integrator", "destinations", "pause", "ziekenhuis-noord", "--reason", "maintenance"],
        env=layout.env,
        cwd=layout.home,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = target.read_text()
    assert "enabled: false" in text
    assert text.startswith("# Destination: Ziekenhuis Noord")  # comments kept
    assert (layout.store / "integrator.db").stat().st_uid == installed.user.pw_uid


def test_the_demo_finds_everything_it_needs_inside_the_package(
    installed: Installed, layout: Layout
) -> None:
    done = installed.as_user(["integrator", "demo"], env=layout.env, cwd=layout.home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All messages delivered" in done.stdout


def test_the_running_engine_pauses_a_destination_through_its_api(
    installed: Installed, layout: Layout
) -> None:
    """The image's case: ``integrator run`` as the service user, a PATCH-like change by API."""
    _copy_example(installed, layout)
    env = dict(layout.env, INTEGRATOR_SEARCH_KEY=KEY)
    engine = subprocess.Popen(
        installed.command(["integrator", "run"]),
        env=env,
        cwd=layout.home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert engine.stderr is not None
        for line in engine.stderr:
            if json.loads(line)["event"] == "http api listening":
                break
        else:
            raise AssertionError("the engine stopped before it listened")
        health = installed.as_user(["integrator", "health"], env=env, cwd=layout.home)
        assert health.returncode == 0, health.stdout + health.stderr
        # Made once the engine has made the store, as docs/deploy.md does: the tokens
        # commands refuse to create one.
        made = installed.as_user(
            ["integrator", "tokens", "create", "ops", "--role", "destinations", "--json"],
            env=env,
            cwd=layout.home,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        token = json.loads(made.stdout)["token"]
        url = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}/api/v1/destinations"
        answer = httpx.post(
            f"{url}/ziekenhuis-noord/pause",
            headers={"authorization": f"Bearer {token}", "x-integrator-reason": "maintenance"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert "enabled: false" in (layout.destinations / "ziekenhuis-noord.yaml").read_text()
        engine.send_signal(signal.SIGTERM)
        assert engine.wait(60) == 0
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait()


def test_the_wheel_carries_the_alert_rules_the_docs_name(installed: Installed) -> None:
    """docs/metrics.md's alert rules (``alerts.yml``) were left out of the wheel: its
    package data took ``*.yaml`` only, so an installation without the sources had none."""
    rules = installed.package / "examples" / "prometheus" / "alerts.yml"
    assert rules.is_file()
    assert "IntegratorStoreDown" in rules.read_text()
