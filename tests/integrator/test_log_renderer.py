"""The plain console renderer writes exactly what structlog's uncoloured renderer writes."""

from __future__ import annotations

import datetime
import io
import json
import sys
from typing import Any

import pytest
import structlog
import structlog.testing
from hypothesis import given, settings
from hypothesis import strategies as st

import integrator.logging as logging_module
from integrator.logging import PlainConsoleRenderer, configure_logging, get_logger, iso_utc

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["a b", "x=y", "it's", 'say "hi"', "tab\there", "line\nbreak", "", "ZD1"]),
)
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=5), _SCALARS, max_size=2),
)
_KEYS = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(
    event=st.one_of(st.none(), st.text(max_size=40)),
    level=st.one_of(st.none(), st.sampled_from(["debug", "info", "warning", "error", "critical"])),
    timestamp=st.one_of(st.none(), st.just("2026-11-30T13:22:40.123456Z"), st.just("")),
    rest=st.dictionaries(_KEYS, _VALUES, max_size=6),
)
def test_same_text_as_structlog_console_renderer(
    event: str | None, level: str | None, timestamp: str | None, rest: dict[str, Any]
) -> None:
    event_dict: dict[str, Any] = dict(rest)
    for key, value in (("event", event), ("level", level), ("timestamp", timestamp)):
        if value is not None:
            event_dict[key] = value
    expected = structlog.dev.ConsoleRenderer(colors=False)(None, "info", dict(event_dict))
    assert PlainConsoleRenderer()(None, "info", dict(event_dict)) == expected


def test_a_traceback_is_plain_and_shows_no_local_variables() -> None:
    bsn = "123456782"  # a local variable of the failing frame: it must not be written
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    text = PlainConsoleRenderer()(None, "error", {"event": "failed", "exc_info": exc_info})
    assert text.startswith("failed")
    assert "Traceback (most recent call last)" in text and "ValueError: boom" in text
    assert bsn not in text


def test_the_engine_writes_plain_lines_when_stderr_is_not_a_terminal(
    monkeypatch: Any,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging(level="info")
    try:
        get_logger("test").info("event accepted", event_id="e1", messages=2, source="cli")
    finally:
        structlog.reset_defaults()
    line = stream.getvalue().rstrip("\n")
    stamp, rest = line.split(" ", 1)
    assert datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
    assert rest == "[info     ] event accepted                 event_id=e1 messages=2 source=cli"


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(timezones=st.just(datetime.UTC)),
    st.sampled_from([None, 0]),
)
def test_the_time_stamp_is_structlogs_iso_utc(moment: datetime.datetime, micro: int | None) -> None:
    if micro is not None:  # a whole second: isoformat leaves the fraction out
        moment = moment.replace(microsecond=micro)
    # What structlog's TimeStamper(fmt="iso", utc=True), which the engine used, writes for it.
    assert iso_utc(moment) == moment.isoformat().replace("+00:00", "Z")


def test_a_line_ends_with_one_newline_and_lines_keep_their_order(monkeypatch: Any) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging(level="info")
    try:
        for n in range(3):
            get_logger("test").info("step", n=n)
    finally:
        structlog.reset_defaults()
    lines = stream.getvalue().split("\n")
    assert lines[-1] == "" and [line.rsplit(" ", 1)[1] for line in lines[:-1]] == [
        "n=0",
        "n=1",
        "n=2",
    ]


def _lines(stream: io.StringIO) -> list[str]:
    """The lines written, without their time stamps."""
    return [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]


def _some_lines() -> None:
    log = get_logger("test")
    structlog.contextvars.bind_contextvars(message_id="m1", destination="lab 1")
    try:
        log.info("event accepted", event_id="e1", messages=2, source="cli")
        log.warning("delivery attempt failed", error="ACK AE: 'x'", attempt=3)
        log.info("overridden", destination="mine")
        log.debug("dropped at info")
    finally:
        structlog.contextvars.clear_contextvars()


def _json_lines(stream: io.StringIO) -> list[list[tuple[str, Any]]]:
    """The JSON lines written, as their keys and values in order, without their time stamps."""
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [[item for item in line.items() if item[0] != "timestamp"] for line in lines]


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_lines_written_directly_read_as_structlog_writes_them(fmt: str, monkeypatch: Any) -> None:
    configure_logging(level="info", fmt=fmt)
    try:
        direct = io.StringIO()
        monkeypatch.setattr(sys, "stderr", direct)
        _some_lines()
        monkeypatch.setattr(logging_module, "_direct", None)  # structlog's own chain
        chained = io.StringIO()
        monkeypatch.setattr(sys, "stderr", chained)
        _some_lines()
    finally:
        structlog.reset_defaults()
    if fmt == "json":
        assert _json_lines(direct) == _json_lines(chained)
        assert len(_json_lines(direct)) == 3
        assert _json_lines(direct)[2][:2] == [("destination", "mine"), ("event", "overridden")]
    else:
        assert _lines(direct) == _lines(chained)
        overridden = "[info     ] overridden                     destination=mine message_id=m1"
        assert len(_lines(direct)) == 3 and _lines(direct)[2] == overridden


def test_captured_logs_and_a_higher_level_still_hold_for_lines_written_directly(
    monkeypatch: Any,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        configure_logging(level="info")
        with structlog.testing.capture_logs() as captured:
            get_logger("test").info("event accepted", event_id="e1")
        assert captured == [{"event": "event accepted", "event_id": "e1", "log_level": "info"}]
        configure_logging(level="warning")
        get_logger("test").info("not at warning")
        get_logger("test").warning("at warning")
    finally:
        structlog.reset_defaults()
    assert _lines(stream) == ["[warning  ] at warning"]
