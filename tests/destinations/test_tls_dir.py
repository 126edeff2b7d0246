"""The TLS directory (``destinations.tls_dir``): a path outside it is refused without a look
at the file; where the directory is by default; the console's words for its refusals."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from destinations.config import DestinationFileError, destination_from_mapping
from destinations.tls_dir import MISSING, NOT_A_DIRECTORY, OUTSIDE, TlsDirectory
from integrator.console.i18n import EN, NL
from integrator.console.refusals import definition_problem, say
from integrator.settings import Settings
from tests.destinations.certificate_files import tls_files

DEFINITION: dict[str, Any] = {
    "id": "lab",
    "name": "Lab",
    "host": "127.0.0.1",
    "port": 2575,
    "messages": {"referral": "ref-v2"},
}


def refused(tls: dict[str, Any], tls_dir: TlsDirectory | None) -> DestinationFileError:
    with pytest.raises(DestinationFileError) as caught:
        destination_from_mapping({**DEFINITION, "tls": tls}, source="lab.yaml", tls_dir=tls_dir)
    return caught.value


@pytest.fixture
def looked_at(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path the process stats, lstats or asks access to from here on."""
    seen: list[str] = []

    def recording(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(os.fsdecode(path) if isinstance(path, str | bytes | Path) else "")
            return real(path, *args, **kwargs)

        return call

    for name in ("stat", "lstat", "access"):
        monkeypatch.setattr(os, name, recording(getattr(os, name)))
    return seen


def test_a_path_outside_is_refused_before_anything_looks_at_it(
    tmp_path: Path, looked_at: list[str]
) -> None:
    tls_dir = TlsDirectory(tmp_path / "tls")
    (tmp_path / "tls").mkdir()
    outside = tmp_path / "elsewhere" / "ca.pem"
    for path in ("/etc/passwd", "/nonexistent/x", str(outside), f"{tmp_path}/tls/../x.pem"):
        looked_at.clear()
        problem = refused({"ca_file": path}, tls_dir)
        assert (problem.key, problem.code) == ("tls.ca_file", OUTSIDE)
        assert problem.rule == (
            f"must be a file inside the TLS directory, INTEGRATOR_TLS_DIR ({tmp_path}/tls)"
        )
        assert problem.values == {"directory": f"{tmp_path}/tls", "setting": "INTEGRATOR_TLS_DIR"}
        # Only the directory itself was looked at: nothing at or below the path given.
        assert looked_at, "the recorder records"
        assert all(
            not seen.startswith(("/etc", "/nonexistent", str(outside))) for seen in looked_at
        )
        assert not any(seen.endswith("x.pem") for seen in looked_at)


def test_a_path_kept_from_the_definition_in_service_is_not_held_to_it(tmp_path: Path) -> None:
    pki = tls_files(tmp_path / "pki") if shutil.which("openssl") else None
    if pki is None:
        pytest.skip("openssl CLI not found")
    (tmp_path / "tls").mkdir()
    kept = TlsDirectory(tmp_path / "tls").keeping({"ca_file": Path(pki["ca_file"])})
    config = destination_from_mapping(
        {**DEFINITION, "tls": {"ca_file": pki["ca_file"]}}, source="lab.yaml", tls_dir=kept
    )
    assert config.tls is not None and str(config.tls.ca_file) == pki["ca_file"]
    # Kept for its own key only: the same file named as another key is brought in.
    problem = refused({"ca_file": pki["ca_file"], "cert_file": pki["ca_file"]}, kept)
    assert (problem.key, problem.code) == ("tls.cert_file", OUTSIDE)


def test_a_missing_or_no_directory_is_said_naming_the_setting(tmp_path: Path) -> None:
    missing = refused({"ca_file": f"{tmp_path}/tls/ca.pem"}, TlsDirectory(tmp_path / "tls"))
    assert missing.code == MISSING
    assert missing.rule.startswith(
        f"cannot be taken: the TLS directory {tmp_path}/tls (INTEGRATOR_TLS_DIR) does not exist"
    )
    (tmp_path / "tls").write_text("")
    a_file = refused({"ca_file": "/etc/passwd"}, TlsDirectory(tmp_path / "tls"))
    assert a_file.code == NOT_A_DIRECTORY
    assert "(INTEGRATOR_TLS_DIR) is not a directory" in a_file.rule


def test_a_relative_directory_is_the_working_directory_s_and_named_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config" / "tls").mkdir(parents=True)
    problem = refused({"ca_file": "/etc/passwd"}, TlsDirectory(Path("config/tls")))
    assert f"({tmp_path}/config/tls)" in problem.rule
    inside = refused(
        {"ca_file": f"{tmp_path}/config/tls/gone.pem"}, TlsDirectory(Path("config/tls"))
    )
    assert (inside.code, inside.rule) == ("file_missing", "file does not exist")


def test_without_a_directory_any_path_is_looked_at_as_before(tmp_path: Path) -> None:
    """The command line's and a hand-written file's validation: not held to a directory."""
    problem = refused({"ca_file": f"{tmp_path}/gone.pem"}, None)
    assert (problem.code, problem.rule) == ("file_missing", "file does not exist")


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("INTEGRATOR_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("no_settings")
def test_the_directory_is_tls_beside_the_destinations_directory_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().tls_dir is None
    assert Settings().tls_directory == Path("config/tls")
    monkeypatch.setenv("INTEGRATOR_DESTINATIONS_DIR", "/var/lib/integrator/destinations")
    assert Settings().tls_directory == Path("/var/lib/integrator/tls")  # the image's
    monkeypatch.setenv("INTEGRATOR_TLS_DIR", "/etc/integrator/tls")
    assert Settings().tls_directory == Path("/etc/integrator/tls")


@pytest.mark.parametrize("code", [OUTSIDE, MISSING, NOT_A_DIRECTORY])
def test_the_console_words_each_refusal_in_english_and_dutch(code: str) -> None:
    assert f"refusal.definition.{code}" in EN
    assert f"refusal.definition.{code}" in NL
    problem = DestinationFileError(
        "lab.yaml",
        "tls.ca_file",
        "the service's words",
        code=code,
        values={"directory": "/srv/integrator/tls", "setting": "INTEGRATOR_TLS_DIR"},
    )
    dutch = say("nl", definition_problem(problem))
    assert "TLS-map" in dutch and "/srv/integrator/tls" in dutch and "INTEGRATOR_TLS_DIR" in dutch
    english = say("en", definition_problem(problem))
    assert "TLS directory /srv/integrator/tls" in english or "TLS directory, " in english


def test_a_directory_named_through_a_link_takes_paths_by_either_name(tmp_path: Path) -> None:
    """``/srv/integrator/tls`` a link to a mounted volume: a file named under the link or
    under where it leads is inside (checked then as any file inside: here, not there)."""
    (tmp_path / "volume").mkdir()
    (tmp_path / "tls").symlink_to(tmp_path / "volume", target_is_directory=True)
    tls_dir = TlsDirectory(tmp_path / "tls")
    for path in (tmp_path / "tls" / "ca.pem", tmp_path / "volume" / "ca.pem"):
        problem = refused({"ca_file": str(path)}, tls_dir)
        assert problem.code == "file_missing", problem.rule
    assert refused({"ca_file": f"{tmp_path}/ca.pem"}, tls_dir).code == OUTSIDE
