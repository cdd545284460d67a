"""The same dialog tables on every channel: the collecting channel, Telegram and Viber."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from bot.app import build_app
from bot.settings import Settings
from handlers.municipality import Municipality
from tests.conftest import Bot, Picture, Pin, Press, Running, jpeg, telegram_app
from tests.dialogs import (
    VIBER_IDS,
    CollectingDialog,
    Dialog,
    Table,
    TelegramDialog,
    ViberDialog,
    play,
    viber_app,
)
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.fakes.viber_api import conversation_started

WELCOME = "Welcome to Moja opština, the bot of the municipality of Vlasotince."
CATEGORY = "What kind of problem is it?"
DESCRIBE = "Describe the problem in a few words: what is wrong and where."
PHOTOS = "Send up to 3 photos of the problem, one by one, or skip this step."
WHERE = (
    "Where is the problem? Share the location with the button below, or type the address"
    " (street and number)."
)
IN_PROGRESS = "You have a report in progress. Continue below, or send /cancel to drop it."
THANKS = (
    "Thank you! Your report is registered under the number VLA-2026-00001. You will get a"
    " message here whenever its status changes; you can also find it under My reports."
)
REPORT: Table = [
    (Press("lang:en"), ["Language set: English.", WELCOME]),
    (Press("menu:report"), [CATEGORY]),
    ("The garbage", ["Please choose the kind of problem with one of the buttons.", CATEGORY]),
    (Press("cat:garbage"), [DESCRIBE]),
    ("/subscribe", [IN_PROGRESS, DESCRIBE]),
    ("Bins behind the school are full", [PHOTOS]),
    (Picture(jpeg("gray")), ["Photo 1 of 3 added.", PHOTOS]),
    (Press("photos:done"), [WHERE]),
    (Pin(42.9661, 22.1290), ["📍 Location received.", "Please check your report:"]),
    (Press("sum:edit"), ["What would you like to change?"]),
    (Press("edit:description"), [DESCRIBE]),
    ("Bins behind the school are overflowing", ["Please check your report:"]),
    (Press("sum:confirm"), [THANKS]),
    (Press("menu:mine"), ["You have 1 report."]),
]  # fmt: skip


@pytest.fixture(params=["collecting", "telegram", "viber"])
async def dialog(
    request: pytest.FixtureRequest,
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
) -> AsyncIterator[Dialog]:
    """A resident who just opened the chat, on one of the channels."""
    if request.param == "collecting":
        channel = CollectingChannel()
        async with build_app(
            settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder
        ) as app:
            bot = Bot(app, channel, clock)
            await bot.say("ana", "/start")
            yield CollectingDialog(bot)
        return
    if request.param == "telegram":
        async with telegram_app(settings, municipality, geocoder) as (fake, app, updates):
            stop = asyncio.Event()
            tasks = [asyncio.create_task(app.sender.run()), asyncio.create_task(updates.poll(stop))]
            telegram = TelegramDialog(Running(fake, app, updates, stop))
            await telegram.say("ana", "/start")
            yield telegram
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return
    async with viber_app(settings, municipality, geocoder) as viber:
        status, body = await viber.post(conversation_started(VIBER_IDS["ana"]))
        assert status == 200
        viber.welcome = json.loads(body)
        yield ViberDialog(viber)


async def test_a_whole_report_reads_the_same_on_every_channel(dialog: Dialog) -> None:
    await play(dialog, "ana", REPORT)


async def test_a_button_that_is_not_on_the_screen_fails_the_table(dialog: Dialog) -> None:
    await play(dialog, "ana", REPORT[:2])
    with pytest.raises(AssertionError, match=r"not on the screen|is not offered"):
        await dialog.say("ana", Press("sum:confirm"))
