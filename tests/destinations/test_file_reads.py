"""``FileReads``: the destination files read again give what ``load_destination_files`` gives,
a file whose text is unchanged not parsed or validated again, any change seen at once (also
one that keeps the file's size and modification time), and a definition naming TLS files
validated again when one of them changes, so a certificate gone is refused without its file
changing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import yaml

from destinations import file_reads
from destinations.config import DestinationFileError, definition_of, load_destination_files
from destinations.file_reads import FileReads
from tests.file_powers import without_file_powers

LAB = {
    "id": "lab-oost",
    "name": "Lab Oost",
    "host": "127.0.0.1",
    "port": 2577,
    "messages": {"diagnostic_request": "orm-v3"},
}


def write(directory: Path, data: dict[str, Any] | str, name: str = "lab-oost.yaml") -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def said(found: tuple[list[Any], list[DestinationFileError]]) -> tuple[list[Any], list[str]]:
    """What a read says: the definitions with their files, and every refusal's words."""
    loaded, errors = found
    return loaded, [str(e) for e in errors]


def counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """The sources ``file_reads.<name>`` (the YAML parse, the validation) is called for."""
    calls: list[str] = []
    real = getattr(file_reads, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("source", args[-1] if args else ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(file_reads, name, counted)
    return calls


def test_the_same_as_reading_the_files_and_unchanged_ones_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, LAB)
    write(tmp_path, {**LAB, "id": "noord", "port": "x"}, "noord.yaml")  # refused: port
    write(tmp_path, "id: [", "broken.yaml")  # refused: no YAML
    write(tmp_path, {**LAB, "id": "zuid"}, "copy.yaml")  # refused: misnamed
    parses, validations = (
        counting(monkeypatch, "parse_yaml"),
        counting(monkeypatch, "destination_from_mapping"),
    )
    reads = FileReads()
    for _ in range(3):
        assert said(reads.load(tmp_path)) == said(load_destination_files(tmp_path))
    assert len(parses) == 4  # each file once: the loader's own reads call the real parse
    assert len(validations) == 3  # each parsed file once


def test_a_change_is_read_even_when_size_and_modification_time_stay(tmp_path: Path) -> None:
    path = write(tmp_path, {**LAB, "port": 2577})
    reads = FileReads()
    [(_, config)] = reads.load(tmp_path)[0]
    assert config.port == 2577
    stat = path.stat()
    write(tmp_path, {**LAB, "port": 2578})  # the same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and time, as a tool may leave it
    assert path.stat().st_size == stat.st_size
    [(_, config)] = reads.load(tmp_path)[0]
    assert config.port == 2578
    write(tmp_path, {**LAB, "port": "x"})
    loaded, errors = reads.load(tmp_path)
    assert loaded == [] and [e.key for e in errors] == ["port"]
    assert [e.key for e in reads.load(tmp_path)[1]] == ["port"]  # refused again, the same
    path.unlink()
    assert reads.load(tmp_path) == ([], [])
    write(tmp_path, LAB)
    assert [c.id for _, c in reads.load(tmp_path)[0]] == ["lab-oost"]


def tls_destination(tmp_path: Path) -> tuple[Path, Path]:
    """A destination file naming a CA, a client certificate and its key (mutual TLS), made by
    the openssl CLI: (the destinations directory, the directory of the PKI files)."""
    from tests.destinations.test_tls import _ca, _leaf

    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not found")
    pki = tmp_path / "pki"
    pki.mkdir()
    _ca(pki, "ca")
    _ca(pki, "other")
    _leaf(pki, "client", "ca", "clientAuth")
    files = tmp_path / "destinations"
    files.mkdir()
    tls = {
        "ca_file": str(pki / "ca.pem"),
        "cert_file": str(pki / "client.pem"),
        "key_file": str(pki / "client.key"),
        "server_name": "localhost",
    }
    write(files, {**LAB, "tls": tls})
    return files, pki


def test_a_definition_naming_tls_files_is_validated_again_when_one_of_them_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its certificate can go, or be replaced, while its file stays as it was: the next read
    says what reading the files without ``FileReads`` says. While nothing changes it is not
    validated again: that loaded its certificates at every listing and dashboard refresh."""
    files, pki = tls_destination(tmp_path)
    parses = counting(monkeypatch, "parse_yaml")
    validations = counting(monkeypatch, "destination_from_mapping")
    reads = FileReads()
    ca = pki / "ca.pem"

    def read(validated: int) -> tuple[list[Any], list[str]]:
        """A read, said as it is said without ``FileReads``; ``validated``: in all so far."""
        found = said(reads.load(files))
        assert found == said(load_destination_files(files))
        assert len(validations) == validated
        return found

    key = pki / "client.key"
    ca_bytes, key_bytes = ca.read_bytes(), key.read_bytes()
    first = reads.load(files)[0]
    assert [c.id for _, c in first] == ["lab-oost"] and len(validations) == 1
    assert read(1)[0] == first  # unchanged: the same definition, not validated again
    ca.write_bytes((pki / "other.pem").read_bytes())  # another CA: still a CA file
    assert [c.id for _, c in read(2)[0]] == ["lab-oost"]
    ca.write_bytes(ca_bytes)
    assert [c.id for _, c in read(3)[0]] == ["lab-oost"]
    key.write_bytes((pki / "other.key").read_bytes())  # not the certificate's key
    assert "tls.key_file" in read(4)[1][0]
    assert "tls.key_file" in read(4)[1][0]  # refused, not checked again while it stays so
    key.unlink()
    assert "file does not exist" in read(5)[1][0]
    key.mkdir()
    assert "is a directory, not a file" in read(6)[1][0]  # no file either
    key.rmdir()
    key.write_bytes(key_bytes)
    assert [c.id for _, c in read(7)[0]] == ["lab-oost"]
    ca.write_text("no certificate")
    assert "tls.ca_file" in read(8)[1][0]
    assert len(parses) == 1  # its YAML, though, is read once


def test_files_named_by_many_definitions_are_looked_at_once_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many destinations name one CA, or the engine's one client certificate and key."""
    files, _ = tls_destination(tmp_path)
    tls = yaml.safe_load((files / "lab-oost.yaml").read_text())["tls"]
    write(files, {**LAB, "id": "lab-west", "tls": tls}, "lab-west.yaml")
    looks: list[str] = []
    look = file_reads.file_state

    def counted(value: Any) -> object:
        looks.append(value)
        return look(value)

    monkeypatch.setattr(file_reads, "file_state", counted)
    reads = FileReads()
    for _ in range(2):
        assert [c.id for _, c in reads.load(files)[0]] == ["lab-oost", "lab-west"]
    assert sorted(looks) == sorted([tls["ca_file"], tls["cert_file"], tls["key_file"]] * 2)


@without_file_powers
def test_a_tls_file_made_unreadable_is_refused_and_readable_again_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permissions change no byte of a file, nor its destination's file: seen all the same."""
    files, pki = tls_destination(tmp_path)
    validations = counting(monkeypatch, "destination_from_mapping")
    reads = FileReads()
    assert [c.id for _, c in reads.load(files)[0]] == ["lab-oost"]
    key = pki / "client.key"
    key.chmod(0)
    try:
        refused = said(reads.load(files))
        assert refused == said(load_destination_files(files))
        assert "file is not readable" in refused[1][0] and len(validations) == 2
    finally:
        key.chmod(0o600)
    assert [c.id for _, c in reads.load(files)[0]] == ["lab-oost"] and len(validations) == 3


def test_a_refusal_kept_is_raised_without_piling_up_tracebacks(tmp_path: Path) -> None:
    write(tmp_path, {**LAB, "port": "x"})
    reads = FileReads()
    first = reads.load(tmp_path)[1][0]
    for _ in range(3):
        assert reads.load(tmp_path)[1][0] is first
    assert first.__traceback__ is not None
    depth = 0
    tb: TracebackType | None = first.__traceback__
    while tb is not None:
        depth, tb = depth + 1, tb.tb_next
    assert depth <= 3  # the loader's frames of one raise, not of every read


def test_a_definitions_plain_data_worked_out_once_while_its_file_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``definition_of`` (dumped and read back: what the catalog compares with the last
    revision) once per definition read, again when the file changes; the same data."""
    write(tmp_path, LAB)
    reads = FileReads()
    calls = counting(monkeypatch, "definition_of")
    [(_, config)] = reads.load(tmp_path)[0]
    assert reads.definition_of(config) == definition_of(config)
    [(_, again)] = reads.load(tmp_path)[0]
    assert again is config and reads.definition_of(again) == definition_of(config)
    assert len(calls) == 1
    write(tmp_path, {**LAB, "port": 2578})
    [(_, changed)] = reads.load(tmp_path)[0]
    assert reads.definition_of(changed)["port"] == 2578
    assert len(calls) == 2
    other = load_destination_files(tmp_path)[0][0][1]  # not of a read: worked out, not kept
    assert reads.definition_of(other) == definition_of(other)
    assert reads.definition_of(other) == definition_of(other) and len(calls) == 4
