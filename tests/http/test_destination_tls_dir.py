"""TLS files named through the API must lie in the directory of the destination's cluster in
the TLS directory (``INTEGRATOR_TLS_DIR``): ``<TLS directory>/LAB`` for a destination in LAB.

Before, an operator holding the ``destinations`` role for one cluster learnt whether any path
on the server was there and readable by the engine: ``tls.ca_file: /etc/shadow`` was refused
as "not readable", a missing path as "does not exist", a private key as "could not be loaded
as CA certificates". Now a path a change brings in is refused outside the directory before
anything looks at it, in the same words whether it is there or not (``destinations.tls_dir``);
inside it, it is checked as before. A path the definition in service names already (a file
written by hand may name any) is kept through a change that leaves it in its cluster.

One directory for every cluster let a manager of CARD point a CARD destination at LAB's client
certificate and key (the engine then presented LAB's identity to a host CARD chose) and probe
LAB's files: each cluster has its own directory now.

The world: ``noord`` in CARD (the fixture), ``lab`` in LAB, a caller with the ``destinations``
role for LAB only, the TLS directory ``tls`` beside the destinations directory (the default),
with a CA and a client certificate in LAB's directory, ``tls/LAB``.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.destinations.certificate_files import tls_files
from tests.http.support import Trace, add_lab_cluster, api_client, token_for, trace
from tests.integrator.support import destination

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")

OUTSIDE = "must be a file inside the TLS directory of cluster LAB, "


@dataclass
class World:
    lab: httpx.AsyncClient  # the destinations role for LAB only
    tls_dir: Path  # LAB's directory in the TLS directory, as the engine's settings name it
    inside: dict[str, str]  # a CA and a client certificate in it, as ``tls`` names them
    elsewhere: dict[str, str]  # the same kind of files outside it, loading as well


@pytest.fixture
async def world(engine: Engine, tmp_path: Path) -> AsyncIterator[World]:
    await add_lab_cluster(engine)
    assert engine.settings.tls_directory == tmp_path / "tls"  # beside destinations, unset
    tls_dir = engine.settings.tls_directory / "LAB"
    inside = tls_files(tls_dir)
    elsewhere = tls_files(tmp_path / "pki")
    token = await token_for(engine, Grant(Role.DESTINATIONS, "LAB"), name="lab-ops")
    async with api_client(engine, token) as lab:
        yield World(lab, tls_dir, inside, elsewhere)


def new_destination(
    dest_id: str, tls: dict[str, Any] | None, cluster: str | None = "LAB"
) -> dict[str, Any]:
    config = destination(dest_id, 2600, providers=[f"{dest_id}-p"], cluster=cluster)
    loaded: dict[str, Any] = yaml.safe_load(dump_destination(config))
    loaded["tls"] = tls
    return loaded


def refused_outside(answer: httpx.Response, key: str = "tls.ca_file") -> str:
    """422 naming the key and the rule, and nothing the file would have told."""
    assert answer.status_code == 422, answer.text
    detail = str(answer.json()["detail"])
    assert f"{key}: {OUTSIDE}" in detail, detail
    for told in ("does not exist", "not readable", "could not be loaded"):
        assert told not in detail
    return detail


async def test_an_outside_path_is_refused_alike_whether_it_is_there_or_not(
    engine: Engine, world: World
) -> None:
    bodies = []
    for path in ("/etc/passwd", "/nonexistent/x"):
        added = await world.lab.post(
            "/api/v1/destinations", json=new_destination("hosp-zy", {"ca_file": path})
        )
        refused_outside(added)
        patched = await world.lab.patch("/api/v1/destinations/lab", json={"tls": {"ca_file": path}})
        refused_outside(patched)
        bodies.append((added.content, patched.content))
    assert bodies[0] == bodies[1]  # byte for byte: the answer tells nothing of the file
    # The same for a file that loads as CA certificates, and for every key that names a file.
    loads = await world.lab.post(
        "/api/v1/destinations",
        json=new_destination("hosp-zy", {"ca_file": world.elsewhere["ca_file"]}),
    )
    assert refused_outside(loads) in bodies[0][0].decode()
    for key in ("cert_file", "key_file"):
        pair = {**world.inside, key: f"/nonexistent/{key}"}
        refused_outside(
            await world.lab.post("/api/v1/destinations", json=new_destination("hosp-zy", pair)),
            f"tls.{key}",
        )
    # Nothing written, recorded or audited: the refusal leaves no trace to read a result from.
    assert await trace(engine, "hosp-zy") == Trace(None, 0, 0)


async def test_a_path_leaving_the_directory_by_dot_dot_or_a_link_is_outside(
    engine: Engine, world: World
) -> None:
    ca = world.elsewhere["ca_file"]  # loads: only where it lies refuses it
    linked = world.tls_dir / "linked-ca.pem"
    linked.symlink_to(ca)
    linked_dir = world.tls_dir / "pki"
    linked_dir.symlink_to(Path(ca).parent, target_is_directory=True)
    # ``..`` after a link is taken from where the link leads, as the system opens it: by its
    # text, ``hop/../ca.pem`` is the directory's own ``ca.pem``; opened, it is the one outside.
    (Path(ca).parent / "deeper").mkdir()
    hop = world.tls_dir / "hop"
    hop.symlink_to(Path(ca).parent / "deeper", target_is_directory=True)
    escapes = (
        f"{world.tls_dir}/../pki/ca.pem",
        f"{world.tls_dir}/{Path(ca).name}/../../pki/ca.pem",
        str(linked),
        str(linked_dir / "ca.pem"),
        f"{hop}/../{Path(ca).name}",
        str(world.tls_dir),  # the directory itself is no file inside it
    )
    before = await trace(engine, "lab")
    for path in escapes:
        patched = await world.lab.patch("/api/v1/destinations/lab", json={"tls": {"ca_file": path}})
        refused_outside(patched)
    assert await trace(engine, "lab") == before
    assert engine.catalog.destinations["lab"].tls is None


async def test_a_path_inside_is_checked_and_taken_as_before(engine: Engine, world: World) -> None:
    added = await world.lab.post(
        "/api/v1/destinations", json=new_destination("hosp-zy", world.inside)
    )
    assert added.status_code == 201, added.text
    assert engine.catalog.destinations["hosp-zy"].tls is not None
    # A link inside to a file inside is inside (a renewal agent's ``live/`` links).
    live = world.tls_dir / "live"
    live.mkdir()
    (live / "ca.pem").symlink_to(world.inside["ca_file"])
    linked = await world.lab.patch(
        "/api/v1/destinations/hosp-zy", json={"tls": {"ca_file": str(live / "ca.pem")}}
    )
    assert linked.status_code == 200, linked.text
    # Inside, the file is looked at as before: the operator may know that directory.
    (world.tls_dir / "junk.pem").write_text("not a certificate\n")
    for path, told in (
        (world.tls_dir / "junk.pem", "could not be loaded as CA certificates"),
        (world.tls_dir / "gone.pem", "file does not exist"),
    ):
        refused = await world.lab.patch(
            "/api/v1/destinations/hosp-zy", json={"tls": {"ca_file": str(path)}}
        )
        assert refused.status_code == 422, refused.text
        assert f"tls.ca_file: {told}" in refused.json()["detail"]


async def test_a_change_keeping_a_hand_written_path_outside_is_taken(
    engine: Engine, world: World
) -> None:
    """A file written on the server may name a TLS file anywhere; a change that keeps that
    path (a port, the server name, a pause) is no question about it."""
    by_hand = destination("lab", 2599, providers=["lab-west"], cluster="LAB", tls=world.elsewhere)
    (engine.settings.destinations_dir / "lab.yaml").write_text(dump_destination(by_hand))
    catalog = await engine.reload_destinations()
    assert catalog.destinations["lab"].tls == by_hand.tls, catalog.errors

    port = await world.lab.patch("/api/v1/destinations/lab", json={"port": 2601})
    assert port.status_code == 200, port.text
    named = await world.lab.patch(
        "/api/v1/destinations/lab", json={"tls": {"server_name": "lab.example.org"}}
    )
    assert named.status_code == 200, named.text
    paused = await world.lab.post("/api/v1/destinations/lab/pause")
    assert paused.status_code == 200, paused.text
    shown = (await world.lab.get("/api/v1/destinations/lab")).json()
    replaced = await world.lab.put(
        "/api/v1/destinations/lab", json={**shown["definition"], "port": 2602}
    )
    assert replaced.status_code == 200, replaced.text
    config = engine.catalog.destinations["lab"]
    assert (config.port, config.enabled) == (2602, False)
    assert str(config.tls.ca_file if config.tls else None) == world.elsewhere["ca_file"]

    # Changing one of its paths brings that one in: held to the directory; the others kept.
    moved = await world.lab.patch(
        "/api/v1/destinations/lab", json={"tls": {"ca_file": world.inside["ca_file"]}}
    )
    assert moved.status_code == 200, moved.text
    back = await world.lab.patch(
        "/api/v1/destinations/lab", json={"tls": {"ca_file": world.elsewhere["ca_file"]}}
    )
    refused_outside(back)


async def test_a_rollback_bringing_an_outside_path_back_is_refused(
    engine: Engine, world: World
) -> None:
    """A rollback is a change through the API too: a revision naming a file outside the
    directory (written by hand) is brought back at the server's shell, not from the API."""
    by_hand = destination("lab", 2599, providers=["lab-west"], cluster="LAB", tls=world.elsewhere)
    (engine.settings.destinations_dir / "lab.yaml").write_text(dump_destination(by_hand))
    await engine.reload_destinations()
    outside_revision = (await world.lab.get("/api/v1/destinations/lab")).json()["revision"]
    moved = await world.lab.patch("/api/v1/destinations/lab", json={"tls": world.inside})
    assert moved.status_code == 200, moved.text
    before = await trace(engine, "lab")
    rolled = await world.lab.post(f"/api/v1/destinations/lab/rollback/{outside_revision}")
    refused_outside(rolled)
    assert await trace(engine, "lab") == before


