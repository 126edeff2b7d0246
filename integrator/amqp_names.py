"""What ``INTEGRATOR_AMQP_PREFIX`` may be: every exchange and queue name begins with it.

Unchecked, a prefix with a character AMQP does not allow (``bad prefix!``) was taken, and
``integrator run`` on RabbitMQ retried for about 12 s and ended in a traceback from the AMQP
library (``ValueError: Invalid value for exchange``). Checked where the settings are read, it
is one line naming the setting and the rule, exit 2. No other import: every command reads the
settings, ``integrator health`` too, which must not load the transport.
"""

from __future__ import annotations

import re
from typing import Final

from destinations.ids import MAX_ID

NAME_CHARACTERS: Final = re.compile(r"[A-Za-z0-9_.:-]+")
"""AMQP 0-9-1's rule for exchange and queue names (its ``exchange-name`` and ``queue-name``
domains: ``^[a-zA-Z0-9-_.:]*$``). The AMQP library takes a few more characters (a space,
``@#,/+``) and RabbitMQ any UTF-8, but names in the standard's set work with every client and
every tool that lists them."""

MAX_EXCHANGE_NAME: Final = 127
"""An exchange name at most, in characters: AMQP's ``exchange-name`` domain; the AMQP library
refuses a longer one (``Max length exceeded for exchange``)."""
MAX_QUEUE_NAME: Final = 255
"""A queue name at most, in bytes of UTF-8 (RabbitMQ's limit; the characters allowed are ASCII,
one byte each)."""

EXCHANGE_SUFFIXES: Final = (".intake", ".delivery", ".dead")
"""What ``integrator.transport.topology.Topology`` puts after the prefix for each exchange."""
QUEUE_SUFFIXES: Final = (".intake", ".dead", ".recovery-lock")
"""Likewise for each queue, but a destination's (``DELIVERY_QUEUE_INFIX`` and its id)."""
DELIVERY_QUEUE_INFIX: Final = ".delivery."
LONGEST_DESTINATION_ID: Final = MAX_ID

MAX_PREFIX: Final = min(
    MAX_EXCHANGE_NAME - max(len(suffix) for suffix in EXCHANGE_SUFFIXES),
    MAX_QUEUE_NAME - len(DELIVERY_QUEUE_INFIX) - LONGEST_DESTINATION_ID,
    MAX_QUEUE_NAME - max(len(suffix) for suffix in QUEUE_SUFFIXES),
)
"""The longest prefix whose every name fits: 118, from ``<prefix>.delivery`` (an exchange)."""

RESERVED: Final = "amq"
"""RabbitMQ keeps names beginning with ``amq.`` for itself and refuses to declare one
(``ACCESS_REFUSED``): a prefix ``amq`` or ``amq.…`` makes every name such a one."""

PREFIX_RULE: Final = (
    f"must be 1 to {MAX_PREFIX} characters, only letters, digits, '-', '_', '.' and ':' "
    "(AMQP's rule for the exchange and queue names made of it: <prefix>.intake, "
    f"<prefix>.delivery.<destination id>, ...), and neither {RESERVED} nor beginning with "
    f"{RESERVED}. (the broker keeps those names)"
)


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot begin this installation's exchange and queue names, if it cannot."""
    if (
        len(prefix) > MAX_PREFIX
        or NAME_CHARACTERS.fullmatch(prefix) is None
        or prefix == RESERVED
        or prefix.startswith(RESERVED + ".")
    ):
        return PREFIX_RULE
    return None
