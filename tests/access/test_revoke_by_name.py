"""``integrator tokens revoke NAME``: refused, saying which token has that name and its id.

It said only "give the token's id, or at least its first 4 characters" to an operator who had
typed the name ``tokens list`` shows beside the id. A name is not taken in its place: a name
may be hex too, and so the start of another token's id (``docs/access.md``).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from integrator.access import service as access_service


def _statuses(cli: Any) -> dict[str, str]:
    return {
        row["name"]: row["status"] for row in json.loads(cli("tokens", "list", "--json").stdout)
    }


def test_a_name_is_refused_naming_the_token_and_the_id_to_give(cli: Any) -> None:
    made = json.loads(cli("tokens", "create", "j1", "--role", "metrics", "--json").stdout)
    refused = cli("tokens", "revoke", "j1", "--reason", "done")
    assert refused.exit_code == 2, refused.output
    short = made["id"][:8]
    said = " ".join(refused.stderr.split())
    assert f"ID: j1 is the name of token {short}, not its id: integrator tokens revoke {short}" in (
        said
    )
    assert "first 4 characters" not in said and made["token"] not in said
    assert _statuses(cli) == {"j1": "active"}

    revoked = cli("tokens", "revoke", short, "--reason", "done")  # as the refusal says
    assert revoked.exit_code == 0, revoked.output
    assert _statuses(cli) == {"j1": "revoked"}


def test_a_longer_name_is_refused_the_same_way(cli: Any) -> None:
    """A name of 4 characters or more was "no token with that id"."""
    made = json.loads(cli("tokens", "create", "prometheus", "--role", "metrics", "--json").stdout)
    refused = cli("tokens", "revoke", "prometheus")
    assert refused.exit_code == 2, refused.output
    short = made["id"][:8]
    assert f"prometheus is the name of token {short}, not its id" in " ".join(
        refused.stderr.split()
    )


def test_a_hex_name_that_starts_another_tokens_id_revokes_neither(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cafe`` was read as the start of an id only: it revoked ``lab``, whose id starts so,
    not the token named ``cafe`` the operator meant."""
    ids = iter(["cafe1234-0000-4000-8000-000000000001", "abcd1234-0000-4000-8000-000000000002"])
    monkeypatch.setattr(access_service, "uuid", SimpleNamespace(uuid4=lambda: next(ids)))
    for name in ("lab", "cafe"):
        assert cli("tokens", "create", name, "--role", "metrics").exit_code == 0

    refused = cli("tokens", "revoke", "cafe", "--reason", "rotated")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert (
        "ID: cafe is the name of token abcd1234 and the start of the id of 1 other token (lab): "
        "give the id of the one meant, as integrator tokens revoke abcd1234"
    ) in said
    assert _statuses(cli) == {"lab": "active", "cafe": "active"}

    whole = cli("tokens", "revoke", "cafe1234-0000-4000-8000-000000000001", "--json")
    assert whole.exit_code == 0, whole.output  # a whole id is taken whatever the names
    assert json.loads(whole.stdout)["name"] == "lab"
