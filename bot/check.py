"""``moja-opstina check``: the settings, the municipality file and each outside part, a line each.

Each part says ``ok``, ``off`` (not configured, which is allowed) or ``FAIL`` with what to fix.
Nothing a check prints holds a secret: errors are named by their kind, never by their text.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Awaitable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import aiosmtplib
from geopy.adapters import AioHTTPAdapter
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

from bot import logs
from bot.channels.telegram_probe import ProbeError, telegram_identity
from bot.channels.viber import ViberAccount, ViberChannel
from bot.settings import Settings
from handlers.municipality import Municipality, MunicipalityFileError, load_municipality
from storage.db import latest_version

TIMEOUT_S = 10.0
Status = Literal["ok", "off", "FAIL"]


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check found."""

    part: str
    status: Status
    detail: str

    def line(self) -> str:
        """The line printed for it."""
        return f"{self.status:<4} {self.part}: {self.detail}"


async def run_checks(env: Mapping[str, str] | None = None) -> list[Finding]:
    """Check everything that the environment configures."""
    try:
        settings = Settings.from_env(env)
    except ValueError as e:
        return [Finding("environment", "FAIL", f"a setting that must be a number is not ({e})")]
    problems = settings.problems()
    findings = [Finding("environment", "FAIL", problem) for problem in problems] or [
        Finding("environment", "ok", _configured(settings))
    ]
    municipality: Municipality | None = None
    try:
        municipality = load_municipality(settings.config)
        findings.append(
            Finding("municipality file", "ok", _describe(settings.config, municipality))
        )
    except MunicipalityFileError as e:
        findings.append(Finding("municipality file", "FAIL", str(e)))
    findings.append(check_database(settings.data_dir))
    findings += await asyncio.gather(
        _guarded("Telegram", check_telegram(settings)),
        _guarded("Viber", check_viber(settings)),
        _guarded("SMTP", check_smtp(settings)),
        _guarded("geocoder", check_geocoder(settings, municipality)),
    )
    return findings


def _configured(settings: Settings) -> str:
    parts = [
        name
        for name, on in (
            ("Telegram", settings.telegram_token),
            ("Viber", settings.viber_token),
            ("e-mail", settings.smtp_host),
        )
        if on
    ]
    return (
        f"{', '.join(parts) or 'no messenger (the console channel)'}; data in {settings.data_dir}"
    )


def _describe(path: Path, m: Municipality) -> str:
    return (
        f"{path}: {m.name_latn}, {len(m.categories)} categories, {len(m.services)} services,"
        f" {len(m.staff)} staff, languages {', '.join(m.languages)}"
    )


async def _guarded(part: str, check: Awaitable[Finding]) -> Finding:
    """A check that takes too long fails instead of hanging the command."""
    try:
        # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation (Ctrl-C) that lands
        # as the check answers.
        async with asyncio.timeout(TIMEOUT_S * 2):
            return await check
    except TimeoutError:
        return Finding(part, "FAIL", f"no answer in {TIMEOUT_S * 2:.0f} s")


def check_database(data_dir: Path) -> Finding:
    """The data folder can be written and the database (if there is one yet) too."""
    part = "database"
    probe = data_dir / f".check-{os.getpid()}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        return Finding(part, "FAIL", f"cannot write in {data_dir} ({type(e).__name__}): give the"
                       " bot's user the folder (chown) or set BOT_DATA_DIR")  # fmt: skip
    path = data_dir / "bot.db"
    if not path.exists():
        return Finding(part, "ok", f"{path} will be created at start")
    try:
        with closing(sqlite3.connect(path, timeout=5, isolation_level=None)) as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock: the file can be written
            conn.execute("ROLLBACK")
    except sqlite3.Error as e:
        return Finding(part, "FAIL", f"{path} cannot be written ({e})")
    latest = latest_version()
    if version > latest:
        return Finding(part, "FAIL", f"{path} is at schema version {version}, newer than this"
                       f" code ({latest}): install the newer version")  # fmt: skip
    pending = f", {latest - version} migrations to apply at start" if version < latest else ""
    return Finding(part, "ok", f"{path} is writable, schema version {version}{pending}")