async def test_a_missing_cluster_directory_refuses_every_path_naming_it(
    engine: Engine, world: World
) -> None:
    """Not made nor required at start (an engine without TLS destinations needs none): a
    change that names a TLS file while its cluster's directory is missing is refused, naming
    that directory and the setting, the same for any path."""
    shutil.rmtree(world.tls_dir)
    bodies = set()
    for path in (world.inside["ca_file"], "/etc/passwd", "/nonexistent/x"):
        refused = await world.lab.post(
            "/api/v1/destinations", json=new_destination("hosp-zy", {"ca_file": path})
        )
        assert refused.status_code == 422, refused.text
        bodies.add(refused.content)
    [body] = bodies
    assert (
        f"tls.ca_file: cannot be taken: the TLS directory of cluster LAB, {world.tls_dir} "
        "(INTEGRATOR_TLS_DIR/LAB), does not exist"
    ) in httpx.Response(422, content=body).json()["detail"]
    # Something else in its place: said so.
    world.tls_dir.write_text("")
    refused = await world.lab.post(
        "/api/v1/destinations",
        json=new_destination("hosp-zy", {"ca_file": world.inside["ca_file"]}),
    )
    assert "(INTEGRATOR_TLS_DIR/LAB), is not a directory" in refused.json()["detail"]
    # A change that names no TLS file needs no directory.
    plain = await world.lab.post("/api/v1/destinations", json=new_destination("hosp-zy", None))
    assert plain.status_code == 201, plain.text


