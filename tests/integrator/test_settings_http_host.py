"""``INTEGRATOR_HTTP_HOST`` is checked where the settings are read, as every other setting is.

A malformed value got as far as ``integrator run`` binding its port, which ended with exit 1
("cannot listen on http://x:8080 for the HTTP API: Name or service not known"), as if the port
were taken, and as far as the CLI's request to the engine (``integrator resend`` through a
running engine, ``integrator health``): "no answer", or for an IPv6 address, whose port was
read into the address, a traceback. Now it is a bad setting: exit 2 naming the variable and
the rule, and an IPv6 address is written in brackets wherever a URL is made of it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from integrator.access.setup import public_url
from integrator.cli import app
from integrator.engine_api import engine_url
from integrator.presence import http_address
from integrator.settings import Settings

BAD = {
    "http://integrator.example.nl": "not a URL (the port goes in INTEGRATOR_HTTP_PORT)",
    "127.0.0.1:8080": "without a port (the port goes in INTEGRATOR_HTTP_PORT",
    "[::1]": "an IPv6 address without brackets",
    "not a host": "without spaces",
    "": "must be a host name",
    "999.1.1.1": "or an address (IPv4 as four numbers 0-255)",
    "-engine.example.nl": "none beginning or ending with '-'",
}


@pytest.mark.parametrize(("host", "rule"), BAD.items())
def test_a_malformed_host_is_refused_naming_the_rule(host: str, rule: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(http_host=host)
    assert rule in str(refused.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "engine-1"])
def test_names_and_addresses_pass(host: str) -> None:
    assert Settings(http_host=host).http_host == host


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["resend", "0123456789abcdef", "--reason", "the GP called"],  # through the engine's API
        ["events", "route", "--provider", "ziekenhuis-noord", "--reason", "x"],  # likewise
    ],
)
@pytest.mark.parametrize("host", ["http://integrator.example.nl", "127.0.0.1:8080", "a b"])
def test_commands_refuse_it_in_one_line_with_exit_2(
    tmp_path: Path, command: list[str], host: str
) -> None:
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/integrator.db",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_HTTP_HOST": host,
    }
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("error: bad settings: INTEGRATOR_HTTP_HOST: must be a host")


def test_an_ipv6_address_is_bracketed_where_a_url_or_an_address_is_made_of_it() -> None:
    settings = Settings(http_host="::1", http_port=8443)
    assert engine_url(settings) == "http://[::1]:8443"
    assert public_url(settings) == "http://[::1]:8443"
    assert http_address(settings, http=True) == "[::1]:8443"
    assert engine_url(Settings(http_host="engine-1")) == "http://engine-1:8080"
