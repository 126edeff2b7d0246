"""A change refused where there is no store makes none; a change made there still makes one.

The commands that change something make the store when there is none (the compose file's seed
adds the first destinations to an empty database). But a refused one made it too, before it
was refused: a mistyped ``INTEGRATOR_DATABASE_URL`` and one refused ``destinations pause``
left a new, empty store (and its directory) behind, and every read there answered "0 shown"
instead of "no store at …". Each refusal is now found before the store is made (a rehearsal
on an empty store of its own: ``integrator.cli.common.with_admin``). And a change that would be
made is not made in a new store either while the destinations directory holds destinations:
they are another store's, the engine's.

Run in the directory people run them from, with the files' names as they type them.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.store import AuditFilter, Store
from tests.cli_in_process import CliOutcome, run_cli
from tests.integrator.support import destination
from tests.services import free_port


def _cli(*args: str, env: dict[str, str], cwd: Path) -> CliOutcome:
    """``integrator ARGS`` run in ``cwd``, where people type the files' names relative to it;
    in this process (``tests.cli_in_process``): 22 processes were a minute of a loaded run."""
    before = os.getcwd()
    os.chdir(cwd)
    try:
        return run_cli(*args, env=env)
    finally:
        os.chdir(before)


@pytest.fixture
def where(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose store URL is mistyped (``typo/int.db``: no store, no directory),
    with destinations ``noord`` (active), ``stil`` (paused) and ``kapot`` (a refused file,
    never recorded: no good definition to work on)."""
    dest_dir = tmp_path / "destinations"
    dest_dir.mkdir()
    port = free_port()  # nothing listens there
    for config in (
        destination("noord", port, providers=["ziekenhuis-noord"]),
        destination("stil", port, providers=["ziekenhuis-stil"], enabled=False),
    ):
        (dest_dir / f"{config.id}.yaml").write_text(dump_destination(config), encoding="utf-8")
    (dest_dir / "kapot.yaml").write_text("id: kapot\nport: [\n", encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("INTEGRATOR_") and key not in ("COLUMNS", "LINES")
    }
    env.update(
        {
            "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/typo/int.db",
            "INTEGRATOR_DESTINATIONS_DIR": str(dest_dir),
            "INTEGRATOR_LOG_FORMAT": "json",
        }
    )
    return env, tmp_path


def _new_destination(dest_id: str) -> str:
    return dump_destination(destination(dest_id, free_port(), providers=["ziekenhuis-zuid"]))


REFUSED: list[tuple[tuple[str, ...], int, str]] = [
    (("destinations", "pause", "nopez"), 2, "no destination with id 'nopez'; configured: "),
    (("destinations", "resume", "nopez"), 2, "no destination with id 'nopez'"),
    (("destinations", "pause", "kapot"), 2, "'kapot' is broken and has no good definition"),
    (("destinations", "update", "nopez", "--set", "port=2576"), 2, "no destination with id"),
    (("destinations", "update", "noord", "--set", "port=twee"), 2, "--set port:"),
    (("destinations", "update", "noord", "--set", "port"), 2, "--set 'port': write KEY=VALUE"),
    (("destinations", "update", "noord", "--set", "id=zuid"), 2, "id: cannot be changed"),
    (
        ("destinations", "update", "noord", "--set", "port=2576", "--expect-revision", "1"),
        1,
        "noord",
    ),
    (("destinations", "pause", "noord", "--reason", "x" * 1001), 2, "--reason: at most"),
    (("destinations", "remove", "nopez"), 2, "no destination with id 'nopez'"),
    (("destinations", "rollback", "noord", "1"), 2, "destination 'noord' has no revision 1"),
    (("destinations", "rollback", "nopez", "1"), 2, "no destination with id 'nopez'"),
    (("destinations", "test", "nopez"), 2, "no destination with id 'nopez'"),
    # A BSN pasted as the id is not said back (the refusal of every command that names one).
    *(
        (("destinations", *verb, "999 990 019"), 2, "no destination with the id given (not re")
        for verb in (("pause",), ("remove",), ("test",), ("update", "--set", "port=2576"))
    ),
    (("destinations", "test", "stil"), 1, "send one anyway with --even-if-paused"),
    (("destinations", "add", "bad.yaml"), 2, "bad.yaml: name: required"),
    (("destinations", "add", "noord.yaml"), 2, "destination 'noord' exists already"),
    (("destinations", "add", "zuid.yaml", "--reason", "x" * 1001), 2, "--reason: at most"),
]


@pytest.mark.parametrize(
    ("command", "code", "said"), REFUSED, ids=[" ".join(c)[:60] for c, _, _ in REFUSED]
)
def test_a_refused_change_makes_no_store(
    where: tuple[dict[str, str], Path], command: tuple[str, ...], code: int, said: str
) -> None:
    env, tmp_path = where
    (tmp_path / "bad.yaml").write_text("id: bad\n", encoding="utf-8")
    (tmp_path / "noord.yaml").write_text(_new_destination("noord"), encoding="utf-8")
    (tmp_path / "zuid.yaml").write_text(_new_destination("zuid"), encoding="utf-8")
    before = sorted(p.name for p in (tmp_path / "destinations").iterdir())

    refused = _cli(*command, env=env, cwd=tmp_path)

    assert refused.returncode == code, refused.stderr
    text = " ".join(refused.stderr.split())
    assert said in text, text
    assert "990" not in refused.stderr + refused.stdout
    assert "no store was at" not in text
    assert not (tmp_path / "typo").exists()  # neither the store nor its directory
    assert sorted(p.name for p in (tmp_path / "destinations").iterdir()) == before


