"""``INTEGRATOR_AMQP_PREFIX`` is checked where the settings are read, as every other setting is.

Unchecked, ``INTEGRATOR_AMQP_PREFIX='bad prefix!'`` was taken, and ``integrator run`` on
RabbitMQ reconnected for about 12 s and ended in a traceback from the AMQP library
(``ValueError: Invalid value for exchange``). Now it is a bad setting: exit 2 in one line naming
the variable and the rule, before anything is opened. The rule is the one AMQP gives exchange
and queue names, held to the names the prefix begins, the longest included.
"""

from __future__ import annotations

from pathlib import Path

import aiormq
import pamqp.commands
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from destinations.config import MAX_ID
from integrator.amqp_names import (
    EXCHANGE_SUFFIXES,
    MAX_PREFIX,
    QUEUE_SUFFIXES,
)
from integrator.cli import app
from integrator.settings import Settings
from integrator.transport.topology import Topology
from tests.services import require_rabbitmq

RULE = "must be 1 to 118 characters, only letters, digits, '-', '_', '.' and ':'"
BAD = ["bad prefix!", "", "a" * (MAX_PREFIX + 1), "amq", "amq.site", "site/one", "zorg#1", "é"]


@pytest.mark.parametrize("prefix", BAD)
def test_a_prefix_amqp_cannot_name_with_is_refused_naming_the_rule(prefix: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(amqp_prefix=prefix)
    assert RULE in str(refused.value)
    assert "neither amq nor beginning with amq." in str(refused.value)


@pytest.mark.parametrize(
    "prefix", ["integrator", "integrator.test.0a1b", "site_2:acc-x", "amqp", "a" * MAX_PREFIX]
)
def test_prefixes_in_the_rule_pass(prefix: str) -> None:
    assert Settings(amqp_prefix=prefix).amqp_prefix == prefix


def _names(topology: Topology, destination_id: str) -> tuple[list[str], list[str]]:
    exchanges = [topology.intake_exchange, topology.delivery_exchange, topology.dead_exchange]
    queues = [
        topology.intake_queue,
        topology.dead_queue,
        topology.recovery_lock,
        topology.delivery_queue(destination_id),
    ]
    return exchanges, queues


def _declare_frames(exchanges: list[str], queues: list[str]) -> None:
    """The AMQP library's own checks of each name, as ``run`` declares them."""
    for exchange in exchanges:
        pamqp.commands.Exchange.Declare(exchange=exchange, exchange_type="topic")
    for queue in queues:
        pamqp.commands.Queue.Declare(queue=queue)


def test_the_longest_prefix_names_every_exchange_and_queue_the_library_takes() -> None:
    topology = Topology("p" * MAX_PREFIX)
    exchanges, queues = _names(topology, "d" * MAX_ID)
    assert [name.removeprefix(topology.prefix) for name in exchanges] == list(EXCHANGE_SUFFIXES)
    assert [name.removeprefix(topology.prefix) for name in queues[:3]] == list(QUEUE_SUFFIXES)
    assert max(len(queue.encode()) for queue in queues) <= 255
    _declare_frames(exchanges, queues)
    with pytest.raises(ValueError, match="Max length exceeded for exchange"):
        _declare_frames(*_names(Topology("p" * (MAX_PREFIX + 1)), "d"))


@pytest.mark.parametrize("command", [["run"], ["health", "--ready"], ["deadletter", "list"]])
def test_commands_refuse_it_in_one_line_with_exit_2_and_make_no_store(
    tmp_path: Path, command: list[str]
) -> None:
    store = tmp_path / "integrator.db"
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{store}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "INTEGRATOR_AMQP_PREFIX": "bad prefix!",
    }
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: bad settings: INTEGRATOR_AMQP_PREFIX: {RULE}")
    assert not store.exists()


async def test_the_broker_refuses_the_names_the_rule_keeps_out() -> None:
    """Why ``amq`` is out although AMQP's characters allow it: RabbitMQ keeps ``amq.`` names."""
    connection = await aiormq.connect(require_rabbitmq())
    try:
        channel = await connection.channel()
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await channel.exchange_declare(Topology("amq").intake_exchange, exchange_type="topic")
    finally:
        await connection.close()
