"""Batch jobs of the running engine (``POST /api/v1/resend``), with progress for the caller.

The registry is in memory: a restart forgets the jobs, not their work. Every resend a job made
is already a queued message in the store (with its audit entry), and the engine sends whatever
the store lists as queued when it starts again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integrator.logging import get_logger

log = get_logger("integrator.jobs")
KEEP = 200  # finished jobs kept for their callers to read


@dataclass
class Job:
    id: str
    kind: str
    total: int
    done: int = 0
    state: str = "running"  # running | done | failed
    error: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The clusters of the destinations the job works on: only who holds the permission in all
    # of them sees the job (``GET /api/v1/jobs/{id}``). None stands for "no cluster".
    clusters: frozenset[str | None] = frozenset()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "results": self.results if self.state != "running" else [],
        }


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(
        self,
        kind: str,
        total: int,
        work: Callable[[Job], Awaitable[list[dict[str, Any]]]],
        *,
        clusters: frozenset[str | None] = frozenset({None}),
    ) -> Job:
        job = Job(id=str(uuid.uuid4()), kind=kind, total=total, clusters=clusters)
        self._jobs[job.id] = job
        self._forget_old()

        async def run() -> None:
            try:
                job.results = await work(job)
                job.state = "done"
            except Exception as exc:  # the caller reads why from the job
                job.state = "failed"
                job.error = f"{type(exc).__name__}: {exc}"
                log.error("job failed", job_id=job.id, kind=kind, error_type=type(exc).__name__)

        task = asyncio.create_task(run(), name=f"job-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def wait(self) -> None:
        """Wait for running jobs (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in finished[: max(0, len(finished) - KEEP)]:
            del self._jobs[job.id]
