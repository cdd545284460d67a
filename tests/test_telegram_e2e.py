"""The real bot process (``python -m bot run``) against the fake Bot API, as a resident uses it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from handlers.flow import Role
from handlers.registry import REGISTRY
from tests.bot_process import polling_started
from tests.conftest import ROOT, free_port, jpeg
from tests.fakes.telegram_api import Call, FakeTelegramApi

MILA = 7001


def texts(fake: FakeTelegramApi) -> list[str]:
    return [str(m.get("text") or "") for m in fake.sent_messages(MILA)]


async def wait_text(fake: FakeTelegramApi, needle: str) -> None:
    def found(_: list[Call]) -> bool:
        return any(needle in t for t in texts(fake))

    found.__qualname__ = f"a message containing {needle!r}"
    await fake.wait_for(found, 30)


async def test_the_bot_process_takes_a_whole_report_from_telegram(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeTelegramApi() as fake:
        env = {
            **os.environ,
            "TELEGRAM_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.base_url,
            "TELEGRAM_FILE_URL": fake.base_file_url,
            "BOT_DATA_DIR": str(data),
            "BOT_CONFIG": str(ROOT / "config" / "vlasotince.toml"),
            "GEOCODER_URL": "http://127.0.0.1:9",
            "HTTP_PORT": str(free_port()),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            await polling_started(fake, process)
            commands = fake.calls_of("setMyCommands")
            assert {c.params.get("language_code") for c in commands} == {None, "sr", "en"}
            # Built from the registry: residents' commands in private chats, staff's in groups.
            menus = {
                (scope_of(c.params), c.params.get("language_code")): [
                    item["command"] for item in listed(c.params)
                ]
                for c in commands
            }
            residents = menus[("all_private_chats", "en")]
            assert residents == [
                c.name for c in REGISTRY.commands if c.listed and c.role is Role.RESIDENT
            ]
            assert residents[:4] == ["start", "help", "language", "cancel"]
            assert {"consultations", "subscribe"} <= set(residents)
            assert "inbox" not in residents
            staff_menu = menus[("all_group_chats", "en")]
            assert {"inbox", "show", "ack", "consult", "announce"} <= set(staff_menu)
            assert "start" not in staff_menu
            fake.push_command(MILA, "start", first_name="Мила")
            await wait_text(fake, "Изаберите језик")
            fake.push_callback(MILA, "lang:sr-Latn")
            await wait_text(fake, "Dobro došli")
            fake.push_callback(MILA, "menu:report")
            fake.push_callback(MILA, "cat:garbage")
            fake.push_text(MILA, "Kontejner u Nemanjinoj ulici nije odnet dve nedelje")
            fake.push_photo(MILA, jpeg("green"))
            fake.push_photo(MILA, jpeg("gray"))
            await wait_text(fake, "2 od 3")
            fake.push_callback(MILA, "photos:done")
            fake.push_location(MILA, 42.9655, 22.1302)
            await wait_text(fake, "Proverite")
            fake.push_callback(MILA, "sum:confirm")
            await wait_text(fake, "VLA-2026-00001")
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, stderr.decode()
        assert "Kontejner" not in stderr.decode()  # nothing a resident wrote reaches the logs
    with sqlite3.connect(data / "bot.db") as db:
        report = db.execute("SELECT ref, category, description, latitude FROM reports").fetchall()
        photos = [row[0] for row in db.execute("SELECT path FROM report_photos ORDER BY position")]
    description = "Kontejner u Nemanjinoj ulici nije odnet dve nedelje"
    assert report == [("VLA-2026-00001", "garbage", description, 42.9655)]
    assert len(photos) == 2
    assert all((data / p).is_file() for p in photos)


def scope_of(params: dict[str, Any]) -> str:
    """The type of a setMyCommands scope (sent as JSON)."""
    scope = params.get("scope") or {}
    return str((json.loads(scope) if isinstance(scope, str) else scope).get("type", "default"))


def listed(params: dict[str, Any]) -> list[dict[str, str]]:
    """The commands of a setMyCommands call (sent as JSON)."""
    commands = params["commands"]
    return list(json.loads(commands) if isinstance(commands, str) else commands)
