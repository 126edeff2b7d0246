"""Structured logging for the engine (structlog).

Context such as ``event_id``, ``zd_number``, ``message_id``, ``control_id`` and ``destination`` is
bound once with ``bind_contextvars`` and carried into every line below it. Only identifiers go in:
patient data never reaches a log line, because nothing in the engine logs event payloads or HL7
bytes, and exception texts from our packages are written free of input values. The libraries
that log through the standard library (the AMQP client, the HTTP server, the event loop) are
written as our own lines, in the same format, with their message templates and never the values
in them, nor an exception's text (``_LibraryLines``, ``_ServerLines``).

The engine writes a line per accepted event, so rendering is on the hot path: the console format
is rendered by ``PlainConsoleRenderer``, which writes exactly what structlog's uncoloured
``ConsoleRenderer`` writes (a test compares the two) at about a third of its cost, and hands lines
with a stack or an exception to structlog's own renderer. For the same reason a module's logger
(``get_logger``) is assembled once per configuration, not once per line, and a line at info or
warning runs the configured processors' work itself, without structlog's call layers, while the
configuration is the one ``configure_logging`` made (``_DirectLines``: the same text, tested).
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from structlog import _config as structlog_config
from structlog.typing import EventDict, WrappedLogger

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

# Characters that make structlog's console renderer quote a string value with repr().
_QUOTED = frozenset(" \t=\r\n\"'")
# Keys whose lines are left to structlog's renderer: tracebacks and logger-name columns.
_DELEGATED = frozenset({"stack", "exception", "exc_info", "logger", "logger_name"})
_LEVEL_WIDTH = len("exception")  # structlog pads levels to its longest level name
_EVENT_WIDTH = 30
_LEVEL_TEXT = {name: f"[{name.ljust(_LEVEL_WIDTH)}]" for name in (*_LEVELS, "critical")}


class PlainConsoleRenderer:
    """structlog's ``ConsoleRenderer(colors=False)`` output, without its per-column objects."""

    def __init__(self) -> None:
        # Plain tracebacks: rich's would print the frames' local variables, patient data among them.
        self._full = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> str:
        if not _DELEGATED.isdisjoint(event_dict):
            return str(self._full(logger, name, event_dict))
        parts: list[str] = []
        timestamp = event_dict.pop("timestamp", None)
        if timestamp is not None:
            parts.append(str(timestamp))
        level = event_dict.pop("level", None)
        if level is not None:
            known = _LEVEL_TEXT.get(level) if isinstance(level, str) else None
            parts.append(known or f"[{str(level).ljust(_LEVEL_WIDTH)}]")
        event = event_dict.pop("event", None)
        if event is not None:
            parts.append(str(event).ljust(_EVENT_WIDTH))
        for key in sorted(event_dict):
            value = event_dict[key]
            if isinstance(value, str):
                text = repr(value) if not _QUOTED.isdisjoint(value) else value
            else:
                text = repr(value)
            parts.append(f"{key}={text}")
        return " ".join([part for part in parts if part]).rstrip(" ")


def iso_utc(moment: datetime) -> str:
    """``moment`` (in UTC) as structlog's ``TimeStamper(fmt="iso", utc=True)`` writes it."""
    return moment.isoformat()[:-6] + "Z"  # "+00:00" is always last: UTC's offset


