"""Engine settings, read once at start from ``INTEGRATOR_*`` environment variables.

Settings are passed down explicitly; nothing reads the environment later, so tests build a
``Settings`` object and get exactly that behaviour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mappings.context import MAX_PLATFORM_AUTHORITY

DEVELOPMENT_SEARCH_KEY = "integrator-development-search-key-not-secret"
"""Used when ``INTEGRATOR_SEARCH_KEY`` is unset, so demos and tests work; ``integrator run`` warns.

With a key everybody knows, a BSN hash can be reversed by trying every BSN: production must set
its own key (at least 16 characters, e.g. ``openssl rand -hex 32``) and keep it secret.
"""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTEGRATOR_", frozen=True, extra="ignore")

    database_url: str = "sqlite:///var/integrator.db"
    amqp_url: str | None = None
    amqp_prefix: str = "integrator"
    destinations_dir: Path = Path("config/destinations")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    sending_application: str = "INTEGRATOR"
    sending_facility: str = ""
    # The ZD number's assigning authority; placer numbers <zd>^<authority> must fit 22 characters.
    platform_authority: str = Field(
        default="ZORGDOMEIN", min_length=1, max_length=MAX_PLATFORM_AUTHORITY
    )
    timezone: str = "Europe/Amsterdam"
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # The HMAC key of the BSN search column; never logged (SecretStr hides it in reprs).
    search_key: SecretStr = SecretStr(DEVELOPMENT_SEARCH_KEY)

    @field_validator("search_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("the search key must be at least 16 characters")
        return value

    @property
    def search_key_is_development(self) -> bool:
        return self.search_key.get_secret_value() == DEVELOPMENT_SEARCH_KEY

    def bsn_hash(self, bsn: str) -> str:
        """The value of ``events.bsn_hash`` for this BSN under this engine's key."""
        from integrator.store.keyed import bsn_hash

        return bsn_hash(bsn, self.search_key.get_secret_value().encode("utf-8"))

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
