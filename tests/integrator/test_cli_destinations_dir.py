"""A destinations directory the command's user may not read or write is one clear line, exit 1.

The documented systemd layout keeps the directory to the service's user (``StateDirectoryMode
=0700``), and docs/deploy.md lets people in group ``integrator`` run commands as themselves:
``integrator destinations list`` then printed a forty-line traceback ending in
``PermissionError``, and ``destinations pause`` another one while writing its temporary file.
Now every ``destinations`` command says which directory, what it could not do (read, write),
what that takes, and what to do instead (``integrator.destination_dir``, ``cli.common.
with_admin``).

Root reads and writes any directory, so the test that takes permissions away runs as root only
without that power (``tests.file_powers``: ``make test`` runs it so); the others make the operating
system's refusal in ways root gets too: the path is a regular file, or the call that lists the
directory or writes its temporary file is made to fail as it does for another user (in process,
``tests.cli_in_process``).
"""

from __future__ import annotations

import asyncio
import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.store import Store
from tests.cli_in_process import json_error
from tests.cli_in_process import run_cli as cli
from tests.file_powers import without_file_powers

ROOT = Path(__file__).resolve().parents[2]
DEST = "ziekenhuis-noord"
NEEDS_READ = "listing the destination files takes read and execute permission on the directory"
NEEDS_WRITE = "changing a destination takes write and execute permission on the directory"


@pytest.fixture
def with_destination(env: dict[str, str]) -> dict[str, str]:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(ROOT / "config" / "destinations" / f"{DEST}.yaml", directory / f"{DEST}.yaml")

    async def made() -> None:  # the engine's store, which the reading commands never create
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]):
            pass

    asyncio.run(made())
    return env


def one_error_line(stderr: str) -> str:
    """The one ``error:`` line, and that there is no traceback (lines joined: rich wraps)."""
    said = " ".join(stderr.split())
    assert "Traceback" not in said and "PermissionError" not in said, stderr
    assert said.count("error:") == 1, stderr
    return said[said.index("error:") :]


def denied_listing(directory: Path) -> Iterator[Path]:
    raise PermissionError(errno.EACCES, "Permission denied", str(directory))


@pytest.mark.parametrize(
    "command",
    [("list",), ("list", "--json"), ("show", DEST), ("history", DEST)],
    ids=" ".join,
)
def test_a_directory_that_cannot_be_listed_is_one_line_naming_it(
    with_destination: dict[str, str], monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    directory = Path(with_destination["INTEGRATOR_DESTINATIONS_DIR"])
    real = Path.iterdir

    def iterdir(self: Path) -> Iterator[Path]:
        return denied_listing(self) if self == directory else real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    refused = cli("destinations", *command, env=with_destination)
    assert refused.returncode == 1, refused.stderr
    said = one_error_line(refused.stderr)
    assert said.startswith(
        f"error: destinations directory {directory}: cannot read it: permission denied "
        f"({NEEDS_READ}); this command works on the files as "
    ), said
    assert (
        "run it as the engine's user, or change destinations through the console or the API" in said
    )
    if "--json" in command:  # the same line, as JSON
        assert said == "error: " + json_error(refused.stdout, 1)["message"]
    else:
        assert refused.stdout == ""


@pytest.mark.parametrize(
    "command",
    [
        ("pause", DEST, "--reason", "maintenance"),
        ("update", DEST, "--set", "port=2577"),
        ("remove", DEST, "--force"),
    ],
    ids=lambda c: c[0],
)
def test_a_directory_that_cannot_be_written_is_one_line_and_nothing_is_recorded(
    with_destination: dict[str, str], monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    directory = Path(with_destination["INTEGRATOR_DESTINATIONS_DIR"])
    file = directory / f"{DEST}.yaml"
    before = file.read_text(encoding="utf-8")
    real_write, real_unlink = Path.write_text, Path.unlink

    def write_text(self: Path, *args: object, **kwargs: object) -> int:
        if self.parent == directory:  # creating a file there, as a user without w on it
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == file:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "write_text", write_text)
    monkeypatch.setattr(Path, "unlink", unlink)
    refused = cli("destinations", *command, env=with_destination)
    assert refused.returncode == 1, refused.stderr
    said = one_error_line(refused.stderr)
    assert said.startswith(
        f"error: destinations directory {directory}: cannot write in it: permission denied "
        f"({NEEDS_WRITE}"
    ), said
    monkeypatch.undo()
    assert file.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in directory.iterdir()) == [file.name]  # no temporary left
    history = cli("destinations", "history", DEST, "--json", env=with_destination)
    assert history.returncode == 0 and history.stdout.strip() in ("[]", ""), history.stdout


def test_a_destinations_path_that_is_a_file_is_one_line_for_root_too(
    env: dict[str, str], tmp_path: Path
) -> None:
    """No permission at all: a regular file where the directory should be refuses everyone."""
    directory = tmp_path / "not-a-directory"
    directory.write_text("a file, not a directory\n", encoding="utf-8")
    env = {**env, "INTEGRATOR_DESTINATIONS_DIR": str(directory)}
    definition = ROOT / "config" / "destinations" / f"{DEST}.yaml"
    refused = cli("destinations", "add", str(definition), "--reason", "new", env=env)
    assert refused.returncode == 1, refused.stderr
    said = one_error_line(refused.stderr)
    assert said == (
        f"error: destinations directory {directory}: cannot write in it: {directory} is not a "
        "directory"
    ), said
    assert directory.read_text(encoding="utf-8") == "a file, not a directory\n"
    listing = cli("destinations", "list", "--json", env=env)
    # Not an empty list (exit 0, "[]"): that reads as "none configured" while an engine keeps
    # its destinations in service.
    assert listing.returncode == 1, listing.stderr
    assert json_error(listing.stdout, 1)["message"].startswith("destinations directory")
    said = " ".join(listing.stderr.split())
    assert (
        f"destinations directory unusable: {directory} (INTEGRATOR_DESTINATIONS_DIR) is not a "
        "directory; a running engine keeps the destinations it has in service"
    ) in said
    assert "refused file" not in listing.stderr


@without_file_powers
def test_a_directory_without_permissions_for_this_user_is_one_line(
    with_destination: dict[str, str],
) -> None:
    """The real thing, as a user outside the directory's owner: no mocks."""
    directory = Path(with_destination["INTEGRATOR_DESTINATIONS_DIR"])
    try:
        directory.chmod(0o300)  # neither listable nor readable
        listing = cli("destinations", "list", env=with_destination)
        assert listing.returncode == 1, listing.stderr
        said = one_error_line(listing.stderr)
        assert f"destinations directory {directory}: cannot read it: permission denied" in said
        directory.chmod(0o500)  # readable, not writable
        pause = cli("destinations", "pause", DEST, "--reason", "x", env=with_destination)
        assert pause.returncode == 1, pause.stderr
        said = one_error_line(pause.stderr)
        assert f"destinations directory {directory}: cannot write in it: permission denied" in said
    finally:
        directory.chmod(0o700)
