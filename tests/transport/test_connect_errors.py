"""Why the broker could not be used, said in words naming the cause and INTEGRATOR_AMQP_URL.

``integrator run`` used to end with the AMQP client's exception class only, and for a missing
vhost a misleading one (``InvalidFrameError``: the broker's ``Connection.Close`` in answer to
``Connection.Open``). The unit tests build the errors as aiormq raises them (the real ones were
read off a broker); the last tests take them from the real broker. No text holds the password.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import aiormq
import pytest
from structlog.testing import capture_logs
from yarl import URL

from integrator.transport import TransportUnavailable
from integrator.transport.link import AmqpLink, describe_connect_error, refused_for_good
from integrator.transport.rabbitmq import RabbitMQTransport
from integrator.transport.topology import Topology
from tests.cli_in_process import run_cli
from tests.services import free_port, require_rabbitmq
from tests.transport.helpers import delete_topology, eventually, unique_prefix

PASSWORD = "s3cret-pw"
URL_ = f"amqp://guest:{PASSWORD}@broker.example:5672/clinic"


def described(exc: BaseException, url: str = URL_) -> str:
    text = describe_connect_error(exc, url)
    assert PASSWORD not in text
    return text


def raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    """``exc`` with a traceback (and a cause), as the link catches it."""
    try:
        raise exc from cause
    except BaseException as caught:
        return caught


def closed_on_open(code: int, text: str) -> BaseException:
    """What the link's connection raises when the broker answers ``Connection.Open`` with
    ``Connection.Close``: the reply as ``ConnectionClosed(code, text)``, from aiormq's own
    ``InvalidFrameError`` that names the frame's class only."""
    return raised(
        aiormq.exceptions.ConnectionClosed(code, text),
        aiormq.exceptions.InvalidFrameError(
            "Expected one of ['Connection.OpenOk'], got <Connection.Close object at 0x7f0d9f17bb30>"
        ),
    )


SAID_FOR_CREDENTIALS = "the broker refused the user name or password in INTEGRATOR_AMQP_URL"


def test_a_wrong_user_name_or_password() -> None:
    exc = aiormq.exceptions.ProbableAuthenticationError(
        "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details "
        "see the broker logfile."
    )
    assert described(raised(exc)) == (
        "the broker refused the user name or password in INTEGRATOR_AMQP_URL"
    )


def test_a_missing_vhost_is_read_from_the_brokers_close() -> None:
    exc = closed_on_open(530, "NOT_ALLOWED - vhost clinic not found")
    assert described(exc) == "the broker has no vhost 'clinic' (INTEGRATOR_AMQP_URL)"


def test_a_vhost_the_user_may_not_use() -> None:
    exc = aiormq.exceptions.ConnectionClosed(
        530, "NOT_ALLOWED - access to vhost 'clinic' refused for user 'guest'"
    )
    assert described(raised(exc)) == (
        "the broker refused the user in INTEGRATOR_AMQP_URL access to vhost 'clinic' (grant it "
        "permissions there, or use another vhost)"
    )


def test_another_close_names_the_brokers_reply() -> None:
    exc = closed_on_open(530, "NOT_ALLOWED - connection limit (10) is reached")
    assert described(exc) == (
        "the broker closed the connection: 530 NOT_ALLOWED - connection limit (10) is reached "
        "(INTEGRATOR_AMQP_URL)"
    )


def test_a_close_on_open_whose_frame_is_not_found() -> None:
    exc = aiormq.exceptions.InvalidFrameError(
        "Expected one of ['Connection.OpenOk'], got <Connection.Close object at 0x7f0d9f17bb30>"
    )  # no traceback: nothing to read the reply from
    assert described(exc) == (
        "the broker refused to open the connection to vhost 'clinic' (INTEGRATOR_AMQP_URL)"
    )