def utc_stamp(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog's ISO time stamp in UTC, at half its cost: one function, one slice."""
    event_dict["timestamp"] = iso_utc(datetime.now(UTC))
    return event_dict


def configure_logging(*, level: str = "info", fmt: str = "console") -> None:
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    elif sys.stderr.isatty():
        renderer = structlog.dev.ConsoleRenderer(
            colors=True, exception_formatter=structlog.dev.plain_traceback
        )
    else:
        renderer = PlainConsoleRenderer()
    threshold = _LEVELS.get(level, logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            utc_stamp,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    global _direct
    _direct = _DirectLines(renderer, threshold)
    _route_library_logs(debug=level == "debug")


class _DirectLines:
    """The chain ``configure_logging`` sets up, run for lines at info and up without structlog's
    call layers (the bound logger, its level filter, its loop over the processors): the same
    processors' work in the same order, to the same text, at about two thirds of the cost.

    Only while structlog's configuration is still exactly the one made with it: a test's
    ``capture_logs`` (which changes the processor list in place), another configuration, or a
    line with a traceback or a stack (``format_exc_info``'s work) goes through structlog.
    """

    __slots__ = ("_expected", "_processors", "_renderer", "_threshold", "_wrapper")

    def __init__(self, renderer: Callable[[Any, str, EventDict], Any], threshold: int) -> None:
        """``threshold``: the level of the configured filter; lines below it are dropped."""
        config = structlog_config._CONFIG
        self._processors = config.default_processors
        self._expected = list(self._processors)
        self._wrapper = config.default_wrapper_class
        self._threshold = threshold
        self._renderer = renderer

    def takes(self, level: int, fields: dict[str, Any]) -> bool:
        config = structlog_config._CONFIG
        return (
            level >= self._threshold
            and config.default_processors is self._processors
            and self._processors == self._expected
            and config.default_wrapper_class is self._wrapper
            and config.logger_factory is _stderr_logger
            and _DELEGATED.isdisjoint(fields)
        )

    def write(self, method: str, event: str, fields: dict[str, Any]) -> None:
        fields["event"] = event
        structlog.contextvars.merge_contextvars(None, method, fields)
        fields["level"] = method  # add_log_level's, for these two methods
        utc_stamp(None, method, fields)
        _CURRENT_STDERR.msg(self._renderer(None, method, fields))


_direct: _DirectLines | None = None


LIBRARY_LOGGERS = ("aiormq", "aio_pika")
"""Libraries that log through the standard library: the AMQP client's. Unconfigured, Python
prints their warnings and errors bare on stderr (``logging.lastResort``): with the broker down,
``error when creating transport: <AMQPConnectionError: …>`` came before each of our own lines,
which already say what happened and what is done about it (``message broker unreachable;
retrying``)."""


class _LibraryLines(logging.Handler):
    """A library's log records as our own debug lines (``library log``, the logger's name).

    Only the record's message template goes in, with the type names of its arguments, never
    their values: aiormq formats frames and returned messages into its lines, and those carry
    message bodies (patient data), and a connection's text may carry the broker's URL.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields: dict[str, Any] = {
                "library": record.name,
                "library_level": record.levelname.lower(),
                "said": str(record.msg),
            }
            if record.args:
                fields["with"] = [type(a).__name__ for a in _args(record)]
            if record.exc_info and record.exc_info[0] is not None:
                fields["error_type"] = record.exc_info[0].__name__
            get_logger(record.name).debug("library log", **fields)
        except Exception:  # a log line must never break the caller
            self.handleError(record)


SERVER_LOGGERS = ("uvicorn",)
"""The HTTP server's loggers (``uvicorn.error``, where it logs an error that escaped the app, and
those beside it). Left to themselves they printed uvicorn's plain text, an escaped error as a
traceback over many lines, also with ``INTEGRATOR_LOG_FORMAT=json``, where a log shipper reads
one JSON object a line; and a traceback ends in the exception's text, which may quote a value
(pydantic's errors, a driver's: patient data). ``integrator run`` gives uvicorn no logging
configuration of its own (``log_config=None``), so its records come here."""

MAX_FRAMES = 40
"""The innermost frames of an error that a line names; a deep recursion has a thousand."""


EVENT_LOOP_LOGGERS = ("asyncio",)
"""The event loop's logger (asyncio's, which uvloop writes to as well): an error no task
awaited (``Task exception was never retrieved``), a callback that raised. Left to itself it
printed, in plain text over many lines, the task's and the error's ``repr``, whose text may
quote a value (patient data), also with ``INTEGRATOR_LOG_FORMAT=json``. Only the first line of
its message is kept, up to a repr in it: asyncio's own words (``_before_reprs``)."""


class _ServerLines(logging.Handler):
    """The HTTP server's log records as our own lines, ``http server log``, at their level
    (the event loop's as ``event loop log``, ``first_line``).

    As ``_LibraryLines``: the message template and its arguments' types, never their values.
    For an exception, its type, those of its causes and its frames (file, line, function),
    where it failed without what it said: what the engine's own lines say of an error
    (``error_type``), with where, since an error that escaped the app is a bug to find.
    """

    def __init__(self, event: str = "http server log", *, first_line: bool = False) -> None:
        super().__init__()
        self._event = event
        self._first_line = first_line

    def emit(self, record: logging.LogRecord) -> None:
        try:
            said = str(record.msg).strip()
            if self._first_line:
                said = _before_reprs(said.partition("\n")[0])
            fields: dict[str, Any] = {"library": record.name, "said": said}
            if record.args:
                fields["with"] = [type(a).__name__ for a in _args(record)]
            error = record.exc_info[1] if record.exc_info else None
            if error is not None:
                fields.update(error_fields(error))
            logger = get_logger(record.name)
            if record.levelno >= logging.ERROR:
                logger.error(self._event, **fields)
            elif record.levelno >= logging.WARNING:
                logger.warning(self._event, **fields)
            elif record.levelno >= logging.INFO:
                logger.info(self._event, **fields)
            else:
                logger.debug(self._event, **fields)
        except Exception:  # a log line must never break the caller
            self.handleError(record)


def _before_reprs(line: str) -> str:
    """asyncio's words without the repr it puts in them: ``Exception in callback
    deliver(Event(bsn=…))`` on Python's own loop names the callback with its arguments
    (uvloop: ``<function deliver at 0x…>``), and an argument may hold patient data. Cut at the
    first ``(`` or `` <``, where a repr begins: ``Exception in callback deliver`` (a name's
    ``<locals>`` stays)."""
    cut = min((i for i in (line.find("("), line.find(" <")) if i >= 0), default=len(line))
    return line[:cut].rstrip()


