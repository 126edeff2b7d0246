"""The console is held to the TLS directory as the API is (``destinations.tls_dir``): its form
has no ``tls`` fields, but a rollback brings a revision's TLS files back, and one naming files
outside the directory of the destination's cluster (written at the server's shell: another
cluster's, or anywhere) is refused, naming the rule in the person's language, and nothing is
rolled back.

The world: ``lab`` in LAB, whose manager may change destinations in LAB only.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_refusals import problems
from tests.console.test_saved_searches import post, signed_in
from tests.destinations.certificate_files import tls_files
from tests.integrator.support import destination, settings_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("lab", 2599, providers=["lab-only"], cluster="LAB")
    (settings.destinations_dir / "lab.yaml").write_text(dump_destination(config))
    started = Engine(settings)
    await started.start()
    yield started
    await started.stop()


async def test_a_rollback_to_tls_files_outside_the_directory_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    lab_dir = engine.settings.tls_directory / "LAB"
    tls_files(lab_dir)  # there, and not the ones named below
    at_the_shell = engine.admin.trusting_tls_paths()
    outside = []
    for directory in (tmp_path / "pki", engine.settings.tls_directory / "CARD"):
        elsewhere = tls_files(directory)  # anywhere, and another cluster's
        outside.append(await at_the_shell.patch("lab", {"tls": elsewhere}, actor="local:root"))
        await at_the_shell.patch("lab", {"tls": None}, actor="local:root")
    revisions = len(await engine.admin.history("lab"))
    async with signed_in(engine, "lars@example.org", Grant(Role.DESTINATIONS, "LAB")) as lars:
        for change in outside:
            form = {"revision": str(change.revision), "reason": "back to the old CA"}
            for lang, rule in (
                ("en", f"must be a file inside the TLS directory of cluster LAB, {lab_dir} "),
                ("nl", f"moet een bestand in de TLS-map van cluster LAB zijn, {lab_dir} "),
            ):
                lars.cookies.set("integrator-lang", lang)
                refused = await post(lars, "/destinations/lab/rollback", form)
                assert refused.status_code == 422, refused.text
                shown = problems(refused)
                assert f"{rule}(INTEGRATOR_TLS_DIR/LAB)" in shown, shown
                assert "could not be loaded" not in shown and "does not exist" not in shown
    assert len(await engine.admin.history("lab")) == revisions  # nothing rolled back
    assert engine.catalog.destinations["lab"].tls is None