def test_the_default_vhost_and_port() -> None:
    exc = closed_on_open(530, "NOT_ALLOWED - vhost / not found")
    assert described(exc, f"amqps://guest:{PASSWORD}@broker.example") == (
        "the broker has no vhost '/' (INTEGRATOR_AMQP_URL)"
    )
    refused = raised(
        aiormq.exceptions.AMQPConnectionError(111, "Connect call failed"),
        ConnectionRefusedError(111, "Connect call failed"),
    )
    assert described(refused, f"amqps://guest:{PASSWORD}@broker.example") == (
        "connection refused at broker.example:5671 (INTEGRATOR_AMQP_URL)"
    )


def test_nothing_listening() -> None:
    exc = raised(
        aiormq.exceptions.AMQPConnectionError(111, "Connect call failed ('127.0.0.1', 18698)"),
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 18698)"),
    )
    url = f"amqp://guest:{PASSWORD}@127.0.0.1:18698/"
    assert described(exc, url) == "connection refused at 127.0.0.1:18698 (INTEGRATOR_AMQP_URL)"


def test_an_unknown_host() -> None:
    exc = raised(
        aiormq.exceptions.AMQPConnectionError(-2, "Name or service not known"),
        socket.gaierror(-2, "Name or service not known"),
    )
    assert described(exc) == "no host named 'broker.example' (INTEGRATOR_AMQP_URL)"


def test_no_answer_in_time() -> None:
    assert described(raised(TimeoutError())) == (
        "no answer from broker.example:5672 in time (INTEGRATOR_AMQP_URL)"
    )


def test_a_port_that_is_no_amqp_broker() -> None:
    exc = raised(
        aiormq.exceptions.AMQPConnectionError(
            "Server connection unexpectedly closed. Read 0 bytes but 1 bytes expected"
        ),
        asyncio.IncompleteReadError(b"", 1),
    )
    assert described(exc) == (
        "broker.example:5672 closed the connection before the AMQP handshake was done (is it a "
        "RabbitMQ port, and the scheme, amqp or amqps, the right one? Or a proxy or load "
        "balancer in front of a broker that is down?) (INTEGRATOR_AMQP_URL)"
    )


def test_a_peer_that_resets_the_connection_before_the_handshake() -> None:
    """A proxy that takes the connection and closes it at once, unread: what the client had
    written makes it a reset, not an end of stream. The same close as above."""
    exc = raised(
        aiormq.exceptions.AMQPConnectionError(
            "Server connection reset: ConnectionResetError(104, 'Connection reset by peer')"
        ),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
    )
    assert described(exc) == (
        "broker.example:5672 closed the connection before the AMQP handshake was done (is it a "
        "RabbitMQ port, and the scheme, amqp or amqps, the right one? Or a proxy or load "
        "balancer in front of a broker that is down?) (INTEGRATOR_AMQP_URL)"
    )


def test_a_close_before_the_handshake_where_it_was_answered_before_is_an_outage() -> None:
    exc = raised(
        aiormq.exceptions.AMQPConnectionError(
            "Server connection unexpectedly closed. Read 0 bytes but 1 bytes expected"
        ),
        asyncio.IncompleteReadError(b"", 1),
    )
    assert describe_connect_error(exc, URL_, answered_before=True) == (
        "broker.example:5672 closed the connection before the AMQP handshake was done; it "
        "answered the handshake before, so the broker is down or restarting behind a proxy or "
        "load balancer that takes connections for it (INTEGRATOR_AMQP_URL)"
    )


def test_another_socket_error_is_named_by_the_os() -> None:
    exc = raised(
        aiormq.exceptions.AMQPConnectionError(errno.EHOSTUNREACH, "Connect call failed"),
        OSError(errno.EHOSTUNREACH, "Connect call failed ('10.0.0.9', 5672)"),
    )
    assert described(exc) == ("No route to host at broker.example:5672 (INTEGRATOR_AMQP_URL)")


def test_anything_else_is_named_by_its_type() -> None:
    exc = aiormq.exceptions.ChannelInvalidStateError("writer is None")
    assert described(raised(exc)) == "ChannelInvalidStateError"


