"""What the outbox sender and the Telegram channel log names no one: a chat id of a resident is
personal, and a staff chat's line is about the chat, not about whoever acted in it."""

from __future__ import annotations

import logging
import re

import pytest

from storage.sql import fetch_one
from tests.conftest import Running, eventually

RESIDENT = 100000401
OPERATOR = 100000104  # hygiene, animals, lighting in config/vlasotince.toml
GROUP = -1001000000105  # the hygiene service's staff chat
UNREACHABLE = re.compile(
    r"outbox row \d+: its (private|staff) chat is unreachable \(blocked, or gone\);"
    r" sending to it stops"
)


def ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every line of the bot's own loggers (the libraries' are kept at WARNING in production)."""
    return [r.getMessage() for r in caplog.records if r.name.startswith(("bot", "handlers"))]


async def given_up(running: Running, chat_id: int) -> None:
    async def done() -> bool:
        row = await fetch_one(
            running.app.db.reader,
            "SELECT 1 FROM outbox WHERE chat_id = ? AND status = 'unreachable'",
            (str(chat_id),),
        )
        return row is not None

    await eventually(done, f"the messages to chat {chat_id} given up")


async def test_an_unreachable_chat_is_logged_by_its_outbox_row_never_by_a_person(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    fake = running.fake
    fake.add_chat(GROUP, "Чистоћа — пријаве", "supergroup")
    fake.push_command(RESIDENT, "start")
    await running.wait_text(RESIDENT, "Изаберите")
    with caplog.at_level(logging.DEBUG):
        fake.block(RESIDENT)
        await running.handled(fake.push_callback(RESIDENT, "lang:en"))
        await given_up(running, RESIDENT)
        fake.block(GROUP)  # the bot was removed from the staff chat
        await running.handled(fake.push_command(OPERATOR, "inbox", chat_id=GROUP))
        await given_up(running, GROUP)

    lines = ours(caplog)
    said = [m.group(1) for line in lines if (m := UNREACHABLE.fullmatch(line))]
    assert said == ["private", "staff"], lines
    assert not [line for line in lines if str(RESIDENT) in line or str(OPERATOR) in line]
