"""A module's logger is assembled once, yet follows every later configuration and stream."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

from integrator.logging import configure_logging, get_logger


@pytest.fixture(autouse=True)
def _defaults_afterwards() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_a_logger_is_assembled_once_while_the_configuration_stays() -> None:
    configure_logging(level="info")
    log = get_logger("test")
    assert log._current() is log._current()


def test_a_new_level_applies_to_a_logger_already_used(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    log = get_logger("test")
    configure_logging(level="info")
    log.debug("dropped at info")
    configure_logging(level="debug")
    log.debug("written at debug")
    configure_logging(level="warning")
    log.info("dropped at warning")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "written at debug" in lines[0]


def test_each_line_goes_to_the_stderr_of_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    configure_logging(level="info")
    log = get_logger("test")
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    log.info("one")
    first.close()  # as a CLI runner leaves its stream
    monkeypatch.setattr(sys, "stderr", second)
    log.info("two")
    assert "two" in second.getvalue()


def test_capture_logs_sees_a_logger_used_before_and_after() -> None:
    configure_logging(level="info")
    log = get_logger("test")
    stream = io.StringIO()
    saved, sys.stderr = sys.stderr, stream
    try:
        log.info("before")
        with capture_logs() as logs:
            log.warning("inside", message_id="m1")
        log.info("after")
    finally:
        sys.stderr = saved
    assert logs == [{"event": "inside", "message_id": "m1", "log_level": "warning"}]
    assert "after" in stream.getvalue()
    assert "inside" not in stream.getvalue()


def test_a_reset_of_structlog_is_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging(level="warning")
    log = get_logger("test")
    log.info("dropped at warning")
    structlog.reset_defaults()
    configure_logging(level="info")
    log.info("written at info")
    assert "written at info" in stream.getvalue()
    assert "dropped" not in stream.getvalue()
