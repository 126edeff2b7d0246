"""A hand-edited destination file with a key mistake (``prot:`` for ``port:``) and a version
mistake (``orm-v9``) is refused by the engine for both at once, as ``destinations add FILE``
tells them: the engine, ``destinations list`` and ``show`` named the key mistakes only, and the
version mistake only once the keys were mended, one round per mistake.

A retired version the destination already runs on stays no mistake beside a key mistake (its
last revision keeps it in service); a file refused again and again is told its mistakes once
each, not once more per read (the reads keep what an unchanged file gave)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from destinations.config import DestinationFileError, dump_destination
from integrator.engine import Engine
from integrator.operators import DestinationAdmin
from integrator.store import Store
from tests.cli_in_process import run_cli as cli
from tests.integrator.support import destination, settings_for

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "destinations"
KEY_AND_VERSION = {"port: 2576": "prot: 2576", "orm-v3 ": "orm-v9 "}


def _mistaken(path: Path) -> Path:
    """``path`` written as lab-west.yaml with a misspelt key and an unknown version."""
    text = (EXAMPLES / "lab-west.yaml").read_text(encoding="utf-8")
    for good, bad in KEY_AND_VERSION.items():
        assert good in text
        text = text.replace(good, bad, 1)
    path.write_text(text, encoding="utf-8")
    return path


def _told(problems: list[dict[str, str]] | tuple[DestinationFileError, ...]) -> list[str]:
    return [p["key"] if isinstance(p, dict) else p.key for p in problems]


def test_list_and_show_tell_the_key_and_the_version_mistakes_at_once(env: dict[str, str]) -> None:
    added = cli("destinations", "add", str(EXAMPLES / "lab-west.yaml"), env=env)
    assert added.returncode == 0, added.stderr
    path = _mistaken(Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / "lab-west.yaml")

    listed = cli("destinations", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["state"], row["revision"]) == ("broken", 1)
    assert [(p["file"], p["key"], p["code"]) for p in row["problems"]] == [
        (str(path), "prot", "extra_forbidden"),
        (str(path), "port", "missing"),
        (str(path), "messages.diagnostic_request", "version_unknown"),
    ]

    table = cli("destinations", "list", env=env)
    said = " ".join(table.stdout.split())
    assert "prot: unknown key (did you mean port?) (and 2 more" in said

    shown = cli("destinations", "show", "lab-west", env=env)
    assert shown.returncode == 0, shown.stderr
    said = " ".join(shown.stdout.split())
    assert said.count("# refused:") == 3
    assert (
        "messages.diagnostic_request: unknown message version 'orm-v9' "
        "(known: oml-v3, orm-lfdv1, orm-lfdv2, orm-v3)"
    ) in said


async def test_the_engine_refuses_the_file_for_both(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    _mistaken(settings.destinations_dir / "lab-west.yaml")
    engine = Engine(settings)
    await engine.start()
    try:
        broken = engine.catalog.broken["lab-west"]
        assert _told(broken.problems) == ["prot", "port", "messages.diagnostic_request"]
        assert broken.revision is None  # never in service: nothing runs on it
        # Read again, unchanged: the same mistakes, not the version's twice.
        again = await engine.reload_destinations()
        assert _told(again.broken["lab-west"].problems) == _told(broken.problems)
        assert len(again.errors) == 3
    finally:
        await engine.stop()


async def test_a_retired_version_in_service_is_no_mistake_beside_a_key_mistake(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    before, after = date(2027, 6, 1), date(2027, 8, 1)  # ref-v1 retired on 2027-07-01
    config = destination("noord", 2575, providers=["noord"], messages={"referral": "ref-v1"})
    store = await Store.open(settings.database_url)
    try:

        def admin(today: date) -> DestinationAdmin:
            now = datetime(today.year, today.month, today.day, tzinfo=UTC)
            return DestinationAdmin(
                store=store, settings=settings, today=lambda: today, now=lambda: now
            )

        await admin(before).add(dump_destination(config), actor="anna")
        own = settings.destinations_dir / "noord.yaml"
        own.write_text(own.read_text(encoding="utf-8").replace("port:", "prot:"), encoding="utf-8")
        # A new file on the same retired version, with the same mistake: that one is told.
        new = settings.destinations_dir / "zuid.yaml"
        new.write_text(
            own.read_text(encoding="utf-8").replace("id: noord", "id: zuid"), encoding="utf-8"
        )

        catalog = await admin(after).catalog()
        assert _told(catalog.broken["noord"].problems) == ["prot", "port"]
        assert _told(catalog.broken["zuid"].problems) == ["prot", "port", "messages.referral"]
        assert catalog.broken["zuid"].problems[2].code == "version_retired"
    finally:
        await store.close()
