"""How the engine names who sent an event, and the search term that finds them by it.

Every event, accepted or rejected, is kept with its caller: what intake knew for certain of
who sent it, never a name the input gave for itself. An API token is ``token:<name>`` (the
audit trail's name for it; a token's name is never given twice), the server's CLI
``local:<user>``, the RabbitMQ intake ``amqp`` (the broker checks no sender the engine could
trust) and the demo ``demo``.

The search by caller is how an administrator finds everything a leaked or misbehaving intake
token brought in. A term not in one of those forms can find nothing, and an empty listing
would read as "this token sent nothing": it is refused, saying the forms. The most likely
slip, a token's bare name, is told so.
"""

from __future__ import annotations

from typing import Final

from integrator.search import BadSearch, given_term

PREFIXES: Final = ("token:", "local:")
"""A token's and a server user's callers: the prefix and a name."""
CHANNELS: Final = ("amqp", "demo")
"""The callers that are a channel, not an identity."""
FORMS: Final = "token:NAME, local:USER, amqp or demo"
"""The forms a caller takes, as a refusal says them."""


def caller_term(value: str | None) -> str | None:
    """``value`` as a search term for the caller, None when not given; ``BadSearch`` (field
    ``caller``) for a blank one or one in no form a caller takes. The rule does not repeat the
    value."""
    value = given_term("caller", value)
    if value is None:
        return None
    if value in CHANNELS or any(
        value.startswith(prefix) and len(value) > len(prefix) for prefix in PREFIXES
    ):
        return value
    if ":" not in value:
        raise BadSearch(
            "caller", f"not a caller: callers are named {FORMS}; for a token, put token: first"
        ).coded("search.caller_bare")
    raise BadSearch("caller", f"not a caller: callers are named {FORMS}").coded("search.caller")
