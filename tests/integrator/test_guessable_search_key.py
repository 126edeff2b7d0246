"""An engine whose store was made with a search key anyone could guess says so at every start
(a new store refuses such a key: ``tests/store/test_search_check.py``), naming the setting and
why, never the key."""

from __future__ import annotations

from structlog.testing import capture_logs

from integrator.runner import _warn_of_a_guessable_search_key
from integrator.settings import Settings


def test_a_guessable_key_is_warned_of_at_start_and_a_random_one_is_not() -> None:
    with capture_logs() as logs:
        _warn_of_a_guessable_search_key(Settings(search_key="change-me-to-at-least-16-characters"))
        _warn_of_a_guessable_search_key(Settings(search_key="f3a9c2e1b7d04a6e9c8b2f1d7e5a3c90"))
        _warn_of_a_guessable_search_key(Settings())
    [warning] = logs
    assert warning["event"] == "search key can be guessed"
    assert warning["log_level"] == "warning"
    assert warning["setting"] == "INTEGRATOR_SEARCH_KEY"
    assert warning["problem"].startswith("it is the example settings' placeholder: whoever")
    assert "change-me" not in str(warning)
