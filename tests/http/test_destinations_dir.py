"""The engine's destinations directory it may not read or write: the API answers 503 saying so
(the operation and the permission it takes, without the server's path), and the one log line
names the directory for the operator, instead of a bare 500 "internal error".

A restore that left ``/var/lib/integrator/destinations`` to root does this; root gets no such
refusal, so the operating system's answer is made here as it comes for another user (the
listing, the temporary file's write), which runs as root too.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.engine import Engine
from tests.http.support import api_client


async def test_a_directory_the_engine_cannot_list_is_a_503_naming_the_operation(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = engine.settings.destinations_dir
    real = Path.iterdir

    def iterdir(self: Path) -> Iterator[Path]:
        if self == directory:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    async with api_client(engine) as api:
        listing = await api.get("/api/v1/destinations")
    assert listing.status_code == 503, listing.text
    assert listing.json() == {
        "detail": "destinations directory: cannot read it: permission denied (listing the "
        "destination files takes read and execute permission on the directory); the engine's "
        "log names the directory"
    }
    logged = capsys.readouterr()
    assert str(directory) in logged.out + logged.err


async def test_a_directory_the_engine_cannot_write_in_is_a_503_and_nothing_changes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = engine.settings.destinations_dir
    before = (directory / "noord.yaml").read_text(encoding="utf-8")
    real = Path.write_text

    def write_text(self: Path, *args: object, **kwargs: object) -> int:
        if self.parent == directory:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", write_text)
    async with api_client(engine) as api:
        why = {"X-Integrator-Reason": "maintenance"}
        pause = await api.post("/api/v1/destinations/noord/pause", headers=why)
        assert pause.status_code == 503, pause.text
        assert pause.json()["detail"].startswith(
            "destinations directory: cannot write in it: permission denied (changing a "
            "destination takes write and execute permission on the directory"
        )
        assert str(directory) not in pause.text
        monkeypatch.undo()
        history = await api.get("/api/v1/destinations/noord/history")
    assert (directory / "noord.yaml").read_text(encoding="utf-8") == before
    assert history.status_code == 200, history.text
    # Only the revision the engine recorded when it found the file at its start: no pause.
    assert [entry["action"] for entry in history.json()] == ["file"]
