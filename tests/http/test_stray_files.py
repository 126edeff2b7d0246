"""The API's destination listing names the refused files that are no destination's own.

``lab-west.yml`` (not ``<id>.yaml``) changes nothing in service, so it is in no destination's
row; an operator working through the API must still learn it was ignored. The listing stays a
list of destinations for the clients that read it; ``?stray_files=true`` answers an object
with the files beside it, and a header says how many there are.
"""

from __future__ import annotations

import httpx

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http.app import EngineApp
from tests.http.support import add_lab_cluster, api_client, token_for
from tests.integrator.support import destination

COUNT = "X-Integrator-Stray-Files"


async def _stray(engine: Engine) -> None:
    """``lab-west.yml`` (misnamed: no destination has that id) and ``noord-copy.yml`` (a copy
    of CARD's ``noord``: it claims an id in service)."""
    directory = engine.settings.destinations_dir
    lab_west = destination("lab-west", 2600, providers=["lab-west"], cluster="LAB")
    (directory / "lab-west.yml").write_text(dump_destination(lab_west))
    (directory / "noord-copy.yml").write_text((directory / "noord.yaml").read_text())
    await engine.reload_destinations()


async def test_the_listing_names_stray_files_beside_the_destinations(
    engine: Engine, app: EngineApp, api: httpx.AsyncClient
) -> None:
    await _stray(engine)

    plain = await api.get("/api/v1/destinations")
    assert plain.status_code == 200
    assert [row["id"] for row in plain.json()] == ["noord"]  # still a list of destinations
    assert plain.headers[COUNT] == "2"

    both = await api.get("/api/v1/destinations", params={"stray_files": "true"})
    assert both.status_code == 200
    body = both.json()
    assert body["destinations"] == plain.json()
    directory = engine.settings.destinations_dir
    assert [(s["file"], s["claims"]) for s in body["stray_files"]] == [
        (str(directory / "lab-west.yml"), None),
        (str(directory / "noord-copy.yml"), "noord"),
    ]
    [misnamed] = body["stray_files"][0]["problems"]
    assert (misnamed["key"], misnamed["code"]) == ("id", "file_misnamed")
    assert misnamed["rule"].endswith(f"(rename it to {directory / 'lab-west.yaml'})")
    [copy] = body["stray_files"][1]["problems"]
    assert copy["code"] == "file_of_another"


async def test_a_stray_file_claiming_a_destination_is_shown_to_who_may_see_it(
    engine: Engine, app: EngineApp
) -> None:
    await add_lab_cluster(engine)
    await _stray(engine)
    token = await token_for(engine, Grant(Role.VIEWER, "LAB"))
    async with api_client(engine, token, app=app) as lab:
        plain = await lab.get("/api/v1/destinations")
        assert [row["id"] for row in plain.json()] == ["lab"]
        assert plain.headers[COUNT] == "1"
        body = (await lab.get("/api/v1/destinations", params={"stray_files": "true"})).json()
    # noord-copy.yml names CARD's noord and its file: not for a LAB viewer.
    assert [s["claims"] for s in body["stray_files"]] == [None]
    assert "noord" not in str(body)


async def test_no_stray_file_is_an_empty_list_and_a_zero(api: httpx.AsyncClient) -> None:
    plain = await api.get("/api/v1/destinations")
    assert plain.headers[COUNT] == "0"
    body = (await api.get("/api/v1/destinations", params={"stray_files": "true"})).json()
    assert body["stray_files"] == [] and [d["id"] for d in body["destinations"]] == ["noord"]