async def test_a_card_manager_cannot_give_a_card_destination_lab_s_identity(
    engine: Engine, world: World
) -> None:
    """The finding: with one directory for all, a manager of CARD patched CARD's ``noord`` to
    LAB's client certificate and key (200), and the engine presented LAB's identity to any
    host CARD chose. Now refused before the files are looked at, in the words a path that is
    not there gets: nothing tells CARD what LAB's directory holds."""
    card_dir = engine.settings.tls_directory / "CARD"
    tls_files(card_dir)
    token = await token_for(engine, Grant(Role.DESTINATIONS, "CARD"), name="card-ops")
    card_rule = f"must be a file inside the TLS directory of cluster CARD, {card_dir} "
    before = await trace(engine, "noord")
    async with api_client(engine, token) as card:
        lab_s = {"cert_file": world.inside["cert_file"], "key_file": world.inside["key_file"]}
        gone = {"cert_file": f"{world.tls_dir}/gone.pem", "key_file": f"{world.tls_dir}/gone.key"}
        bodies = []
        for tls in (lab_s, gone):
            patched = await card.patch("/api/v1/destinations/noord", json={"tls": tls})
            assert patched.status_code == 422, patched.text
            detail = patched.json()["detail"]
            for key in ("cert_file", "key_file"):
                assert f"tls.{key}: {card_rule}(INTEGRATOR_TLS_DIR/CARD)" in detail, detail
            bodies.append(patched.content)
        assert bodies[0] == bodies[1]  # byte for byte
        # Probing LAB's files one by one (the CA, the key as a CA) tells no more.
        for path in (world.inside["ca_file"], world.inside["key_file"], f"{world.tls_dir}/x"):
            probed = await card.patch("/api/v1/destinations/noord", json={"tls": {"ca_file": path}})
            assert probed.status_code == 422, probed.text
            assert f"tls.ca_file: {card_rule}" in probed.json()["detail"]
            for told in ("does not exist", "not readable", "could not be loaded"):
                assert told not in probed.text
        assert await trace(engine, "noord") == before
        assert engine.catalog.destinations["noord"].tls is None
        # CARD's own files it may name.
        own = await card.patch("/api/v1/destinations/noord", json={"tls": tls_files(card_dir)})
        assert own.status_code == 200, own.text


