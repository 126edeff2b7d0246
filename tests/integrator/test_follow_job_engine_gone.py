"""A command following its job when the engine stops (a deploy's SIGTERM, a crash) says how
far the job got and how to finish, instead of a 117-line traceback of ``httpx.ConnectError``
(and, with ``--json``, no JSON at all). Over a real loopback port: the "engine" answers the
job running once, then is gone; or answers 503, as an engine does while it stops."""

from __future__ import annotations

import http.server
import json
import threading

import httpx
import pytest

from integrator.engine_api import EngineGone, follow_job
from integrator.errors import IntegratorError

JOB = {"id": "job-1", "state": "running", "done": 600, "total": 1186}


class _OnceThenStopping(http.server.BaseHTTPRequestHandler):
    status = 503

    def do_GET(self) -> None:
        body = json.dumps({"detail": "the engine is stopping"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _refuse(response: httpx.Response) -> None:
    raise AssertionError(f"not asked to judge {response.status_code}")


async def _follow(base_url: str) -> EngineGone:
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        with pytest.raises(EngineGone) as gone:
            await follow_job(client, dict(JOB), check=_refuse, progress=None, what="resend")
    return gone.value


def _said_how_far(gone: EngineGone) -> None:
    text = str(gone)
    assert isinstance(gone, IntegratorError) and gone.exit_code == 1
    assert text.startswith("the engine stopped answering while its resend job job-1 ran")
    assert "at 600 of 1186" in text and "GET /api/v1/jobs/job-1" in text
    assert (gone.job_id, gone.done, gone.total) == ("job-1", 600, 1186)


async def test_an_engine_gone_from_its_port_is_said_with_how_far_the_job_got() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OnceThenStopping)
    port = server.server_address[1]
    server.server_close()  # nothing listens there any more: a stopped engine
    _said_how_far(await _follow(f"http://127.0.0.1:{port}"))


async def test_an_engine_answering_503_while_it_stops_is_said_alike() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OnceThenStopping)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _said_how_far(await _follow(f"http://127.0.0.1:{server.server_address[1]}"))
    finally:
        server.shutdown()
        server.server_close()
