"""Settings from the environment (secrets and endpoints); everything else is in the TOML file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GEOCODER_URL = "https://nominatim.openstreetmap.org"
DEFAULT_USER_AGENT = "moja-opstina/0.1 (+https://github.com/moja-opstina)"


@dataclass(frozen=True, slots=True)
class Settings:
    """The process's settings."""

    data_dir: Path
    config: Path
    geocoder_url: str
    geocoder_user_agent: str
    geocoder_timeout: float
    log_level: str

    @property
    def database(self) -> Path:
        """The SQLite file under the data folder."""
        return self.data_dir / "bot.db"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from environment variables, with the documented defaults."""
        env = os.environ if env is None else env
        return cls(
            data_dir=Path(env.get("BOT_DATA_DIR", "./data")),
            config=Path(env.get("BOT_CONFIG", "config/vlasotince.toml")),
            geocoder_url=env.get("GEOCODER_URL", DEFAULT_GEOCODER_URL).rstrip("/"),
            geocoder_user_agent=env.get("GEOCODER_USER_AGENT", DEFAULT_USER_AGENT),
            geocoder_timeout=float(env.get("GEOCODER_TIMEOUT", "5")),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
        )
