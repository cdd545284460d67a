"""``moja-opstina check`` against the fake Bot API, Viber API and Nominatim, and aiosmtpd."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.check import Finding, run_checks
from tests.conftest import ROOT, VLASOTINCE
from tests.fakes.nominatim import FakeNominatim
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.viber_api import FakeViberApi

SMTP_USER = "bot@vlasotince.example.org"
SMTP_PASSWORD = "correct horse battery staple"  # noqa: S105 - the test server's password
PARTS = ["environment", "municipality file", "database", "Telegram", "Viber", "SMTP", "geocoder"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Accept:
    """An SMTP handler that takes every message."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    """Accept only the test user's password."""
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(
        Accept(), hostname="127.0.0.1", port=port, authenticator=authenticate,
        auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield port
    controller.stop()


@dataclass
class Outside:
    """The local fakes of every outside part."""

    telegram: FakeTelegramApi
    viber: FakeViberApi
    nominatim: FakeNominatim
    smtp_port: int

    def env(self, data_dir: Path, **changes: str) -> dict[str, str]:
        """An environment that configures every part, with ``changes`` over it."""
        return {
            "BOT_DATA_DIR": str(data_dir),
            "BOT_CONFIG": str(VLASOTINCE),
            "TELEGRAM_TOKEN": self.telegram.token,
            "TELEGRAM_API_URL": self.telegram.base_url,
            "TELEGRAM_FILE_URL": self.telegram.base_file_url,
            "VIBER_TOKEN": self.viber.token,
            "VIBER_WEBHOOK_URL": "https://bot.vlasotince.example.org/viber",
            "VIBER_API_URL": self.viber.base_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SMTP_USER": SMTP_USER,
            "SMTP_PASSWORD": SMTP_PASSWORD,
            "SMTP_STARTTLS": "false",
            "GEOCODER_URL": self.nominatim.url,
            "GEOCODER_USER_AGENT": "moja-opstina-tests/1.0 (it@vlasotince.example.org)",
        } | changes


@pytest.fixture
async def outside(smtp_port: int) -> AsyncIterator[Outside]:
    telegram = FakeTelegramApi()
    await telegram.start()
    nominatim = FakeNominatim(places={"Vlasotince": (42.9656, 22.1297, "Vlasotince, Srbija")})
    await nominatim.start()
    async with FakeViberApi(account_name="Moja opština Vlasotince") as viber:
        yield Outside(telegram, viber, nominatim, smtp_port)
    await nominatim.stop()
    await telegram.stop()


def by_part(findings: list[Finding]) -> dict[str, Finding]:
    assert [f.part for f in findings] == PARTS
    return {f.part: f for f in findings}


async def test_everything_configured_and_reachable_is_ok(outside: Outside, tmp_path: Path) -> None:
    findings = by_part(await run_checks(outside.env(tmp_path / "data")))

    assert {part: f.status for part, f in findings.items()} == dict.fromkeys(PARTS, "ok")
    assert "Telegram, Viber, e-mail" in findings["environment"].detail
    assert "Vlasotince, " in findings["municipality file"].detail
    assert "will be created" in findings["database"].detail
    assert "@" in findings["Telegram"].detail
    assert "Moja opština Vlasotince" in findings["Viber"].detail
    assert f"logged in as {SMTP_USER}" in findings["SMTP"].detail
    assert "finds Vlasotince" in findings["geocoder"].detail
    assert [c.method for c in outside.telegram.calls] == ["getMe"]


async def test_each_wrong_part_fails_with_what_to_fix_and_no_secret(
    outside: Outside, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data folder should be")
    outside.nominatim.down = True
    wrong = {
        "TELEGRAM_TOKEN": "7000000001:AAWrongTokenWrongTokenWrongToken00",
        "VIBER_TOKEN": "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f",
        "SMTP_PASSWORD": "not the password",
        "TELEGRAM_WEBHOOK_URL": "https://bot.vlasotince.example.org/telegram",
    }
    findings = by_part(await run_checks(outside.env(not_a_folder, **wrong)))

    assert {part: f.status for part, f in findings.items()} == dict.fromkeys(PARTS, "FAIL") | {
        "municipality file": "ok"  # a wrong one: the next test
    }
    assert "TELEGRAM_WEBHOOK_SECRET" in findings["environment"].detail
    assert "BOT_DATA_DIR" in findings["database"].detail
    assert "check TELEGRAM_TOKEN" in findings["Telegram"].detail
    assert "check VIBER_TOKEN" in findings["Viber"].detail
    assert "check SMTP_USER, SMTP_PASSWORD" in findings["SMTP"].detail
    assert "check GEOCODER_URL" in findings["geocoder"].detail
    printed = "\n".join(f.line() for f in findings.values())
    for secret in (*wrong.values(), outside.telegram.token, outside.viber.token, SMTP_PASSWORD):
        if "example.org" not in secret:
            assert secret not in printed


async def test_a_missing_municipality_file_fails_and_the_geocoder_is_not_tried(
    outside: Outside, tmp_path: Path
) -> None:
    env = outside.env(tmp_path / "data", BOT_CONFIG=str(tmp_path / "missing.toml"))
    findings = by_part(await run_checks(env))

    assert findings["municipality file"].status == "FAIL"
    assert "missing.toml" in findings["municipality file"].detail
    assert findings["geocoder"].status == "off"
    assert outside.nominatim.requests == []


async def test_a_database_newer_than_the_code_fails_the_check(
    outside: Outside, tmp_path: Path
) -> None:
    from tests.test_migrations import build_at, make_newer

    (tmp_path / "data").mkdir()
    build_at(tmp_path / "data" / "bot.db", 1)
    ok = by_part(await run_checks(outside.env(tmp_path / "data")))["database"]
    make_newer(tmp_path / "data" / "bot.db")
    newer = by_part(await run_checks(outside.env(tmp_path / "data")))["database"]

    assert ok.status == "ok"
    assert "migrations to apply at start" in ok.detail
    assert newer.status == "FAIL"
    assert "newer than this code" in newer.detail


def test_the_command_prints_a_line_per_part_and_fails_when_one_fails(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "BOT_DATA_DIR": str(tmp_path),
        "GEOCODER_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stderr
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in lines] == PARTS
    assert [line.split()[0] for line in lines] == ["ok", "ok", "ok", "off", "off", "off", "FAIL"]
    assert "check GEOCODER_URL" in lines[-1]
