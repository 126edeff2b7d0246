"""Binaries some deployment tests need: skip with the reason without them, fail under CI.

The same rule as for RabbitMQ and PostgreSQL (``tests/services.py``): CI installs what these
tests need, so a green CI run means they ran. Docker is the exception, see ``require_docker``.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


def require_binary(name: str, package: str) -> str:
    """The path of ``name``; skip (or fail under CI) naming the Debian package that has it."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} is not installed (Debian package {package!r})")
    assert path is not None
    return path


def require_root(why: str) -> None:
    if os.geteuid() != 0:
        skip_or_fail(f"needs root: {why}")


def require_docker() -> str:
    """A docker whose daemon answers; otherwise a skip, also under CI.

    CI runs in a container without a Docker daemon, so these tests are optional everywhere;
    the image's rules are also checked without Docker (``test_dockerfile.py``).
    """
    path = shutil.which("docker")
    if path is None:
        pytest.skip("docker is not installed")
    done = subprocess.run([path, "info"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip("the Docker daemon does not answer (`docker info` fails)")
    return path