def test_after_a_refused_change_a_read_still_finds_no_store(
    where: tuple[dict[str, str], Path],
) -> None:
    """The reviewer's case: a read after the refusal said "Messages (0 shown)", exit 0."""
    env, tmp_path = where
    assert _cli("destinations", "pause", "nopez", env=env, cwd=tmp_path).returncode == 2

    read = _cli("messages", "list", "--zd", "ZD100000001", env=env, cwd=tmp_path)

    assert read.returncode == 1, read.stdout
    assert f"error: no store at sqlite:///{tmp_path}/typo/int.db;" in read.stderr
    assert not (tmp_path / "typo").exists()


def _audited(url: str, action: str) -> int:
    async def go() -> int:
        store = await Store.open(url)
        try:
            return len(await store.list_audit(AuditFilter(action=action)))
        finally:
            await store.close()

    return asyncio.run(go())


def _emptied(where: tuple[dict[str, str], Path]) -> tuple[dict[str, str], Path]:
    """``where`` with a destinations directory of its own that holds no destination yet: a
    new deployment's, whose first destination makes the store."""
    env, tmp_path = where
    empty = tmp_path / "new-destinations"
    empty.mkdir()
    return {**env, "INTEGRATOR_DESTINATIONS_DIR": str(empty)}, tmp_path


def test_the_first_destination_where_there_is_no_store_makes_it(
    where: tuple[dict[str, str], Path],
) -> None:
    env, tmp_path = _emptied(where)
    (tmp_path / "zuid.yaml").write_text(_new_destination("zuid"), encoding="utf-8")

    made = _cli("destinations", "add", "zuid.yaml", env=env, cwd=tmp_path)

    assert made.returncode == 0, made.stderr
    assert "warning: no store was at" in " ".join(made.stderr.split())
    assert (tmp_path / "typo" / "int.db").is_file()
    assert _audited(env["INTEGRATOR_DATABASE_URL"], "destination.add") == 1


WRONG_STORE: list[tuple[str, ...]] = [
    ("pause", "noord", "--reason", "HIS upgrade"),
    ("resume", "stil"),
    ("update", "noord", "--set", "port=2576"),
    ("add", "zuid.yaml"),
    ("test", "noord"),
]


@pytest.mark.parametrize("command", WRONG_STORE, ids=[" ".join(c) for c in WRONG_STORE])
def test_a_change_to_destinations_another_store_holds_is_not_made_in_a_new_one(
    where: tuple[dict[str, str], Path], command: tuple[str, ...]
) -> None:
    """The walkthrough's case: a relative store URL run from another directory. The pause
    was written to the real file, so the running engine stopped delivering, while the new,
    empty store took the reason and the author, and the command said the pause was not in
    force. A directory that holds destinations is another store's: nothing is made."""
    env, tmp_path = where
    (tmp_path / "zuid.yaml").write_text(_new_destination("zuid"), encoding="utf-8")
    files = tmp_path / "destinations"
    before = {p.name: p.read_text(encoding="utf-8") for p in files.iterdir()}

    refused = _cli("destinations", *command, env=env, cwd=tmp_path)

    assert refused.returncode == 1, refused.stderr
    said = " ".join(refused.stderr.split())
    assert f"error: no store at sqlite:///{tmp_path}/typo/int.db: {files} holds 3 " in said
    assert "nothing was changed (before an engine's first start, edit the file itself); " in said
    assert "run this from the engine's directory or set " in said
    assert "INTEGRATOR_DATABASE_URL to the engine's store" in said
    assert not (tmp_path / "typo").exists()
    assert {p.name: p.read_text(encoding="utf-8") for p in files.iterdir()} == before


def test_a_change_into_an_empty_postgresql_database_says_so_without_a_directory(
    where: tuple[dict[str, str], Path],
) -> None:
    """On PostgreSQL the warning told people to run the command "from the engine's
    directory", which only means something for SQLite's relative file: the database named
    held no engine's tables, and the URL is what to check."""
    from tests.services import scratch_database

    env, tmp_path = _emptied(where)
    (tmp_path / "zuid.yaml").write_text(_new_destination("zuid"), encoding="utf-8")

    async def add() -> CliOutcome:
        async with scratch_database() as (_name, url):
            pg_env = {
                **env,
                "INTEGRATOR_DATABASE_URL": url,
                "INTEGRATOR_SEARCH_KEY": "3f9a1c07d2e84b6a9e5d0c7b1a2f4e68",
            }
            return await asyncio.to_thread(
                _cli, "destinations", "add", str(tmp_path / "zuid.yaml"), env=pg_env, cwd=tmp_path
            )

    made = asyncio.run(add())
    said = " ".join(made.stderr.split())
    assert made.returncode == 0, made.stderr
    assert "warning: no store was at postgresql" in said
    assert "the database held no engine's tables" in said
    assert "directory" not in said
