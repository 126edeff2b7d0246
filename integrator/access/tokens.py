"""Secrets handed out once: API tokens, invitation links and console session ids.

An API token is ``itg_`` followed by 32 random bytes in urlsafe base64. The fixed prefix lets
leak scanners (GitHub secret scanning, gitleaks) recognise one in a commit or a log; the first
few characters after it are kept in the clear as the token's *visible prefix*, so a listing can
show which token is which without showing the token.

Only a SHA-256 hash of each secret is stored. A slow password hash would protect nothing here:
with 256 random bits nobody can guess a token, hashed or not, while every API request has to
look its token up, which must be cheap. A fast hash still means a stolen database holds no
usable token. The hash is also the lookup key (a unique index), so checking a token is one
indexed read.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "itg_"  # noqa: S105 (the public marker, not a secret)
TOKEN_BYTES = 32
VISIBLE_CHARS = 8  # after "itg_": 48 of the 256 bits, shown in listings


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def new_secret() -> str:
    """An invitation or session secret: 32 random bytes, urlsafe; hashed like a token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def visible_prefix(raw: str) -> str:
    """``itg_`` and the first characters of the secret, e.g. ``itg_Xy3_k9Ab``."""
    return raw[: len(TOKEN_PREFIX) + VISIBLE_CHARS]


def looks_like_token(raw: str) -> bool:
    """A cheap shape check before any database read (a bearer value may be anything)."""
    body = raw[len(TOKEN_PREFIX) :]
    return (
        raw.startswith(TOKEN_PREFIX)
        and 40 <= len(body) <= 64
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in body)
    )
