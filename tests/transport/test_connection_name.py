"""The broker can tell the engines on it apart: each names its connection by host and process."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
from typing import Any

import aiormq.connection
import pytest

from integrator.transport.link import AmqpLink, client_properties, connection_name
from tests.services import require_rabbitmq


def test_the_name_is_the_host_and_the_pid_unless_the_url_names_the_connection() -> None:
    name = f"integrator {socket.gethostname()} pid {os.getpid()}"
    assert connection_name() == name
    assert client_properties("amqp://guest:guest@127.0.0.1:5672/") == {"connection_name": name}
    # aiormq takes a name from the URL too; the operator's stands.
    assert client_properties("amqp://guest:guest@127.0.0.1:5672/?name=engine-a") == {}


@pytest.mark.rabbitmq
async def test_the_engines_connection_carries_its_name_to_the_broker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = require_rabbitmq()
    sent: list[dict[str, Any]] = []
    original = aiormq.connection.Connection._client_properties

    def spy(self: aiormq.connection.Connection, **kwargs: Any) -> dict[str, Any]:
        properties = original(self, **kwargs)
        sent.append(properties)
        return properties

    # What goes out in the Connection.StartOk frame (aiormq builds it with this method).
    monkeypatch.setattr(aiormq.connection.Connection, "_client_properties", spy)
    link = AmqpLink(url)
    await link.start()
    try:
        assert [p["connection_name"] for p in sent] == [connection_name()]
        if shutil.which("rabbitmqctl") is not None:  # the broker's side, where it can be asked
            names = await asyncio.get_running_loop().run_in_executor(None, _broker_names)
            assert connection_name() in names
    finally:
        await link.close()


def _broker_names() -> list[str]:
    """The ``connection_name`` of every connection the broker has (read only)."""
    done = subprocess.run(
        ["rabbitmqctl", "list_connections", "client_properties", "--formatter", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return _names_in(json.loads(done.stdout))


def _names_in(connections: list[dict[str, Any]]) -> list[str]:
    """The names among ``rabbitmqctl``'s rows; a connection still in its handshake (another
    test's, when the suite runs in parallel) lists its properties unfinished, so rows that are
    not ``[key, type, value]`` triples are passed over."""
    names = []
    for connection in connections:
        properties = connection.get("client_properties")
        for entry in properties if isinstance(properties, list) else []:
            if isinstance(entry, list) and len(entry) == 3 and entry[0] == "connection_name":
                names.append(entry[2])
    return names


def test_rows_of_connections_in_their_handshake_are_passed_over() -> None:
    rows: list[dict[str, Any]] = [
        {"client_properties": [["connection_name", "longstr", "integrator a pid 1"]]},
        {"client_properties": [["unfinished"]]},
        {"client_properties": ""},
        {},
    ]
    assert _names_in(rows) == ["integrator a pid 1"]
