"""Settings from the environment (secrets and endpoints); everything else is in the TOML file."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_GEOCODER_URL = "https://nominatim.openstreetmap.org"
DEFAULT_USER_AGENT = "moja-opstina/0.1 (+https://github.com/moja-opstina)"
DEFAULT_VIBER_API_URL = "https://chatapi.viber.com/pa"
DEFAULT_VIBER_BOT_NAME = "Moja opština"
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
# Viber refuses every message whose sender name is longer than this.
VIBER_BOT_NAME_LIMIT = 28


@dataclass(frozen=True, slots=True)
class Settings:
    """The process's settings."""

    data_dir: Path
    config: Path
    geocoder_url: str
    geocoder_user_agent: str
    geocoder_timeout: float
    log_level: str
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_rate: float = 25.0
    viber_token: str | None = None
    viber_webhook_url: str | None = None
    viber_bot_name: str = DEFAULT_VIBER_BOT_NAME
    viber_avatar_url: str | None = None
    viber_api_url: str = DEFAULT_VIBER_API_URL
    viber_rate: float = 20.0
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "moja-opstina@localhost"
    smtp_starttls: bool = True
    metrics_token: str | None = None
    health_outbox_max_age: float = 300.0
    outbox_give_up_hours: float = 24.0
    log_format: str = "text"
    # Open311 clients that may file reports: (client name, API key) pairs.
    open311_api_keys: tuple[tuple[str, str], ...] = ()
    # Internal networks a media_url may still reach (none by default: tests, an intranet host).
    open311_media_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    public_url: str | None = None  # where the public reaches this server (links to photos)
    tile_url: str = DEFAULT_TILE_URL  # the site's map tiles

    @property
    def database(self) -> Path:
        """The SQLite file under the data folder."""
        return self.data_dir / "bot.db"

    @property
    def has_messenger(self) -> bool:
        """Whether a messenger token is set (otherwise the console channel runs)."""
        return bool(self.telegram_token or self.viber_token)

    @property
    def metrics_on(self) -> bool:
        """Whether /metrics is served: with a token, or on a web server bound to loopback only."""
        return bool(self.metrics_token) or self.http_host in ("127.0.0.1", "::1", "localhost")

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """The values that must never be written to a log."""
        return (
            self.telegram_token, self.viber_token, self.telegram_webhook_secret,
            self.smtp_password, self.metrics_token,
            *(key for _, key in self.open311_api_keys),
        )  # fmt: skip

    @property
    def base_url(self) -> str:
        """The public address of the web server, without a trailing slash."""
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

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
            telegram_token=env.get("TELEGRAM_TOKEN") or None,
            telegram_api_url=env.get("TELEGRAM_API_URL", "https://api.telegram.org/bot"),
            telegram_file_url=env.get("TELEGRAM_FILE_URL", "https://api.telegram.org/file/bot"),
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            telegram_rate=float(env.get("TELEGRAM_RATE", "25")),
            viber_token=env.get("VIBER_TOKEN") or None,
            viber_webhook_url=env.get("VIBER_WEBHOOK_URL") or None,
            viber_bot_name=env.get("VIBER_BOT_NAME") or DEFAULT_VIBER_BOT_NAME,
            viber_avatar_url=env.get("VIBER_AVATAR_URL") or None,
            viber_api_url=(env.get("VIBER_API_URL") or DEFAULT_VIBER_API_URL).rstrip("/"),
            viber_rate=float(env.get("VIBER_RATE", "20")),
            http_host=env.get("HTTP_HOST", "127.0.0.1"),
            http_port=int(env.get("HTTP_PORT", "8080")),
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=int(env.get("SMTP_PORT", "587")),
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_from=env.get("SMTP_FROM", "moja-opstina@localhost"),
            smtp_starttls=env.get("SMTP_STARTTLS", "true").lower() in ("1", "true", "yes"),
            metrics_token=env.get("METRICS_TOKEN") or None,
            health_outbox_max_age=float(env.get("HEALTH_OUTBOX_MAX_AGE", "300")),
            outbox_give_up_hours=float(env.get("OUTBOX_GIVE_UP_HOURS", "24")),
            log_format=env.get("LOG_FORMAT", "text").lower(),
            open311_api_keys=api_keys(env.get("OPEN311_API_KEYS", "")),
            open311_media_allow=networks(env.get("OPEN311_MEDIA_ALLOW", "")),
            public_url=env.get("PUBLIC_URL") or None,
            tile_url=env.get("SITE_TILE_URL") or DEFAULT_TILE_URL,
        )

    def problems(self) -> list[str]:
        """Settings that cannot work together, each as one line."""
        found = []
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            found.append("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not")
        if self.telegram_webhook_secret and not _valid_secret(self.telegram_webhook_secret):
            found.append(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        if self.log_format not in ("text", "json"):
            found.append("LOG_FORMAT must be text or json")
        found += self._viber_problems()
        return found

    def _viber_problems(self) -> list[str]:
        found = []
        if self.viber_token and not self.viber_webhook_url:
            found.append("VIBER_TOKEN is set but VIBER_WEBHOOK_URL is not (Viber calls a webhook)")
        if len(self.viber_bot_name) > VIBER_BOT_NAME_LIMIT:
            found.append(f"VIBER_BOT_NAME must be at most {VIBER_BOT_NAME_LIMIT} characters")
        if (
            self.viber_webhook_url
            and self.telegram_webhook_url
            and webhook_path(self.viber_webhook_url) == webhook_path(self.telegram_webhook_url)
        ):
            found.append("TELEGRAM_WEBHOOK_URL and VIBER_WEBHOOK_URL need different paths")
        return found


def api_keys(text: str) -> tuple[tuple[str, str], ...]:
    """``client=key,other=key2`` as (client, key) pairs; an entry without both parts is left out."""
    pairs = []
    for entry in text.split(","):
        client, _, key = entry.strip().partition("=")
        if client.strip() and key.strip():
            pairs.append((client.strip(), key.strip()))
    return tuple(pairs)


def networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``127.0.0.1/32, 10.2.0.0/16`` as networks (a bad entry stops the start with its error)."""
    return tuple(ipaddress.ip_network(e.strip()) for e in text.split(",") if e.strip())


def webhook_path(url: str) -> str:
    """The path a webhook URL is served at on our web server."""
    return urlsplit(url).path or "/"


def _valid_secret(secret: str) -> bool:
    """Telegram's rule for a webhook secret token."""
    return 0 < len(secret) <= 256 and all(
        c.isascii() and (c.isalnum() or c in "_-") for c in secret
    )
