"""The language of what a staff action says, through the real python-telegram-bot against the
fake Bot API: a message to a staff chat is in the staff's language (everyone there reads it,
whoever acted); one to a private chat is in its reader's language and script."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import DialogInput, Pin, Press, Running
from tests.dialogs import TELEGRAM_IDS, TelegramDialog, play

OPERATOR = "communal operator"
TELEGRAM_IDS[OPERATOR] = 100000102  # communal and roads in config/vlasotince.toml
COMMUNAL_CHAT = -1001000000101
REF = f"VLA-{datetime.now(UTC).year}-00001"


async def a_dump_reported_and_the_operator_in_english(running: Running) -> TelegramDialog:
    telegram = TelegramDialog(running)
    steps: list[DialogInput] = [
        "/start", Press("lang:en"), Press("menu:main"), Press("menu:report"),
        Press("cat:illegal_dumping"), "Rubble dumped by the river", Press("photos:skip"),
        Pin(42.9661, 22.1290), Press("sum:confirm"),
    ]  # fmt: skip
    for item in steps:
        await telegram.say("ana", item)
    await play(telegram, OPERATOR, [("/start", ["Изаберите језик и писмо:"])])
    await telegram.say(OPERATOR, Press("lang:en"))
    running.fake.add_chat(COMMUNAL_CHAT, "Комунални послови", "supergroup")
    return telegram


def in_chat(running: Running, chat: int, before: int) -> list[str]:
    return [str(m.get("text") or "") for m in running.fake.sent_messages(chat)[before:]]


async def test_an_operators_action_in_a_staff_chat_is_answered_in_the_staff_language(
    running: Running,
) -> None:
    await a_dump_reported_and_the_operator_in_english(running)
    before = len(running.fake.sent_messages(COMMUNAL_CHAT))
    ack = running.fake.push_command(TELEGRAM_IDS[OPERATOR], "ack", REF, chat_id=COMMUNAL_CHAT)
    await running.handled(ack)
    assert in_chat(running, COMMUNAL_CHAT, before)[-1] == f"Пријава {REF} је сада примљена."


async def test_a_report_passed_on_privately_is_told_to_its_old_staff_chat_in_the_staff_language(
    running: Running,
) -> None:
    telegram = await a_dump_reported_and_the_operator_in_english(running)
    before = len(running.fake.sent_messages(COMMUNAL_CHAT))
    roads = "Opštinska uprava — Odsek za puteve i saobraćaj"  # a name is the file's, in Latin
    await play(telegram, OPERATOR, [(f"/assign {REF} roads", [f"{REF} was passed to {roads}."])])
    assert in_chat(running, COMMUNAL_CHAT, before)[0] == (
        f"Пријава {REF} је прослеђена служби Општинска управа — Одсек за путеве и саобраћај."
    )