def test_which_refusals_retrying_will_not_mend() -> None:
    """The user name, password and vhost stay wrong until the operator mends them; a
    connection limit, a broker away or an unknown host (DNS not up yet) may pass."""
    for_good = [
        raised(aiormq.exceptions.ProbableAuthenticationError("ACCESS_REFUSED - Login refused")),
        raised(aiormq.exceptions.ConnectionClosed(403, "ACCESS_REFUSED - Login was refused")),
        closed_on_open(530, "NOT_ALLOWED - vhost clinic not found"),
        closed_on_open(530, "NOT_ALLOWED - access to vhost 'clinic' refused for user 'guest'"),
    ]
    passing = [
        closed_on_open(530, "NOT_ALLOWED - connection limit (10) is reached"),
        aiormq.exceptions.InvalidFrameError("Expected one of ['Connection.OpenOk'], got x"),
        raised(
            aiormq.exceptions.AMQPConnectionError(111, "Connect call failed"),
            ConnectionRefusedError(111, "Connect call failed"),
        ),
        raised(
            aiormq.exceptions.AMQPConnectionError(-2, "Name or service not known"),
            socket.gaierror(-2, "Name or service not known"),
        ),
        raised(TimeoutError()),
    ]
    assert [refused_for_good(e) for e in for_good] == [True] * len(for_good)
    assert [refused_for_good(e) for e in passing] == [False] * len(passing)


async def start_with(url: str) -> tuple[str, list[MutableMapping[str, Any]]]:
    """Start a transport on ``url`` with the engine's 10 s: the error it ends with, and the
    link's log line for each connect attempt that failed."""
    transport = RabbitMQTransport(url, prefix=unique_prefix())
    try:
        with capture_logs() as logs, pytest.raises(TransportUnavailable) as caught:
            await transport.start()
    finally:
        await transport.close()
    return str(caught.value), [e for e in logs if e["event"].startswith("message broker")]


@pytest.mark.rabbitmq
async def test_the_real_broker_without_the_vhost() -> None:
    """Fails when aiormq no longer lets ``BrokerConnection`` see the broker's reply: the text is
    then the vaguer "refused to open the connection", and the start is retried for 10 s."""
    vhost = f"integrator-test-missing-{uuid.uuid4().hex[:8]}"
    url = str(URL(require_rabbitmq()).with_path(f"/{vhost}"))
    said, attempts = await start_with(url)
    assert said == (
        f"message broker at amqp://***@127.0.0.1:5672/{vhost} not usable: the broker has no "
        f"vhost '{vhost}' (INTEGRATOR_AMQP_URL)"
    )
    assert [(e["event"], e["attempt"]) for e in attempts] == [
        ("message broker refused the engine; not retrying", 1)
    ]  # the first answer ends the start: a vhost does not appear by retrying
    assert attempts[0]["error"] == f"the broker has no vhost '{vhost}' (INTEGRATOR_AMQP_URL)"


@pytest.mark.rabbitmq
async def test_the_real_broker_with_a_wrong_password() -> None:
    url = str(URL(require_rabbitmq()).with_password(PASSWORD))
    said, attempts = await start_with(url)
    assert said == (
        "message broker at amqp://***@127.0.0.1:5672/ not usable: the broker refused the user "
        "name or password in INTEGRATOR_AMQP_URL"
    )
    assert [(e["event"], e["attempt"]) for e in attempts] == [
        ("message broker refused the engine; not retrying", 1)
    ]
    assert PASSWORD not in said + repr(attempts)


async def test_nobody_listening_is_still_retried() -> None:
    """Refused (the broker may be starting) is retried until the start's time is up."""
    url = f"amqp://guest:{PASSWORD}@127.0.0.1:{free_port()}/"
    link = AmqpLink(url, min_backoff=0.01, max_backoff=0.01)
    try:
        with capture_logs() as logs, pytest.raises(TransportUnavailable) as caught:
            await link.start(timeout=0.5)
    finally:
        await link.close()
    assert "not usable within 0.5s; last error: connection refused at" in str(caught.value)
    retried = [e for e in logs if e["event"] == "message broker unreachable; retrying"]
    assert len(retried) > 1
    assert [e["attempt"] for e in retried] == list(range(1, len(retried) + 1))


