"""The API names the server's paths of refused destination files only to who may change them.

A misnamed file's rule says where the file should be (``rename it to /srv/…/oost.yaml``) and a
refusal names its file; the destination directory is for the ``destinations`` role, as the
console's destination page shows a file only to them. A viewer reads the same refusals with
each file by its name, on the destination, the listing and the stray files alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http.app import EngineApp
from tests.http.support import add_lab_cluster, api_client, token_for
from tests.integrator.support import destination


async def _refused(engine: Engine) -> Path:
    """``noord.yaml`` saying id ``oost`` (so ``noord`` is broken, its file misnamed), and
    ``lab-west.yml`` and ``noord-copy.yml`` beside it (no destination's own files)."""
    directory = engine.settings.destinations_dir
    noord = directory / "noord.yaml"
    good = noord.read_text()
    lab_west = destination("lab-west", 2600, providers=["lab-west"], cluster="LAB")
    (directory / "lab-west.yml").write_text(dump_destination(lab_west))
    (directory / "noord-copy.yml").write_text(good)
    noord.write_text(good.replace("id: noord", "id: oost"))
    catalog = await engine.reload_destinations()
    assert catalog.broken["noord"].problem.code == "file_misnamed"
    return directory


async def _everything(
    client: httpx.AsyncClient,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    one = await client.get("/api/v1/destinations/noord")
    listing = await client.get("/api/v1/destinations")
    both = await client.get("/api/v1/destinations", params={"stray_files": "true"})
    assert one.status_code == listing.status_code == both.status_code == 200
    return one.json(), listing.json(), both.json()


async def test_a_viewer_is_shown_each_refused_file_by_its_name(
    engine: Engine, app: EngineApp
) -> None:
    directory = await _refused(engine)
    token = await token_for(engine, Grant(Role.VIEWER))
    async with api_client(engine, token, app=app) as viewer:
        one, listing, both = await _everything(viewer)

    assert str(directory) not in str([one, listing, both])
    assert one["file"] == "noord.yaml"
    [problem] = one["problems"]
    assert problem == one["problem"]
    assert (problem["file"], problem["key"], problem["code"]) == (
        "noord.yaml",
        "id",
        "file_misnamed",
    )
    assert problem["rule"].endswith("(rename it to oost.yaml)")
    [row] = listing
    assert (row["file"], row["problems"], row["problem"]) == ("noord.yaml", [problem], problem)
    assert both["destinations"] == listing
    strays = {s["file"]: s["problems"] for s in both["stray_files"]}
    assert sorted(strays) == ["lab-west.yml", "noord-copy.yml"]
    assert strays["lab-west.yml"][0]["rule"].endswith("(rename it to lab-west.yaml)")
    assert "'noord' is the destination of noord.yaml;" in strays["noord-copy.yml"][0]["rule"]


async def test_who_may_change_the_files_is_shown_their_paths_as_before(
    engine: Engine, app: EngineApp
) -> None:
    directory = await _refused(engine)
    token = await token_for(engine, Grant(Role.DESTINATIONS))
    async with api_client(engine, token, app=app) as operator:
        one, listing, both = await _everything(operator)

    assert one["file"] == str(directory / "noord.yaml")
    [problem] = one["problems"]
    assert problem["file"] == str(directory / "noord.yaml")
    assert problem["rule"].endswith(f"(rename it to {directory / 'oost.yaml'})")
    assert listing[0]["file"] == one["file"] and listing[0]["problems"] == [problem]
    strays = {s["file"]: s["problems"] for s in both["stray_files"]}
    assert sorted(strays) == [str(directory / "lab-west.yml"), str(directory / "noord-copy.yml")]
    rule = strays[str(directory / "lab-west.yml")][0]["rule"]
    assert rule.endswith(f"(rename it to {directory / 'lab-west.yaml'})")


async def test_the_paths_follow_the_cluster_one_may_change(engine: Engine, app: EngineApp) -> None:
    """An operator of CARD sees the paths of CARD's ``noord`` and of the copy claiming it;
    ``lab-west.yml`` claims no destination, so lies in no cluster: by its name only, as LAB's
    ``lab``, which they may only read."""
    await add_lab_cluster(engine)
    directory = await _refused(engine)
    token = await token_for(engine, Grant(Role.DESTINATIONS, "CARD"), Grant(Role.VIEWER))
    async with api_client(engine, token, app=app) as card:
        one, listing, both = await _everything(card)

    assert one["file"] == str(directory / "noord.yaml")
    assert {row["id"]: row["file"] for row in listing} == {
        "lab": "lab.yaml",
        "noord": str(directory / "noord.yaml"),
    }
    assert [s["file"] for s in both["stray_files"]] == [
        "lab-west.yml",
        str(directory / "noord-copy.yml"),
    ]
    assert str(directory) not in str(both["stray_files"][0])
