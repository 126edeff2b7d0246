"""The TLS directory (``destinations.tls_dir``): a path outside the directory of the
destination's cluster (the whole directory for a destination in no cluster) is refused without
a look at the file; how a cluster's name is its directory's; where the directory is by default;
the console's words for its refusals."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from destinations.config import DestinationFileError, destination_from_mapping
from destinations.tls_dir import (
    CLUSTER_MISSING,
    CLUSTER_NOT_A_DIRECTORY,
    MISSING,
    NO_CLUSTER_NAME,
    NOT_A_DIRECTORY,
    OUTSIDE,
    OUTSIDE_CLUSTER,
    TlsDirectory,
    directory_name,
)
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


def refused(tls: dict[str, Any], tls_dir: TlsDirectory | None, **more: Any) -> DestinationFileError:
    with pytest.raises(DestinationFileError) as caught:
        destination_from_mapping(
            {**DEFINITION, "tls": tls, **more}, source="lab.yaml", tls_dir=tls_dir
        )
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
    (tmp_path / "tls" / "CARD").mkdir(parents=True)
    kept = TlsDirectory(tmp_path / "tls").keeping({"ca_file": Path(pki["ca_file"])}, None)
    config = destination_from_mapping(
        {**DEFINITION, "tls": {"ca_file": pki["ca_file"]}}, source="lab.yaml", tls_dir=kept
    )
    assert config.tls is not None and str(config.tls.ca_file) == pki["ca_file"]
    # Kept for its own key only: the same file named as another key is brought in.
    problem = refused({"ca_file": pki["ca_file"], "cert_file": pki["ca_file"]}, kept)
    assert (problem.key, problem.code) == ("tls.cert_file", OUTSIDE)
    # And in its own cluster only: a definition that moves to another brings them all in.
    moved = refused({"ca_file": pki["ca_file"]}, kept, cluster="CARD")
    assert (moved.key, moved.code) == ("tls.ca_file", OUTSIDE_CLUSTER)
    in_lab = TlsDirectory(tmp_path / "tls").keeping({"ca_file": Path(pki["ca_file"])}, "LAB")
    config = destination_from_mapping(
        {**DEFINITION, "cluster": "LAB", "tls": {"ca_file": pki["ca_file"]}},
        source="lab.yaml",
        tls_dir=in_lab,
    )
    assert config.tls is not None
    assert refused({"ca_file": pki["ca_file"]}, in_lab, cluster="CARD").code == OUTSIDE_CLUSTER
    assert refused({"ca_file": pki["ca_file"]}, in_lab).code == OUTSIDE  # into no cluster


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


@pytest.mark.parametrize(
    "code",
    [
        OUTSIDE,
        MISSING,
        NOT_A_DIRECTORY,
        OUTSIDE_CLUSTER,
        CLUSTER_MISSING,
        CLUSTER_NOT_A_DIRECTORY,
        NO_CLUSTER_NAME,
    ],
)
def test_the_console_words_each_refusal_in_english_and_dutch(code: str) -> None:
    assert f"refusal.definition.{code}" in EN
    assert f"refusal.definition.{code}" in NL
    problem = DestinationFileError(
        "lab.yaml",
        "tls.ca_file",
        "the service's words",
        code=code,
        values={
            "directory": "/srv/integrator/tls",
            "setting": "INTEGRATOR_TLS_DIR",
            "cluster": "CARD",
            "subdirectory": "CARD",
        },
    )
    dutch = say("nl", definition_problem(problem))
    english = say("en", definition_problem(problem))
    assert "TLS-map" in dutch and "INTEGRATOR_TLS_DIR" in dutch and "{" not in dutch
    assert "TLS directory" in english and "INTEGRATOR_TLS_DIR" in english and "{" not in english
    if code != NO_CLUSTER_NAME:
        assert "/srv/integrator/tls" in dutch and "/srv/integrator/tls" in english
    if code in (OUTSIDE_CLUSTER, CLUSTER_MISSING, CLUSTER_NOT_A_DIRECTORY):
        assert "cluster CARD" in dutch and "INTEGRATOR_TLS_DIR/CARD" in dutch
        assert "cluster CARD" in english and "INTEGRATOR_TLS_DIR/CARD" in english


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


def test_a_destination_in_a_cluster_may_name_files_in_its_cluster_s_directory_only(
    tmp_path: Path, looked_at: list[str]
) -> None:
    """The finding: one directory for all let a manager of CARD name LAB's client certificate
    and key for a CARD destination. Another cluster's file, there or not, is refused in the
    same words as any path outside, before anything looks at it."""
    pki = tls_files(tmp_path / "tls" / "LAB") if shutil.which("openssl") else None
    if pki is None:
        pytest.skip("openssl CLI not found")
    (tmp_path / "tls" / "CARD").mkdir()
    tls_dir = TlsDirectory(tmp_path / "tls")
    card = f"{tmp_path}/tls/CARD"
    for path in (pki["cert_file"], f"{tmp_path}/tls/LAB/gone.pem", f"{tmp_path}/tls/ca.pem"):
        looked_at.clear()
        problem = refused({"cert_file": path}, tls_dir, cluster="CARD")
        assert (problem.key, problem.code) == ("tls.cert_file", OUTSIDE_CLUSTER)
        assert problem.rule == (
            f"must be a file inside the TLS directory of cluster CARD, {card} "
            "(INTEGRATOR_TLS_DIR/CARD)"
        )
        assert problem.values == {
            "cluster": "CARD",
            "directory": card,
            "setting": "INTEGRATOR_TLS_DIR",
            "subdirectory": "CARD",
        }
        assert not any("/LAB" in seen or seen.endswith("ca.pem") for seen in looked_at)
    # ``..`` out of its own directory into another's, and a link in it to another's, are out.
    (tmp_path / "tls" / "CARD" / "lab.pem").symlink_to(pki["cert_file"])
    for path in (f"{card}/../LAB/client.pem", f"{card}/lab.pem"):
        assert refused({"cert_file": path}, tls_dir, cluster="CARD").code == OUTSIDE_CLUSTER
    # LAB's own destination takes them, as does one in no cluster (only for who manages all).
    for cluster in ("LAB", None):
        config = destination_from_mapping(
            {**DEFINITION, "cluster": cluster, "tls": pki}, source="lab.yaml", tls_dir=tls_dir
        )
        assert config.tls is not None and str(config.tls.key_file) == pki["key_file"]


def test_a_missing_cluster_directory_is_said_naming_it(tmp_path: Path) -> None:
    """Alike for every path (the cluster's manager learns only that the directory is not
    made), and naming the cluster's directory also while the TLS directory itself is missing:
    making that one makes both."""
    tls_dir = TlsDirectory(tmp_path / "tls")
    for path in (f"{tmp_path}/tls/CARD/ca.pem", "/etc/passwd"):
        missing = refused({"ca_file": path}, tls_dir, cluster="CARD")
        assert missing.code == CLUSTER_MISSING
        assert missing.rule == (
            f"cannot be taken: the TLS directory of cluster CARD, {tmp_path}/tls/CARD "
            "(INTEGRATOR_TLS_DIR/CARD), does not exist; the server's administrator makes it "
            "and puts the certificate and key files of the cluster's destinations in it"
        )
    (tmp_path / "tls").mkdir()
    assert refused({"ca_file": "/etc/passwd"}, tls_dir, cluster="CARD").code == CLUSTER_MISSING
    (tmp_path / "tls" / "CARD").write_text("")
    a_file = refused({"ca_file": "/etc/passwd"}, tls_dir, cluster="CARD")
    assert a_file.code == CLUSTER_NOT_A_DIRECTORY
    assert "(INTEGRATOR_TLS_DIR/CARD), is not a directory" in a_file.rule


@pytest.mark.parametrize(
    ("cluster", "name"),
    [
        ("CARD", "CARD"),
        ("Lab Noord", "Lab Noord"),
        ("a/b", "a%2Fb"),
        ("../LAB", "..%2FLAB"),
        ("50%", "50%25"),
        ("a%2Fb", "a%252Fb"),
        (".", "%2E"),
        ("..", "%2E%2E"),
        ("...", "..."),
        ("x\x00y", "x%00y"),
    ],
)
def test_a_cluster_s_directory_is_its_name_but_for_what_a_path_cannot_hold(
    cluster: str, name: str
) -> None:
    assert directory_name(cluster) == name
    joined = os.path.normpath(os.path.join("/srv/tls", name))
    assert os.path.dirname(joined) == "/srv/tls"  # one entry in it: never it, its parent, another's


def test_a_cluster_s_name_with_a_slash_or_dots_stays_in_a_directory_of_its_own(
    tmp_path: Path,
) -> None:
    (tmp_path / "tls" / "LAB").mkdir(parents=True)
    (tmp_path / "tls" / "LAB" / "ca.pem").write_text("")
    tls_dir = TlsDirectory(tmp_path / "tls")
    for cluster, directory in (("../LAB", "..%2FLAB"), ("..", "%2E%2E"), ("a/../LAB", None)):
        shown = f"{tmp_path}/tls/{directory or 'a%2F..%2FLAB'}"
        problem = refused({"ca_file": f"{tmp_path}/tls/LAB/ca.pem"}, tls_dir, cluster=cluster)
        assert (problem.code, problem.values["directory"]) == (CLUSTER_MISSING, shown)


def test_a_cluster_that_is_no_name_looks_at_no_file(tmp_path: Path, looked_at: list[str]) -> None:
    """``cluster: 2024`` (a YAML number): which directory holds its files cannot be told, so
    none is looked at; the cluster is refused beside it."""
    (tmp_path / "tls").mkdir()
    problem = refused({"ca_file": "/etc/passwd"}, TlsDirectory(tmp_path / "tls"), cluster=2024)
    assert [(p.key, p.code) for p in problem.problems] == [
        ("cluster", None),
        ("tls.ca_file", NO_CLUSTER_NAME),
    ]
    assert problem.problems[1].rule == (
        "cannot be checked while cluster is not a cluster's name: the files must lie in the "
        "TLS directory of the destination's cluster (INTEGRATOR_TLS_DIR)"
    )
    assert not any(seen.startswith(("/etc", str(tmp_path))) for seen in looked_at)
