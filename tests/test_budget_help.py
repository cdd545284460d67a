"""The budget's staff commands are in /help and in the staff's command menu (both built from the
registry's declarations), and residents see neither."""

from __future__ import annotations

from pathlib import Path

from telegram import BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

from bot.channels.telegram import TelegramChannel, make_bot
from handlers.municipality import Municipality
from handlers.registry import REGISTRY
from tests.conftest import Office
from tests.fakes.telegram_api import FakeTelegramApi

BUDGET = (
    "/budget - the budget: /budget import, consult YEAR FROM TO, consult close, proposals, history"
)
PB = "/pb - participatory budgeting: /pb new, add, open, paper, close"


async def test_help_lists_the_budgets_staff_commands_for_admins_only(office: Office) -> None:
    shown = (await office.bot.say("boss", "/help"))[0].text.splitlines()
    assert BUDGET in shown
    assert PB in shown
    for user in ("mila", "vesna"):  # a resident, an operator of a service
        text = (await office.bot.say(user, "/help"))[0].text
        assert "/budget" not in text
        assert "/pb" not in text


async def test_the_staff_command_menu_lists_them(
    municipality: Municipality, tmp_path: Path
) -> None:
    async with FakeTelegramApi() as fake:
        bot = make_bot(fake.token, fake.base_url, fake.base_file_url)
        await bot.initialize()
        try:
            await TelegramChannel(bot, tmp_path).register_commands(municipality.languages, REGISTRY)
            staff = {
                c.command: c.description
                for c in await bot.get_my_commands(
                    scope=BotCommandScopeAllGroupChats(), language_code="en"
                )
            }
            residents = {
                c.command
                for c in await bot.get_my_commands(
                    scope=BotCommandScopeAllPrivateChats(), language_code="en"
                )
            }
        finally:
            await bot.shutdown()
    assert staff["budget"] == BUDGET.split(" - ", 1)[1]
    assert staff["pb"] == PB.split(" - ", 1)[1]
    assert not {"budget", "pb"} & residents
