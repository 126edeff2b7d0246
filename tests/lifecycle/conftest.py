"""Lifecycle tests run on both stores, like the store's own tests."""

from tests.store.conftest import clock, site, store

__all__ = ["clock", "site", "store"]
