"""Following an engine's job from the command line: a signal stops the following, not the job.

Ctrl-C during ``integrator resend`` through the engine ended the command silently, and the
engine went on resending all of them: the person had no job id to follow. Now the id is said
when the job starts, and the command, told to stop, says where the job stood and that it goes on.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integrator.engine_api import LeftRunning, follow_job


def engine_with_a_long_job() -> tuple[FastAPI, list[str]]:
    """A job that is still running whenever it is asked; the paths asked, in order."""
    app = FastAPI()
    asked: list[str] = []

    @app.get("/api/v1/jobs/{job_id}")
    async def job(job_id: str) -> dict[str, Any]:
        asked.append(job_id)
        return {"id": job_id, "state": "running", "done": 3 + len(asked), "total": 10}

    return app, asked


async def test_a_stop_leaves_the_job_running_and_says_where_it_stood() -> None:
    app, asked = engine_with_a_long_job()
    polls = 0

    def stop() -> bool:
        return polls >= 2

    def progress(_done: int, _total: int) -> None:
        nonlocal polls
        polls += 1

    started = {"id": "j-1", "state": "running", "done": 3, "total": 10}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as c:
        with pytest.raises(LeftRunning) as left:
            await follow_job(
                c,
                started,
                check=lambda _r: None,
                progress=progress,
                what="resend",
                poll=0,
                stop=stop,
            )
    assert (left.value.job_id, left.value.done, left.value.total) == ("j-1", 5, 10)
    assert asked == ["j-1", "j-1"]  # only reads: no cancel, the engine's job goes on


async def test_without_a_stop_it_follows_to_the_end() -> None:
    app = FastAPI()

    @app.get("/api/v1/jobs/{job_id}")
    async def job(job_id: str) -> dict[str, Any]:
        return {"id": job_id, "state": "done", "done": 1, "total": 1, "results": [{"n": 1}]}

    started = {"id": "j-2", "state": "running", "done": 0, "total": 1}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as c:
        found = await follow_job(
            c,
            started,
            check=lambda _r: None,
            progress=None,
            what="resend",
            poll=0,
            stop=lambda: False,
        )
    assert found == [{"n": 1}]
