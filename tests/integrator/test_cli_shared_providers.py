"""``destinations add`` warns on stderr of a provider another destination serves already."""

from __future__ import annotations

from pathlib import Path

from destinations.config import dump_destination
from tests.integrator.support import destination
from tests.integrator.test_cli_reading import cli, env_for


def test_adding_a_copy_warns_naming_the_destination_that_serves_its_provider(
    tmp_path: Path,
) -> None:
    configured = tmp_path / "destinations"
    configured.mkdir()
    env = env_for(f"sqlite:///{tmp_path / 'store.db'}", configured)
    noord = destination("noord", 2575, providers=["ziekenhuis-noord"])
    first = tmp_path / "noord.yaml"
    first.write_text(dump_destination(noord))
    assert cli(env, "destinations", "add", str(first)).exit_code == 0  # makes the store
    copy = tmp_path / "noord-kopie.yaml"
    copy.write_text(dump_destination(noord.model_copy(update={"id": "noord-kopie"})))
    added = cli(env, "destinations", "add", str(copy))
    assert added.exit_code == 0, added.output
    said = " ".join(added.stderr.split())
    assert (
        "warning: destination 'noord-kopie': provider 'ziekenhuis-noord' is also served by "
        "'noord'; each of its events goes to all of them"
    ) in said, said
