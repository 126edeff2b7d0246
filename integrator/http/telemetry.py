"""FastAPI's own OpenTelemetry instrumentation, switched off in both applications.

FastAPI traces every request, counts it, and logs validation failures and unhandled
exceptions (their messages and stack traces) to whatever OpenTelemetry providers the process
has set globally: for instance when an operator starts the engine under
``opentelemetry-instrument`` for the rest of their stack. A request's span holds its path and
its query string, so a BSN typed into an address, which the engine refuses and says so, would
leave the machine in a span before the refusal. The engine's own observability is ``/metrics``
and its log lines, both kept free of patient data; nothing goes to a collector that the engine
did not choose to send. Off, FastAPI also skips its three provider look-ups per request.
"""

from __future__ import annotations

from typing import Final

from fastapi.telemetry import TelemetryConfig

__all__ = ["NO_TELEMETRY"]

NO_TELEMETRY: Final[TelemetryConfig] = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,  # not even when FASTAPI_OTEL_AUTO_CONFIGURE=true is set
}