async def check_telegram(settings: Settings) -> Finding:
    """getMe with the token."""
    if not settings.telegram_token:
        return Finding("Telegram", "off", "TELEGRAM_TOKEN is not set")
    try:
        name = await telegram_identity(
            settings.telegram_token, settings.telegram_api_url, settings.telegram_file_url
        )
    except ProbeError as e:
        return Finding("Telegram", "FAIL", str(e))
    mode = (
        "webhook " + settings.telegram_webhook_url if settings.telegram_webhook_url else "polling"
    )
    return Finding("Telegram", "ok", f"the token is {name}'s; updates by {mode}")


async def check_viber(settings: Settings) -> Finding:
    """get_account_info with the token."""
    if not settings.viber_token:
        return Finding("Viber", "off", "VIBER_TOKEN is not set")
    host = urlsplit(settings.viber_api_url).netloc
    account = ViberAccount(
        token=settings.viber_token,
        webhook_url=settings.viber_webhook_url or "https://localhost/viber",
        api_url=settings.viber_api_url,
    )
    channel = ViberChannel(account, settings.data_dir, timeout=TIMEOUT_S)
    try:
        info = await channel.call(channel.api.get_account_info)
    except Exception as e:  # viberbot raises whatever requests raises
        return Finding("Viber", "FAIL", f"cannot reach {host} ({type(e).__name__})")
    status = info.get("status") if isinstance(info, dict) else None
    if status != 0:
        return Finding("Viber", "FAIL", f"{host} refused the token (status {status}):"
                       " check VIBER_TOKEN")  # fmt: skip
    return Finding("Viber", "ok", f"the token is the account {info.get('name')!r}")


async def check_smtp(settings: Settings) -> Finding:
    """Connect, STARTTLS when set, and log in when a user is set."""
    if not settings.smtp_host:
        return Finding("SMTP", "off", "SMTP_HOST is not set (no e-mail to services)")
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, timeout=TIMEOUT_S,
        start_tls=settings.smtp_starttls,
    )  # fmt: skip
    try:
        await smtp.connect()
        if settings.smtp_user:
            await smtp.login(settings.smtp_user, settings.smtp_password or "")
        await smtp.quit()
    except aiosmtplib.SMTPAuthenticationError:
        return Finding("SMTP", "FAIL", f"{where} refused the login: check SMTP_USER, SMTP_PASSWORD")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
        return Finding("SMTP", "FAIL", f"cannot talk to {where} ({type(e).__name__}): check"
                       " SMTP_HOST, SMTP_PORT, SMTP_STARTTLS")  # fmt: skip
    finally:
        smtp.close()
    login = f", logged in as {settings.smtp_user}" if settings.smtp_user else ", no login"
    return Finding("SMTP", "ok", f"{where} answers{login}")


async def check_geocoder(settings: Settings, municipality: Municipality | None) -> Finding:
    """Look the municipality's own name up."""
    if municipality is None:
        return Finding("geocoder", "off", "not tried without a municipality file")
    parts = urlsplit(settings.geocoder_url)
    try:
        async with Nominatim(
            domain=parts.netloc + parts.path.rstrip("/"), scheme=parts.scheme or "https",
            user_agent=settings.geocoder_user_agent, timeout=TIMEOUT_S,
            adapter_factory=AioHTTPAdapter,
        ) as nominatim:  # fmt: skip
            found = await nominatim.geocode(municipality.name_latn, country_codes="rs")
    except (GeopyError, OSError, TimeoutError) as e:
        return Finding("geocoder", "FAIL", f"{parts.netloc} did not answer ({type(e).__name__}):"
                       " check GEOCODER_URL and GEOCODER_USER_AGENT")  # fmt: skip
    if found is None:
        return Finding("geocoder", "FAIL", f"{parts.netloc} does not know {municipality.name_latn}")
    return Finding("geocoder", "ok", f"{parts.netloc} finds {municipality.name_latn}")


async def report(env: Mapping[str, str] | None = None) -> int:
    """Print one line per part; 1 when any part fails."""
    with contextlib.suppress(ValueError):  # run_checks says which setting is wrong
        settings = Settings.from_env(env)
        logs.configure(
            settings.log_level, settings.secrets, json_lines=settings.log_format == "json"
        )
    findings = await run_checks(env)
    for finding in findings:
        print(finding.line())
    return 1 if any(f.status == "FAIL" for f in findings) else 0
