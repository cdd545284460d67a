"""Telegram's command menus in a staff member's private chat, through the real
python-telegram-bot against the fake Bot API (which keeps the menus per scope, checked against
the Bot API's BotCommandScope types, and answers with the menu a chat's user sees).

Residents' commands are set for all private chats and the staff commands for groups; a staff
member's private chat gets a menu of its own, in their language and script.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from bot.app import sync_staff
from bot.channels.telegram import TelegramChannel
from bot.runtime import start_telegram
from bot.settings import Settings
from tests.conftest import Press, Running
from tests.dialogs import TELEGRAM_IDS, TelegramDialog, play

ADMIN = "admin"
TELEGRAM_IDS[ADMIN] = 100000101  # the admin of config/vlasotince.toml
NEVER_WROTE = 100000102  # an operator of the file who has not written to the bot
NEWCOMER = "newcomer"
TELEGRAM_IDS[NEWCOMER] = 100000301
RESIDENT = "resident"
TELEGRAM_IDS[RESIDENT] = 100000302

RESIDENTS_MENU_EN = [
    "/start - main menu",
    "/help - this help",
    "/language - change the language",
    "/cancel - drop what you are doing",
    "/consultations - public consultations",
    "/library - the town library: new titles, search, hours",
    "/plan - the action plan and its progress",
    "/social - rights and services of social protection",
    "/subscribe - choose the news you get",
    "/privacy - what we store about you, and why",
]


async def choose(running: Running, user: str, language: str) -> None:
    telegram = TelegramDialog(running)
    await telegram.say(user, "/start")
    await telegram.say(user, Press(f"lang:{language}"))


async def test_at_start_up_a_staff_members_private_chat_lists_their_commands(
    running: Running, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await choose(running, ADMIN, "en")
    await choose(running, RESIDENT, "en")
    channel = TelegramChannel(running.updates.bot, settings.data_dir)

    with caplog.at_level(logging.DEBUG):
        await start_telegram(settings, running.app, channel)

    fake = running.fake
    admin_menu = fake.menu_of(TELEGRAM_IDS[ADMIN], "en")
    assert admin_menu[: len(RESIDENTS_MENU_EN)] == RESIDENTS_MENU_EN
    assert "/inbox - open reports, oldest first" in admin_menu
    assert "/staff - add, remove or list staff" in admin_menu
    # A resident's chat keeps the menu of all private chats.
    assert fake.menu_of(TELEGRAM_IDS[RESIDENT], "en") == RESIDENTS_MENU_EN
    # The operator who never wrote: Telegram knows no such chat. Logged without the chat.
    assert fake.menu_of(NEVER_WROTE, "en") == RESIDENTS_MENU_EN
    refused = [r.getMessage() for r in caplog.records if "menu was not set" in r.getMessage()]
    assert refused == ["a staff member's command menu was not set: Chat not found"] * 2
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("bot", "handlers"))]
    assert not [line for line in ours if str(NEVER_WROTE) in line]


async def test_staff_add_and_remove_set_and_take_away_the_menu_of_the_persons_chat(
    running: Running, settings: Settings
) -> None:
    await choose(running, ADMIN, "en")
    await choose(running, NEWCOMER, "sr-Latn")
    await TelegramChannel(running.updates.bot, settings.data_dir).register_commands(
        running.app.deps.municipality.languages, running.app.deps.registry
    )
    fake, telegram, newcomer = running.fake, TelegramDialog(running), TELEGRAM_IDS[NEWCOMER]
    residents_menu = fake.menu_of(newcomer, "sr")
    assert residents_menu[0] == "/start - главни мени"  # Telegram's "sr": the Cyrillic source

    add = f"/staff add telegram {newcomer} operator water"
    await play(telegram, ADMIN, [(add, [f"Added operator telegram:{newcomer}."])])
    menu = fake.menu_of(newcomer, "sr")
    assert menu[: len(residents_menu)] == [
        "/start - glavni meni",
        "/help - ova pomoć",
        "/language - promena jezika",
        "/cancel - odustanite od onoga što radite",
        "/consultations - javne rasprave",
        "/library - gradska biblioteka: novi naslovi, pretraga, radno vreme",
        "/plan - akcioni plan i njegov napredak",
        "/social - prava i usluge socijalne zaštite",
        "/subscribe - izaberite vesti koje primate",
        "/privacy - šta o vama čuvamo i zašto",
    ]  # in their script, whatever the app's language
    assert "/inbox - otvorene prijave, najstarije prve" in menu
    assert not [line for line in menu if line.startswith("/staff ")]  # for admins only

    await play(telegram, NEWCOMER, [
        ("/language", ["Изаберите језик и писмо:"]),  # in every language offered
        (Press("lang:en"), ["Language set: English.", "What would you like to do?"]),
    ])  # fmt: skip
    assert "/inbox - open reports, oldest first" in fake.menu_of(newcomer, "sr")

    await play(telegram, ADMIN, [(f"/staff remove telegram {newcomer}", ["Removed."])])
    assert fake.menu_of(newcomer, "sr") == residents_menu
    assert [c.params["scope"] for c in fake.calls if c.method == "deleteMyCommands"] == [
        {"type": "chat", "chat_id": newcomer}
    ]


async def test_a_staff_member_taken_out_of_the_file_loses_the_menu_at_the_next_start(
    running: Running, settings: Settings
) -> None:
    await choose(running, ADMIN, "en")
    channel = TelegramChannel(running.updates.bot, settings.data_dir)
    await start_telegram(settings, running.app, channel)
    fake, admin = running.fake, TELEGRAM_IDS[ADMIN]
    assert "/staff - add, remove or list staff" in fake.menu_of(admin, "en")

    app = running.app
    municipality = app.deps.municipality
    without = replace(municipality, staff=tuple(m for m in municipality.staff if m.role != "admin"))
    await sync_staff(app.db, without, app.deps.registry, app.deps.clock.now())  # the restart
    await app.sender.drain()

    assert fake.menu_of(admin, "en") == RESIDENTS_MENU_EN
