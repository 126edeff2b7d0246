"""A BSN typed as ``--provider`` of a command-line listing (``events list``, ``rejected
list``) is refused as the API and the console refuse it: exit 2 naming the option and the
rule, never the number, and nothing listed, exported or audited."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from integrator.store import Store
from tests.integrator.test_cli_reading import cli, stored
from tests.store.factories import make_event, make_message

BSN = "999990019"
RULE = "--provider: this looks like a BSN: search by BSN instead"
SPELLINGS = (BSN, "999 990 019", "999.990.019", f"lab-{BSN}")
LISTINGS = (("events", "list"), ("events", "list", "--csv"), ("rejected", "list"))


@pytest.mark.parametrize("listing", LISTINGS)
@pytest.mark.parametrize("typed", SPELLINGS)
def test_a_bsn_as_provider_is_refused_naming_the_option(
    tmp_path: Path, listing: tuple[str, ...], typed: str
) -> None:
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    result = cli(env, *listing, "--provider", typed)
    assert result.exit_code == 2, result.output
    assert RULE in result.stderr
    assert "990" not in result.output  # neither stdout nor stderr
    assert result.stdout == ""

    async def audited() -> int:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return len(await store.list_audit(limit=100))

    assert asyncio.run(audited()) == 0  # no export, no view recorded


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_provider_id_without_a_bsn_still_lists(tmp_path: Path, listing: tuple[str, ...]) -> None:
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    result = cli(env, *listing, "--provider", "ziekenhuis-noord")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "listing", [("messages", "list"), ("messages", "list", "--csv"), ("resend", "--dry-run")]
)
@pytest.mark.parametrize("option", ["--control-id", "--destination"])
def test_a_bsn_as_an_msh10_or_destination_is_refused_naming_the_option(
    tmp_path: Path, listing: tuple[str, ...], option: str
) -> None:
    """Compared whole with what the engine wrote, it found nothing, and an export's audit
    entry kept it for five years: refused as the console and the API refuse it."""
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    result = cli(env, *listing, option, "999 990 019")
    assert result.exit_code == 2, result.output
    assert f"{option}: this looks like a BSN: search by BSN instead" in result.stderr
    assert "990" not in result.output


def test_a_destination_whose_id_holds_nine_such_digits_is_still_searched(tmp_path: Path) -> None:
    """``umc-999990019`` is a destination id (it holds a letter), though its digits pass the
    eleven-test: searched for, not refused as a BSN pasted into the wrong field."""
    env = stored(
        tmp_path,
        [(make_event(), [make_message(destination_id="umc-999990019")])],
        timedelta(seconds=1),
    )
    result = cli(env, "messages", "list", "--destination", "umc-999990019", "--json")
    assert result.exit_code == 0, result.output
    assert [row["destination"] for row in json.loads(result.stdout)] == ["umc-999990019"]
    refused = cli(env, "messages", "list", "--destination", "999990019")
    assert refused.exit_code == 2 and "--destination: this looks like a BSN" in refused.stderr
