"""Engine settings, read once at start from ``INTEGRATOR_*`` environment variables.

Settings are passed down explicitly; nothing reads the environment later, so tests build a
``Settings`` object and get exactly that behaviour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTEGRATOR_", frozen=True, extra="ignore")

    database_url: str = "sqlite:///var/integrator.db"
    amqp_url: str | None = None
    destinations_dir: Path = Path("config/destinations")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    sending_application: str = "INTEGRATOR"
    sending_facility: str = ""
    platform_authority: str = "ZORGDOMEIN"
    timezone: str = "Europe/Amsterdam"
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