@pytest.mark.rabbitmq
async def test_a_refusal_after_the_start_is_retried_until_it_mends() -> None:
    """In service the engine never gives up: a password changed on the broker is retried with
    backoff and logged as a broker away is, and the link comes back once it is mended. (The
    broker's users are not changed here, rabbitmqctl takes seconds a call: the link is handed
    the wrong password, as if the broker's had changed, and its connection closed.)"""
    url = require_rabbitmq()
    link = AmqpLink(url, max_backoff=0.2)
    try:
        await link.start()
        with capture_logs() as logs:
            link._url = str(URL(url).with_password(PASSWORD))
            await link.connection.close()

            def refusals() -> list[MutableMapping[str, Any]]:
                return [
                    e
                    for e in logs
                    if e["event"] == "message broker unreachable; retrying"
                    and e["error"] == SAID_FOR_CREDENTIALS
                ]

            assert await eventually(lambda: len(refusals()) >= 2)
            assert not link.connected
            link._url = url  # the operator puts the broker's password back
            assert await link.wait_connected(timeout=10)
        assert not any(e["event"].startswith("message broker refused") for e in logs)
        assert [e["attempt"] for e in refusals()][:2] == [1, 2]
    finally:
        await link.close()


@pytest.mark.rabbitmq
def test_integrator_run_on_a_missing_vhost_ends_at_the_first_answer(tmp_path: Path) -> None:
    vhost = f"integrator-test-missing-{uuid.uuid4().hex[:8]}"
    url = URL(require_rabbitmq()).with_path(f"/{vhost}").with_password("guest")
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/integrator.db",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_HTTP_PORT": str(free_port()),
        "INTEGRATOR_AMQP_URL": str(url),
    }
    ran = run_cli("run", env=env)
    assert ran.returncode == 1, ran.stderr
    assert (
        f"error: the engine could not run: message broker at amqp://***@127.0.0.1:5672/{vhost} "
        f"not usable: the broker has no vhost '{vhost}' (INTEGRATOR_AMQP_URL)"
    ) in ran.stderr
    assert ran.stderr.count("message broker refused the engine; not retrying") == 1
    assert "retrying" not in ran.stderr.replace("not retrying", "")


@pytest.mark.rabbitmq
async def test_a_queue_with_other_arguments_says_what_to_do() -> None:
    """A queue left under the prefix with other arguments (another program's, another
    installation's) is refused at every declare; the start ended with the broker's reply only
    (``PRECONDITION_FAILED - inequivalent arg …``), which names the queue but not the way out."""
    url = require_rabbitmq()
    prefix = unique_prefix()
    topology = Topology(prefix)
    connection = await aiormq.connect(url)
    try:
        await (await connection.channel()).queue_declare(topology.intake_queue, durable=True)
        transport = RabbitMQTransport(url, prefix=prefix)
        try:
            with capture_logs() as logs, pytest.raises(TransportUnavailable) as caught:
                await transport.start(timeout=30.0)  # ends at the first refusal, not then
        finally:
            await transport.close()
    finally:
        await connection.close()
        await delete_topology(url, prefix, ())
    said = str(caught.value)
    assert "PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange'" in said
    assert f"for queue '{prefix}.intake'" in said
    assert "give this installation a prefix of its own in INTEGRATOR_AMQP_PREFIX" in said
    assert "or delete that queue once nothing it holds is needed" in said
    # Said once and not retried: waiting does not change a queue's arguments.
    assert "not usable within" not in said, said
    [failed] = [e for e in logs if e["event"].startswith("message broker setup")]
    assert failed["event"] == "message broker setup refused; not retrying"
    assert "INTEGRATOR_AMQP_PREFIX" in failed["error"]
