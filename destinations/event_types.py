"""The event types a destination takes messages for, alone, without the destination file.

The search's filters and the console's forms name them; ``destinations.config`` holds the
file's model (pydantic and YAML, some 30-50 ms of a command's start-up), which every command
that reads the store loaded for this pair.
"""

from __future__ import annotations

from typing import Literal

EventType = Literal["referral", "diagnostic_request"]
EVENT_TYPES: tuple[EventType, ...] = ("referral", "diagnostic_request")
