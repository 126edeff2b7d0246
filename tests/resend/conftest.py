"""The CLI tests' environment fixture (a store, destinations dir and HTTP port in tmp_path)."""

from tests.integrator.test_cli import env  # noqa: F401  (a pytest fixture, used by name)
