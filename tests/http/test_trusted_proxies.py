"""The client's address the audit trail records is the connection's, unless a proxy named by
``INTEGRATOR_TRUSTED_PROXIES`` forwards it.

uvicorn believed ``X-Forwarded-For`` from 127.0.0.1 by default: any process on the engine's
host, or a proxy there passing a client's header on, wrote whatever ``source`` it liked into
the audit trail (found probing the API). Run against ``integrator run`` itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable

import requests

from tests.cli_in_process import run_cli
from tests.http.conftest import BSN
from tests.http.support import bearer, listening_engine, token_in_store

FORGED = "203.0.113.66"


UNTRUSTED = "a request came through a proxy that INTEGRATOR_TRUSTED_PROXIES does not name"


def _lines_saying(tail: Iterable[str], text: str, *, expected: bool) -> list[str]:
    """The engine's log lines holding ``text``; when one is ``expected``, waited for (the log
    is read on by a thread, which may lag behind the answers)."""
    deadline = time.monotonic() + (10 if expected else 0)
    while True:
        said = [line for line in list(tail) if text in line]
        if said or time.monotonic() >= deadline:
            return said
        time.sleep(0.05)


def _source_of_a_search(env: dict[str, str]) -> tuple[str, list[str]]:
    """The ``source`` the audit trail records for two BSN searches sent with ``FORGED`` as
    their ``X-Forwarded-For``, and the engine's log lines that say a proxy is not named."""
    token = asyncio.run(token_in_store(env["INTEGRATOR_DATABASE_URL"]))
    trusted = "INTEGRATOR_TRUSTED_PROXIES" in env
    base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
    with listening_engine(env) as engine, engine.answering():
        for _ in range(2):
            searched = requests.post(
                f"{base}/api/v1/messages/search",
                json={"bsn": BSN},
                headers={**bearer(token), "x-forwarded-for": FORGED},
                timeout=30,
            )
            assert searched.status_code == 200, searched.text
        trail = requests.get(
            f"{base}/api/v1/audit", params={"limit": 100}, headers=bearer(token), timeout=30
        )
        said = _lines_saying(engine.log_tail, UNTRUSTED, expected=not trusted)
    views = [entry for entry in trail.json() if entry["action"] == "patient_data.view"]
    [source] = {view["details"]["source"] for view in views}
    return source, said


def test_a_forwarded_for_is_not_believed_by_default_and_the_log_says_so_once(
    env: dict[str, str],
) -> None:
    source, said = _source_of_a_search(env)
    assert source == "127.0.0.1"
    [line] = said  # once, not per request
    assert json.loads(line)["proxy"] == "127.0.0.1" and FORGED not in line


def test_a_named_proxy_s_forwarded_for_is_the_source(env: dict[str, str]) -> None:
    env = {**env, "INTEGRATOR_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}
    assert _source_of_a_search(env) == (FORGED, [])


def test_trusted_proxies_that_are_no_addresses_are_refused_naming_the_setting(
    env: dict[str, str],
) -> None:
    for wrong in ("proxy.example", "10.1.0.1/16", "127.0.0.1,"):
        outcome = run_cli("run", env={**env, "INTEGRATOR_TRUSTED_PROXIES": wrong})
        assert outcome.returncode == 2, outcome
        said = outcome.stderr + outcome.stdout
        assert "INTEGRATOR_TRUSTED_PROXIES" in said and "comma-separated" in said, said
        assert wrong.rstrip(",") not in said  # a setting's value is never repeated
