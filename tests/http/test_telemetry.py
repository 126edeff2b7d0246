"""FastAPI's own OpenTelemetry instrumentation stays off (``integrator.http.telemetry``): with
providers set globally in the process, as ``opentelemetry-instrument`` sets them, no request of
the API or the console starts a span, counts a metric or logs a record. A span would carry the
request's query: a BSN typed into an address would leave the machine in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from opentelemetry import _logs, metrics, trace
from opentelemetry._logs import Logger, LoggerProvider, NoOpLogger
from opentelemetry.metrics import Meter, MeterProvider, NoOpMeter

from tests.http.conftest import BSN


class Seen:
    """What FastAPI asked of the providers."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, dict[str, Any]]] = []
        self.meters: list[str] = []
        self.log_records: list[Any] = []


class RecordingTracer(trace.NoOpTracer):
    def __init__(self, seen: Seen) -> None:
        self._seen = seen

    def start_span(self, name: str, *args: Any, **kwargs: Any) -> trace.Span:
        self._seen.spans.append((name, dict(kwargs.get("attributes") or {})))
        return trace.INVALID_SPAN

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self, name: str, *args: Any, **kwargs: Any
    ) -> Iterator[trace.Span]:
        self._seen.spans.append((name, dict(kwargs.get("attributes") or {})))
        yield trace.INVALID_SPAN


class RecordingTracerProvider(trace.TracerProvider):
    def __init__(self, seen: Seen) -> None:
        self._seen = seen

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return RecordingTracer(self._seen)


class RecordingMeterProvider(MeterProvider):
    def __init__(self, seen: Seen) -> None:
        self._seen = seen

    def get_meter(self, name: str, *args: Any, **kwargs: Any) -> Meter:
        self._seen.meters.append(name)
        return NoOpMeter(name)


class RecordingLogger(NoOpLogger):
    def __init__(self, seen: Seen) -> None:
        super().__init__("recording")
        self._seen = seen

    def emit(self, *args: Any, **kwargs: Any) -> None:
        self._seen.log_records.append(kwargs or args)


class RecordingLoggerProvider(LoggerProvider):
    def __init__(self, seen: Seen) -> None:
        self._seen = seen

    def get_logger(self, *args: Any, **kwargs: Any) -> Logger:
        return RecordingLogger(self._seen)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """Global providers, as an operator's OpenTelemetry set-up would set them."""
    found = Seen()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: RecordingTracerProvider(found))
    monkeypatch.setattr(metrics, "get_meter_provider", lambda: RecordingMeterProvider(found))
    monkeypatch.setattr(_logs, "get_logger_provider", lambda: RecordingLoggerProvider(found))
    return found


async def test_no_request_reaches_an_opentelemetry_provider(
    seen: Seen, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    answers = [
        await api.get(f"/api/v1/events?bsn={BSN}"),  # refused: never in a URL
        await api.post("/api/v1/events", json=referral_data),
        await api.post("/api/v1/events", json={"type": "referral"}),  # refused: fields missing
        await api.get("/api/v1/messages"),
        await api.get(f"/login?next=/events%3Fbsn%3D{BSN}"),  # a console page
    ]
    assert [a.status_code for a in answers] == [422, 202, 422, 200, 200]
    assert (seen.spans, seen.meters, seen.log_records) == ([], [], [])
