"""A command following its job when the engine stops (a deploy's SIGTERM, a crash) says how
far the job got and how to finish, instead of a 117-line traceback of ``httpx.ConnectError``
(and, with ``--json``, no JSON at all). Over a real loopback port: the "engine" is gone from
its port, or answers 503 as an engine does while it stops."""

from __future__ import annotations

import httpx
import pytest

from integrator.engine_api import EngineGone, follow_job
from integrator.errors import IntegratorError
from tests.json_answers import answering

JOB = {"id": "job-1", "state": "running", "done": 600, "total": 1186}
STOPPING = {"detail": "the engine is stopping"}


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
    with answering(503, STOPPING) as port:
        pass  # nothing listens there any more: a stopped engine
    _said_how_far(await _follow(f"http://127.0.0.1:{port}"))


async def test_an_engine_answering_503_while_it_stops_is_said_alike() -> None:
    with answering(503, STOPPING) as port:
        _said_how_far(await _follow(f"http://127.0.0.1:{port}"))
