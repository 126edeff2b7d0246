"""``/healthz`` and ``/readyz`` answer ``HEAD`` as they answer ``GET``, without a body, over a
real loopback port as ``integrator run`` serves them: a load balancer or monitor that probes
by ``HEAD`` got a 405 and took the engine for down (RFC 9110 asks general-purpose servers to
support HEAD)."""

from __future__ import annotations

from pathlib import Path

from tests.http.test_store_failures import engine_on, serving


async def test_the_probes_answer_head_with_their_status_and_no_body(tmp_path: Path) -> None:
    async with (
        engine_on(tmp_path, f"sqlite:///{tmp_path}/store.db") as engine,
        serving(engine) as api,
    ):
        for path in ("/healthz", "/readyz"):
            got = await api.get(path)
            head = await api.head(path)
            assert (head.status_code, got.status_code) == (200, 200), path
            assert head.content == b"", path
            assert head.headers["content-type"] == got.headers["content-type"], path
