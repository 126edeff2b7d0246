"""Store failures, sorted by what the caller must do about them.

::

    StoreError                  any store failure; the message never carries message content
    ├── StoreConfigError        the URL or schema given to Store.open is unusable: fix the settings
    │   ├── DataKeyError        (also a ConfigurationError) the data keys do not fit this store
    │   ├── SearchKeyMismatch   (also a ConfigurationError) not the search key of its BSN hashes
    │   └── StoreTlsError       the URL's sslmode asks for TLS the server or the files do not give
    ├── SealedValueError        a sealed value does not open: never garbage instead
    │   ├── UnknownDataKey      it names a key id that is not configured
    │   └── TamperedValue       wrong key under its id, or the value was changed or moved
    ├── StoreUnavailable        database unreachable, locked, deadlocked, timed out, gone (dropped,
    │                           or without the store's tables), full, read-only, or the user
    │                           without a privilege the store needs: retry later
    ├── Conflict                a unique value (message id, control id) is taken; nothing written
    │   ├── RevisionTaken       a destination change made to a revision that is not the last
    │   └── StatusChanged       a change made from a status the message no longer has
    └── NotFound                (also a LookupError) the record asked for does not exist
        ├── UnknownMessage
        └── UnknownEvent

``StoreError`` sits under the engine's ``IntegratorError``; ``StoreUnavailable`` is also a
``RetryableError``. Messages name the operation, the constraint and ids only: driver errors
quote SQL parameters (patient data), so they are translated and never chained (see
``failures``).
"""

from __future__ import annotations

from integrator.errors import ConfigurationError, IntegratorError, RetryableError


class StoreError(IntegratorError):
    """The store could not do what was asked."""

    code: str | None = None
    """The SQLSTATE or SQLite error name of the database failure behind it, if one was."""
    cause: str | None = None
    """The plain sentence for a failure the operator must act on (``failures.cause``)."""


class EnginesStillRunning(StoreError):
    """The store is at an older revision and engines still run on it: migrating it under them
    would leave them writing rows the new schema no longer reads as they do."""

    exit_code = 2


class StoreConfigError(StoreError):
    """The database URL or schema cannot be used."""


class StoreTlsError(StoreConfigError):
    """The URL's ``sslmode`` asks for TLS and it could not be had: the server does not offer
    it, or its certificate is not one the mode and the files allow, or a file is missing. A
    setting to fix, not a store that is briefly away: not ``StoreUnavailable``, so nothing
    waits and tries again (``integrator.store.engine``)."""


class StoreUrlRefused(StoreConfigError, ConfigurationError):
    """The database URL names no store the engine can use (an in-memory SQLite database, an
    unknown driver, …): a setting to fix, exit 2 like every refused setting."""


class DataKeyError(StoreConfigError, ConfigurationError):
    """The configured data keys cannot read (or write) this store; found at open, exit 2.

    The message names the key id and the setting, never a key.
    """


class SearchKeyMismatch(StoreConfigError, ConfigurationError):
    """The configured search key is not the one this store's BSN hashes were made with; found
    at open, exit 2 (``integrator.store.searchcheck``).

    The message names the setting, never the key or anything computed from it.
    """


class WeakSearchKey(StoreConfigError, ConfigurationError):
    """A new store refuses a search key anyone could guess (``Settings.search_key_weakness``);
    exit 2, naming the setting and why, never the key."""


class SealedValueError(StoreError):
    """A stored value is sealed and does not open (see ``integrator.store.sealing``)."""


class UnknownDataKey(SealedValueError):
    """The value names a key id that the configured data keys do not have."""

    def __init__(self, kid: str, where: str = "a stored value") -> None:
        super().__init__(
            f"{where}: sealed with data key {kid!r}, which INTEGRATOR_DATA_KEYS does not have: "
            "configure that key again"
        )
        self.kid = kid


class TamperedValue(SealedValueError):
    """The key under the value's key id does not open it: a wrong key, or a changed value."""


class StoreUnavailable(StoreError, RetryableError):
    """A transient failure: the same call may succeed later."""


class Conflict(StoreError):
    """A unique value is already taken; the transaction was rolled back."""

    def __init__(self, message: str, *, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class StatusChanged(Conflict):
    """A message is no longer in the status a change was decided from (someone else changed it
    meanwhile); nothing was written."""

    def __init__(self, message_id: str, status: str) -> None:
        super().__init__(f"message {message_id} is {status} now; nothing was changed")
        self.message_id = message_id
        self.status = status


class RevisionTaken(Conflict):
    """The revision a destination change would record is not the next one: another change was
    recorded (or is being recorded) since the revision it was made to. Nothing was recorded, and
    the change's file must not be written."""

    def __init__(self, destination_id: str, revision: int) -> None:
        super().__init__(
            f"destination {destination_id!r}: revision {revision} is not the next one any more",
            constraint="destination_revisions (destination_id, revision)",
        )
        self.destination_id = destination_id
        self.revision = revision


class NotFound(StoreError, LookupError):
    """The record asked for does not exist."""


def no_such_id(kind: str, shown: str, *, starting: bool = False) -> str:
    """ "no message with id …", or, where ``shown`` is what was typed withheld with why
    (``idprefix.shown``: "(not an id, not repeated here: …)"), "no message has that id (…)":
    the first read as a sentence that lost its id."""
    if shown.startswith("("):
        return f"no {kind} has that id {shown}"
    return f"no {kind} with id {'starting with ' if starting else ''}{shown}"


class UnknownMessage(NotFound):
    """No message has this id."""

    def __init__(self, message_id: str | None = None) -> None:
        text = no_such_id("message", message_id) if message_id else "a message does not exist"
        super().__init__(text)
        self.message_id = message_id


class UnknownEvent(NotFound):
    """No event has this id."""

    def __init__(self, event_id: str | None = None) -> None:
        super().__init__(f"no event with id {event_id}" if event_id else "an event does not exist")
        self.event_id = event_id
