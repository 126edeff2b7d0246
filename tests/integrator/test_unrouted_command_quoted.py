"""The command a change's unrouted warning suggests quotes the provider for a shell.

A destinations manager names the providers a destination serves; any text without control
characters is a provider (an event may carry it). The warning's suggested command
``integrator events route --provider P`` had P as typed, so whoever copied it into a shell ran
what P held (``$(...)``). Now P is one shell word (``shlex.quote``), and the console still reads
the sentence back (its shape) and says it in Dutch with the same quoted command, and reads the
provider for its link to the unrouted events page."""

from __future__ import annotations

import json
import shlex
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from destinations.config import dump_destination
from integrator.console.notice_text import NOTICES, word
from integrator.engine import Engine
from integrator.operators import UNROUTED_STILL_WAITING, UNROUTED_WAITING
from tests.integrator.support import destination, settings_for

PROVIDER = "lab $(touch /tmp/unrouted-quoting) west"
QUOTED = "'lab $(touch /tmp/unrouted-quoting) west'"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """``noord`` on a port nobody answers (nothing here is delivered)."""
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
    started = Engine(settings)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


def _command(warning: str) -> list[str]:
    """The suggested command, as a POSIX shell splits it into words."""
    return shlex.split(warning.split("`")[1])


async def test_the_suggested_command_holds_the_provider_as_one_quoted_word(
    engine: Engine, diagnostic_request_data: dict[str, Any]
) -> None:
    diagnostic_request_data["provider"]["id"] = PROVIDER
    await engine.intake.submit(json.dumps(diagnostic_request_data), source="cli")  # unrouted
    change = await engine.admin.patch(
        "noord", {"providers": ["ziekenhuis-noord", PROVIDER]}, actor="anna"
    )
    [warning] = [w for w in change.warnings if "unrouted" in w]
    assert f"integrator events route --provider {QUOTED} --reason" in warning, warning
    words = _command(warning)
    assert words[:5] == ["integrator", "events", "route", "--provider", PROVIDER], words
    # The console reads it back: translated, with the same quoted command, and the provider.
    found = NOTICES.read(warning)
    assert found is not None and found[0] is UNROUTED_WAITING, warning
    assert found[1]["provider"] == PROVIDER
    dutch = word("nl", warning)
    assert dutch.startswith("1 gebeurtenis zonder bestemming wacht op zorgaanbieder"), dutch
    assert f"--provider {QUOTED} --reason" in dutch
    assert word("en", warning) == warning

    later = await engine.admin.patch("noord", {"ack_timeout": "3s"}, actor="anna")
    [reminder] = [w for w in later.warnings if "unrouted" in w]
    assert _command(reminder)[4] == PROVIDER
    assert UNROUTED_STILL_WAITING.read(reminder) is not None
    assert word("nl", reminder) != reminder and f"--provider {QUOTED} " in word("nl", reminder)


def test_a_plain_provider_is_written_as_before() -> None:
    """A provider a shell takes as it is stays unquoted: the sentence reads as it always did
    (and those stored before are still read)."""
    text = UNROUTED_WAITING(count=2, provider="lab-west")
    assert text == (
        "2 unrouted event(s) wait for provider 'lab-west', now served by this destination: "
        'route them with `integrator events route --provider lab-west --reason "..."`'
    )
    assert UNROUTED_WAITING.read(text) == {
        "count": "2",
        "provider": "lab-west",
        "provider_word": "lab-west",
    }


def test_a_text_whose_command_is_not_the_quoted_provider_is_not_read() -> None:
    """Stored before the quoting, with a provider a shell would run: shown as stored, never
    translated into a sentence whose command differs from what the engine wrote."""
    unquoted = (
        f"1 unrouted event(s) wait for provider {PROVIDER!r}, now served by this destination: "
        f'route them with `integrator events route --provider {PROVIDER} --reason "..."`'
    )
    assert UNROUTED_WAITING.read(unquoted) is None
    assert word("nl", unquoted) == unquoted
