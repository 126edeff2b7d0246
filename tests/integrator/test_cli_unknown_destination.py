"""A ``--destination`` that names no destination is refused (exit 2, naming the term and the
destinations there are), not answered with an empty listing: docs/support.md says an empty
listing "always means the right store had nothing that matched". One that was removed since
still has its messages and stays searchable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from destinations.config import dump_destination
from tests.integrator.support import destination
from tests.integrator.test_cli_reading import cli, listed_ids, stored
from tests.store.factories import make_event, make_message


def test_a_destination_nobody_has_is_refused_naming_the_term(tmp_path: Path) -> None:
    removed = make_message(destination_id="kliniek-oud")  # its destination file is gone
    kept = make_message(destination_id="ziekenhuis-noord")
    env = stored(tmp_path, [(make_event(), [removed]), (make_event(), [kept])], timedelta(1))
    config = destination("ziekenhuis-noord", 2575, providers=["ziekenhuis-noord"])
    (tmp_path / "ziekenhuis-noord.yaml").write_text(dump_destination(config), encoding="utf-8")
    config = destination("lab-west", 2576, providers=["lab-west"])
    (tmp_path / "lab-west.yaml").write_text(dump_destination(config), encoding="utf-8")

    assert listed_ids(cli(env, "messages", "list", "--destination", "kliniek-oud", "--json")) == [
        removed.id
    ]
    # Configured, nothing sent yet: an empty listing is the right answer.
    assert listed_ids(cli(env, "messages", "list", "--destination", "lab-west", "--json")) == []

    for args in (
        ("messages", "list", "--destination", "nosuch"),
        ("deadletter", "list", "--destination", "nosuch"),
        ("resend", "--destination", "nosuch", "--reason", "x", "--dry-run"),
        ("deadletter", "resend", "--destination", "nosuch", "--reason", "x", "--dry-run"),
    ):
        refused = cli(env, *args)
        assert refused.exit_code == 2, (args, refused.output)
        said = " ".join(refused.stderr.split())
        assert "destination: no destination has that id" in said, (args, said)
        assert "configured: lab-west, ziekenhuis-noord" in said, (args, said)
        assert refused.stdout == "", args