def error_fields(error: BaseException) -> dict[str, Any]:
    """An error as a line names it: ``error_type``, ``caused_by`` (the types of the errors it
    came from), ``grouped`` (those in a group) and ``frames``, innermost last, each
    ``file:line function``; no text of it."""
    fields: dict[str, Any] = {"error_type": type(error).__name__}
    causes: list[str] = []
    cause = error.__cause__ or error.__context__
    while cause is not None and len(causes) < 5:
        causes.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    if causes:
        fields["caused_by"] = causes
    if isinstance(error, BaseExceptionGroup):  # a task group's: what failed in it
        fields["grouped"] = [type(inner).__name__ for inner in error.exceptions[:5]]
    frames = [
        f"{_short(frame.f_code.co_filename)}:{line} {frame.f_code.co_name}"
        for frame, line in traceback.walk_tb(error.__traceback__)
    ]
    fields["frames"] = frames[-MAX_FRAMES:]
    if len(frames) > MAX_FRAMES:
        fields["frames_left_out"] = len(frames) - MAX_FRAMES
    return fields


def _short(filename: str) -> str:
    """A frame's file from its package on: ``starlette/routing.py``, not the whole path."""
    return filename.rpartition("site-packages/")[2]


def _args(record: logging.LogRecord) -> tuple[object, ...]:
    args = record.args
    if isinstance(args, tuple):
        return args
    return (args,) if args is not None else ()


_LIBRARY_HANDLER = _LibraryLines()
_SERVER_HANDLER = _ServerLines()
_EVENT_LOOP_HANDLER = _ServerLines("event loop log", first_line=True)


def _route_library_logs(*, debug: bool) -> None:
    """Send the AMQP libraries' records to ``_LibraryLines``, the HTTP server's and the event
    loop's to ``_ServerLines``, and none past their own logger.

    Below debug the AMQP libraries' are dropped where they are made (the level above every
    record's), so aiormq does not even format them. The server's levels are its own
    (``integrator run`` sets them: warnings and errors).
    """
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if _LIBRARY_HANDLER not in library.handlers:
            library.addHandler(_LIBRARY_HANDLER)
        library.propagate = False
        library.setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)
    for names, handler in (
        (SERVER_LOGGERS, _SERVER_HANDLER),
        (EVENT_LOOP_LOGGERS, _EVENT_LOOP_HANDLER),
    ):
        for name in names:
            logger = logging.getLogger(name)
            if handler not in logger.handlers:
                logger.addHandler(handler)
            logger.propagate = False


class _CurrentStderr:
    """structlog's ``PrintLogger``, writing each line to whatever ``sys.stderr`` is then.

    Tests and daemons swap ``sys.stderr``; a logger assembled once must follow them (a
    ``PrintLogger`` keeps the stream it was made with, and a closed one raises in every task
    that logs afterwards).
    """

    _lock = threading.Lock()

    def msg(self, message: str) -> None:
        line = message + "\n"  # one write, not print's two
        with self._lock:
            stream = sys.stderr
            stream.write(line)
            stream.flush()

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


_CURRENT_STDERR = _CurrentStderr()


def _stderr_logger(*_args: Any) -> _CurrentStderr:
    return _CURRENT_STDERR


class EngineLogger:
    """A module's logger, assembled once per structlog configuration.

    structlog's proxy (what ``structlog.get_logger`` returns unless loggers are cached) builds
    a bound logger for every call, also for a ``debug`` line the level then drops: about 4 µs,
    paid for every delivered message. structlog's own cache (``cache_logger_on_first_use``)
    would keep the first configuration for good, while the CLI and the tests configure again.
    This one builds again when the configured processors, wrapper class or logger factory are
    other objects than those it was built with (``structlog.testing.capture_logs`` changes the
    processor list in place, which a built logger follows).
    """

    __slots__ = ("_built", "_factory", "_name", "_processors", "_wrapper")

    def __init__(self, name: str) -> None:
        self._name = name
        self._built: Any = None
        self._processors: object = None
        self._wrapper: object = None
        self._factory: object = None

    def _current(self) -> Any:
        config = structlog_config._CONFIG
        if (
            self._processors is not config.default_processors
            or self._wrapper is not config.default_wrapper_class
            or self._factory is not config.logger_factory
        ):
            self._processors = config.default_processors
            self._wrapper = config.default_wrapper_class
            self._factory = config.logger_factory
            self._built = structlog.get_logger(self._name).bind()
        return self._built

    def debug(self, event: str, **fields: Any) -> Any:
        return self._current().debug(event, **fields)

    def info(self, event: str, **fields: Any) -> Any:
        return self._line(logging.INFO, "info", event, fields)

    def warning(self, event: str, **fields: Any) -> Any:
        return self._line(logging.WARNING, "warning", event, fields)

    def error(self, event: str, **fields: Any) -> Any:
        return self._current().error(event, **fields)

    def exception(self, event: str, **fields: Any) -> Any:
        return self._current().exception(event, **fields)

    def _line(self, level: int, method: str, event: str, fields: dict[str, Any]) -> Any:
        direct = _direct
        if direct is not None and direct.takes(level, fields):
            return direct.write(method, event, fields)
        return getattr(self._current(), method)(event, **fields)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current(), name)


def get_logger(name: str) -> EngineLogger:
    return EngineLogger(name)
