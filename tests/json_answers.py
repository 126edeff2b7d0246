"""A tiny HTTP server on a loopback port that answers every GET with one JSON body and status:
an engine's answer as a command sees it (``/readyz`` not ready, a job while the engine stops),
without an engine."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def answering(status: int, body: Any, port: int = 0) -> Iterator[int]:
    """Serve ``body`` as JSON with ``status`` on ``port`` (0: any free one) until the block
    ends; yields the port."""
    encoded = json.dumps(body).encode()

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
