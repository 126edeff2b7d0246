"""The shape of the broker's and the store's URL, checked where settings are read.

A malformed URL used to get as far as the first connection: ``integrator run`` retried the
broker for 10 s and ended in a traceback from the AMQP library. Checked with the settings, it
is one line naming the variable and the rule (exit 2). The messages never repeat the URL:
it may carry a password. Only :mod:`urllib.parse` is used: the settings are read by every
command, ``integrator health`` too, which must not load the store's libraries.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

AMQP_SCHEMES = ("amqp", "amqps")

DATABASE_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgres", "postgresql", "postgresql+asyncpg")
"""The drivers ``integrator.store.url.resolve`` knows (it maps them to the async ones)."""

_PLAIN_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,19}")


def amqp_url_problem(url: str) -> str | None:
    """Why ``url`` is no broker URL (``amqp[s]://[user[:password]@]host[:port][/vhost]``), or
    None. The broker needs a host: the AMQP library's default would hide a typo."""
    parts, problem = _split(url, AMQP_SCHEMES, "amqp://USER:PASSWORD@HOST:5672/")
    if problem is not None or parts is None:
        return problem
    if not parts.hostname:
        return "no host: use amqp://USER:PASSWORD@HOST:5672/ (or amqps://)"
    return _port_problem(parts)


def database_url_problem(url: str) -> str | None:
    """Why ``url`` is no store URL, or None. Only the form: whether the store is there and
    answers is found out on opening it (``integrator.store.url.resolve`` checks the rest)."""
    example = "sqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB"
    parts, problem = _split(url, DATABASE_SCHEMES, example)
    if problem is not None or parts is None:
        return problem
    return _port_problem(parts)


def _split(
    url: str, schemes: tuple[str, ...], example: str
) -> tuple[SplitResult | None, str | None]:
    scheme, sep, _ = url.partition("://")
    if not sep:
        return None, f"not a URL (no '://'): use {example}"
    if scheme.lower() not in schemes:
        # The scheme holds no password (it ends before '://'), but a long one may be a pasted
        # URL that lost its '://' later on: name it only when it is short and plain.
        shown = f" {scheme!r}" if _PLAIN_SCHEME.fullmatch(scheme) else ""
        return None, f"unknown scheme{shown}: use {' or '.join(s + '://' for s in schemes)}"
    try:
        return urlsplit(url), None
    except ValueError:  # an unbalanced '[' of an IPv6 host; its message would quote the URL
        return None, f"the host cannot be read: use {example}"


def _port_problem(parts: SplitResult) -> str | None:
    try:
        port = parts.port
    except ValueError:  # not a number, or beyond 65535; the message would quote the port only
        return "the port must be a number from 1 to 65535"
    if port == 0:
        return "the port must be a number from 1 to 65535"
    return None
