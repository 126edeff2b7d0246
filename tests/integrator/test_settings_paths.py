"""A path setting given empty is refused, not read as the working directory.

``INTEGRATOR_TLS_DIR=`` (or the destinations directory, or the API's certificate files) left
empty in a settings file read as ``Path("")``, which is ``.``: in the image the working
directory is where the store lies, so the engine would have looked for destinations or TLS
files among its own files without a word. Now it is a bad setting like any other: exit 2,
naming the variable and the rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from integrator.settings import Settings
from tests.cli_in_process import run_cli as cli

RULE = "must name a path; leave the variable unset for its default"
PATHS = ["destinations_dir", "tls_dir", "http_tls_cert_file", "http_tls_key_file"]


@pytest.mark.parametrize("field", PATHS)
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_path_is_refused_naming_the_rule(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({field: value})
    assert RULE in str(refused.value)


def test_a_path_given_is_kept(tmp_path: Path) -> None:
    settings = Settings(destinations_dir=tmp_path / "d", tls_dir=tmp_path / "t")
    assert settings.tls_directory == tmp_path / "t"
    assert Settings(destinations_dir=tmp_path / "d").tls_directory == tmp_path / "tls"


def test_the_command_line_exits_2_naming_the_variable(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "INTEGRATOR_TLS_DIR": ""}
    result = cli("destinations", "list", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "INTEGRATOR_TLS_DIR" in result.stderr
    assert RULE in result.stderr
