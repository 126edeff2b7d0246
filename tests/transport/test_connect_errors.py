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

import aiormq
import pytest
from pamqp.commands import Connection
from yarl import URL

from integrator.transport import TransportUnavailable
from integrator.transport.link import describe_connect_error
from integrator.transport.rabbitmq import RabbitMQTransport
from tests.services import require_rabbitmq
from tests.transport.helpers import unique_prefix

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
    """What aiormq raises when the broker answers ``Connection.Open`` with ``Connection.Close``:
    an ``InvalidFrameError`` naming the frame's class only; the frame is a local of ``_rpc``."""

    def _rpc() -> None:
        frame = Connection.Close(reply_code=code, reply_text=text, class_id=10, method_id=40)
        raise aiormq.exceptions.InvalidFrameError(
            f"Expected one of ['Connection.OpenOk'], got {frame!r}"
        )

    try:
        _rpc()
    except BaseException as caught:
        return caught
    raise AssertionError("not raised")


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
        "RabbitMQ port, and the scheme, amqp or amqps, the right one?) (INTEGRATOR_AMQP_URL)"
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


async def start_with(url: str) -> str:
    """Start a transport on ``url`` (1 s instead of the engine's 10 s): the error it ends with."""
    transport = RabbitMQTransport(url, prefix=unique_prefix())
    try:
        with pytest.raises(TransportUnavailable) as caught:
            await transport.start(timeout=1.0)
    finally:
        await transport.close()
    return str(caught.value)


@pytest.mark.rabbitmq
async def test_the_real_broker_without_the_vhost() -> None:
    vhost = f"integrator-test-missing-{uuid.uuid4().hex[:8]}"
    url = str(URL(require_rabbitmq()).with_path(f"/{vhost}"))
    said = await start_with(url)
    assert said == (
        f"message broker at amqp://***@127.0.0.1:5672/{vhost} not usable within 1s; last error: "
        f"the broker has no vhost '{vhost}' (INTEGRATOR_AMQP_URL)"
    )


@pytest.mark.rabbitmq
async def test_the_real_broker_with_a_wrong_password() -> None:
    url = str(URL(require_rabbitmq()).with_password(PASSWORD))
    said = await start_with(url)
    assert said == (
        "message broker at amqp://***@127.0.0.1:5672/ not usable within 1s; last error: the "
        "broker refused the user name or password in INTEGRATOR_AMQP_URL"
    )
    assert PASSWORD not in said
