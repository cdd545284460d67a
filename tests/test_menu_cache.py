"""The main menu's buttons are made once per registry, language and role: a role changed by an
admin changes the menu at once, and a registry's entries are never shown by another's menu."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.app import build_app
from bot.settings import Settings
from handlers.context import Context, Step
from handlers.events import Reply
from handlers.flow import Entry, Flow, Registry, Role
from handlers.menu import Menu, MenuState
from handlers.municipality import Municipality, StaffMember
from handlers.registry import FLOWS
from tests.conftest import Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

DESK = "🗂 Staff desk"


async def open_desk(ctx: Context) -> Step:
    return Step(MenuState.MAIN, {}, [Reply("The desk.")])


STAFF_ONLY = Flow(
    name="desk", entries=(Entry(DESK, Menu("desk"), open_desk, order=99, role=Role.OPERATOR),)
)


@pytest.fixture
async def bot_with_desk(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    registry = Registry((*FLOWS, STAFF_ONLY), home=MenuState.MAIN, first=MenuState.LANGUAGE)
    channel = CollectingChannel()
    m = replace(municipality, staff=(StaffMember("test", "boss", "Шеф", "admin", ()),))
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        app.deps = replace(app.deps, registry=registry)
        app.dispatcher._deps = app.deps
        yield Bot(app, channel, clock)


async def menu_labels(bot: Bot, user: str) -> list[str]:
    menu = (await bot.say(user, Press("menu:main")))[-1]
    return [b.label for row in menu.buttons for b in row]


async def test_the_menu_follows_the_role_as_it_changes(bot_with_desk: Bot) -> None:
    bot = bot_with_desk
    for user in ("boss", "ana"):
        await bot.say(user, "/start")
        await bot.say(user, Press("lang:en"))
    assert DESK in await menu_labels(bot, "boss")
    assert DESK not in await menu_labels(bot, "ana")
    await bot.say("boss", "/staff add test ana operator water")
    assert DESK in await menu_labels(bot, "ana")
    await bot.say("boss", "/staff remove test ana")
    assert DESK not in await menu_labels(bot, "ana")


async def test_another_registry_s_menu_has_none_of_its_entries(bot: Bot) -> None:
    await bot.say("boss", "/start")
    await bot.say("boss", Press("lang:en"))
    assert DESK not in await menu_labels(bot, "boss")
