"""The store fixtures of ``tests/store``: every store query here runs on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.store.conftest import clock, site, store

__all__ = ["clock", "site", "store"]