async def test_a_change_into_a_cluster_not_yours_looks_at_no_file(
    engine: Engine, world: World
) -> None:
    """The directory is chosen by the cluster the definition names, so a manager of CARD
    naming LAB as the cluster is refused for that (403) before LAB's files are looked at: the
    same answer for a file there and one that is not."""
    token = await token_for(engine, Grant(Role.DESTINATIONS, "CARD"), name="card-ops")
    async with api_client(engine, token) as card:
        answers = set()
        for path in (world.inside["ca_file"], f"{world.tls_dir}/gone.pem"):
            added = await card.post(
                "/api/v1/destinations", json=new_destination("hosp-zy", {"ca_file": path})
            )
            moved = await card.patch(
                "/api/v1/destinations/noord", json={"cluster": "LAB", "tls": {"ca_file": path}}
            )
            for answer in (added, moved):
                assert answer.status_code == 403, answer.text
                assert "you may not put a destination in cluster LAB" in answer.text
            answers.add((added.content, moved.content))
        assert len(answers) == 1
    assert await trace(engine, "hosp-zy") == Trace(None, 0, 0)
    assert engine.catalog.destinations["noord"].cluster == "CARD"


async def test_a_destination_moved_to_another_cluster_brings_its_files_into_that_one_s(
    engine: Engine, world: World
) -> None:
    """Its paths are kept only in the cluster they were named for: moved to CARD by someone
    managing both, LAB's certificate would stay with a destination CARD's managers then point
    anywhere. So a move through the API names CARD's files in the same change (or drops
    ``tls``); at the server's shell it may move as it is."""
    card_dir = engine.settings.tls_directory / "CARD"
    card_s = tls_files(card_dir)
    set_up = await world.lab.patch("/api/v1/destinations/lab", json={"tls": world.inside})
    assert set_up.status_code == 200, set_up.text
    token = await token_for(
        engine, Grant(Role.DESTINATIONS, "LAB"), Grant(Role.DESTINATIONS, "CARD"), name="both"
    )
    before = await trace(engine, "lab")
    async with api_client(engine, token) as both:
        moved = await both.patch("/api/v1/destinations/lab", json={"cluster": "CARD"})
        assert moved.status_code == 422, moved.text
        for key in ("ca_file", "cert_file", "key_file"):  # kept as they were: not in the body
            assert (
                f"tls.{key} (not in the body): must be a file inside the TLS directory of "
                f"cluster CARD, {card_dir} " in moved.json()["detail"]
            )
        assert await trace(engine, "lab") == before
        assert engine.catalog.destinations["lab"].cluster == "LAB"
        with_own = await both.patch(
            "/api/v1/destinations/lab", json={"cluster": "CARD", "tls": card_s}
        )
        assert with_own.status_code == 200, with_own.text
        back = await both.patch("/api/v1/destinations/lab", json={"cluster": "LAB"})
        assert back.status_code == 422, back.text
        assert OUTSIDE in back.json()["detail"]
    # The command line is not held to it: the administrator may move it with LAB's files.
    shell = engine.admin.trusting_tls_paths()
    await shell.patch("lab", {"cluster": "LAB", "tls": world.inside}, actor="local:root")
    await shell.patch("lab", {"cluster": "CARD"}, actor="local:root")
    config = engine.catalog.destinations["lab"]
    assert config.cluster == "CARD" and config.tls is not None
    assert str(config.tls.cert_file) == world.inside["cert_file"]
    # What the administrator put there a change keeping it in CARD keeps (a port).
    card_token = await token_for(engine, Grant(Role.DESTINATIONS, "CARD"), name="card-ops")
    async with api_client(engine, card_token) as card:
        port = await card.patch("/api/v1/destinations/lab", json={"port": 2603})
        assert port.status_code == 200, port.text


async def test_a_destination_in_no_cluster_may_name_any_file_in_the_tls_directory(
    engine: Engine, world: World
) -> None:
    """Only who manages every cluster may change one, and may name any cluster's files."""
    async with api_client(engine) as everyone:
        added = await everyone.post(
            "/api/v1/destinations", json=new_destination("hosp-all", world.inside, cluster=None)
        )
        assert added.status_code == 201, added.text
        outside = await everyone.patch(
            "/api/v1/destinations/hosp-all", json={"tls": {"ca_file": world.elsewhere["ca_file"]}}
        )
        assert outside.status_code == 422, outside.text
        assert (
            "tls.ca_file: must be a file inside the TLS directory, INTEGRATOR_TLS_DIR "
            f"({engine.settings.tls_directory})"
        ) in outside.json()["detail"]
