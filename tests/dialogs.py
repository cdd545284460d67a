"""One dialog harness over three channels: the collecting channel, the real python-telegram-bot
against the fake Bot API, and the real viberbot against the fake Viber API.

A dialog table is a list of (input, the replies' first lines, exactly and in order). A row that
presses a button fails when that button is not on the user's screen (the buttons of the last
message that has any, as the messenger shows them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.app import App, build_app
from bot.channels.viber import BUTTON_PREFIX, ViberAccount, ViberChannel, ViberUpdates
from bot.runtime import serve, web_app
from bot.settings import Settings
from handlers.municipality import Municipality
from tests.conftest import Bot, DialogInput, Picture, Pin, Press, Recording, free_port, telegram_app
from tests.conftest import Running as TelegramRunning
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.fakes.viber_api import (
    Call,
    FakeViberApi,
    conversation_started,
    message,
    message_location,
    message_picture,
    message_text,
)

ANA = "pttm25kSGUo1919sBORWyA=="
MARKO = "EGAZ3SZRi6zW1D0uNYhQHg=="
JSONDict = dict[str, Any]
Table = list[tuple[DialogInput, list[str]]]


def actions(keyboard: JSONDict | None) -> list[str]:
    """The ActionBody of each button of a keyboard."""
    return [b["ActionBody"] for b in (keyboard or {}).get("Buttons", [])]


@dataclass
class Running:
    """The bot with a Viber channel, its webhook served on 127.0.0.1, and the fake Viber."""

    fake: FakeViberApi
    app: App
    channel: ViberChannel
    updates: ViberUpdates
    url: str
    welcome: JSONDict | None = None

    async def post(self, event: JSONDict, *, signature: str | None = None) -> tuple[int, str]:
        return await self.fake.post_event(self.url, event, signature=signature)

    def texts(self, user: str = ANA) -> list[str]:
        return self.fake.texts_to(user)

    async def wait_text(self, needle: str, user: str = ANA, seconds: float = 5) -> None:
        def found(_: list[Call]) -> bool:
            return any(needle in t for t in self.texts(user))

        found.__qualname__ = f"a message to {user} containing {needle!r}"
        await self.fake.wait_for(found, seconds)

    async def say(self, event: JSONDict, needle: str, user: str = ANA) -> list[JSONDict]:
        """Post an event and wait for a new message containing ``needle``; return the new ones."""
        before = len(self.fake.sent_to(user))
        status, _ = await self.post(event)
        assert status == 200

        def arrived(_: list[Call]) -> list[JSONDict]:
            new = self.fake.sent_to(user)[before:]
            return new if any(needle in str(m.get("text", "")) for m in new) else []

        arrived.__qualname__ = f"a new message to {user} containing {needle!r}"
        await self.fake.wait_for(arrived)
        await self.app.sender.drain()  # the replies after it, too
        return self.fake.sent_to(user)[before:]

    def press(self, data: str, user: str = ANA) -> JSONDict:
        """The event of pressing the button ``data`` on the keyboard the user sees."""
        # The keyboard on screen is the last message's, or the welcome's before any message.
        shown = self.fake.sent_to(user) or ([self.welcome] if self.welcome else [])
        keyboard = shown[-1].get("keyboard") if shown else None
        body = BUTTON_PREFIX + data
        assert body in actions(keyboard), f"{data!r} is not offered: {actions(keyboard)}"
        return message_text(user, body)

    def press_on_screen(self, start: str, user: str = ANA) -> JSONDict:
        """Pressing the button whose data is ``start`` and its own fields (a preview's mark)."""
        shown = self.fake.sent_to(user)
        offered = actions(shown[-1].get("keyboard") if shown else None)
        found = [a for a in offered if a.startswith(f"{BUTTON_PREFIX}{start}:")]
        assert len(found) == 1, f"{start!r} is not offered once: {offered}"
        return message_text(user, found[0])


@asynccontextmanager
async def viber_app(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[Running]:
    """The bot with a Viber channel whose webhook is served on 127.0.0.1, against the fake."""
    # Viber delivers only to users who subscribed or wrote first: the welcome must do without.
    async with FakeViberApi(strict_subscribers=True) as fake:
        port = free_port()
        account = ViberAccount(
            token=fake.token,
            webhook_url=f"http://127.0.0.1:{port}/viber",
            api_url=fake.base_url,
        )
        channel = ViberChannel(account, settings.data_dir, timeout=5, retry_wait_s=0.3)
        async with (
            build_app(settings, municipality, {"viber": channel}, geocoder=geocoder) as app,
            AsyncExitStack() as undo,  # a failing body must not leave sockets open either
        ):
            updates = ViberUpdates(channel, app.dispatcher.dispatch)
            undo.push_async_callback(updates.close)
            routes = web_app()
            updates.add_routes(routes.router)
            runner = await serve(routes, Settings.from_env({"HTTP_PORT": str(port)}))
            undo.push_async_callback(runner.cleanup)
            await channel.set_webhook()
            sender = asyncio.create_task(app.sender.run())
            undo.push_async_callback(cancelled, sender)
            yield Running(fake, app, channel, updates, account.webhook_url)


async def cancelled(task: asyncio.Task[Any]) -> None:
    """Cancel a task and wait until it has ended."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


class Dialog(Protocol):
    """Plays one input as a user and returns what the user then sees."""

    name: str

    async def say(self, user: str, item: DialogInput) -> list[str]:
        """The texts of the new messages (photos without a text are left out)."""
        ...


def first_lines(texts: list[str]) -> list[str]:
    return [t.split("\n", 1)[0] for t in texts if t]


async def play(dialog: Dialog, user: str, table: Table) -> None:
    """Each input, then exactly the first lines of the replies it caused, in order."""
    for step, (item, expected) in enumerate(table):
        seen = first_lines(await dialog.say(user, item))
        assert seen == expected, f"{dialog.name} step {step} {item!r}: {seen}"


@dataclass
class CollectingDialog:
    """The bot with the collecting channel (no messenger)."""

    bot: Bot
    name: str = "collecting"

    async def say(self, user: str, item: DialogInput) -> list[str]:
        if isinstance(item, Press):
            shown = [r for r in self.bot.channel.to(user) if r.buttons]
            offered = [b.data for row in shown[-1].buttons for b in row] if shown else []
            assert item.data in offered, f"{item.data!r} is not on the screen: {offered}"
        return [r.text for r in await self.bot.say(user, item)]


TELEGRAM_IDS: dict[str, int] = {}


def telegram_chat(user: str) -> int:
    """The Telegram user and chat id of a dialog's user (``ana`` comes first: 5001)."""
    return TELEGRAM_IDS.setdefault(user, 5001 + len(TELEGRAM_IDS))


@dataclass
class TelegramDialog:
    """The real python-telegram-bot, polling the fake Bot API."""

    running: TelegramRunning
    name: str = "telegram"

    def chat(self, user: str) -> int:
        return telegram_chat(user)

    async def say(self, user: str, item: DialogInput) -> list[str]:
        fake, chat = self.running.fake, self.chat(user)
        before = len(fake.sent_messages(chat))
        match item:
            case Press(data):
                shown = [
                    m
                    for m in fake.sent_messages(chat)
                    if m.get("reply_markup", {}).get("inline_keyboard")
                ]
                offered = (
                    [
                        b["callback_data"]
                        for row in shown[-1]["reply_markup"]["inline_keyboard"]
                        for b in row
                    ]
                    if shown
                    else []
                )
                assert data in offered, f"{data!r} is not on the screen: {offered}"
                update = fake.push_callback(chat, data, message_id=shown[-1]["message_id"])
            case Pin(latitude, longitude):
                update = fake.push_location(chat, latitude, longitude)
            case Picture(content, _, caption, album):
                assert content is not None
                update = fake.push_photo(
                    chat, content, caption=caption or None, media_group_id=album or None
                )
            case Recording(content, seconds):
                update = fake.push_voice(chat, content, duration=seconds)
            case str() if item.startswith("/"):
                name, _, args = item[1:].partition(" ")
                update = (
                    fake.push_command(chat, name, args) if args else fake.push_command(chat, name)
                )
            case str():
                update = fake.push_text(chat, item)
            case _:
                raise AssertionError(f"not a Telegram input: {item!r}")
        await self.running.handled(update)
        return [
            str(m.get("text") or m.get("caption") or "") for m in fake.sent_messages(chat)[before:]
        ]


@dataclass
class ViberDialog:
    """The real viberbot: events posted to the bot's webhook by the fake Viber API."""

    running: Running
    name: str = "viber"

    async def say(self, user: str, item: DialogInput) -> list[str]:
        fake, viber_user = self.running.fake, VIBER_IDS[user]
        before = len(fake.sent_to(viber_user))
        match item:
            case Press(data):
                event = self.running.press(data, viber_user)
            case Pin(latitude, longitude):
                event = message_location(viber_user, latitude, longitude)
            case Picture(content, _, caption):
                assert content is not None
                url = fake.add_media(content)
                event = message_picture(viber_user, url, text=caption or None)
            case Recording(content):
                event = viber_recording(fake, viber_user, content)
            case str():
                event = message_text(viber_user, item)
            case _:
                raise AssertionError(f"not a Viber input: {item!r}")
        status, _ = await self.running.post(event)
        assert status == 200
        await self.running.app.sender.drain()
        return [str(m.get("text", "")) for m in fake.sent_to(viber_user)[before:]]


VIBER_IDS = {"ana": ANA, "marko": MARKO}


def viber_recording(fake: FakeViberApi, user: str, content: bytes) -> JSONDict:
    """What Viber delivers for a recording: a file message (Viber has no voice notes for bots)."""
    url = fake.add_media(content, content_type="audio/ogg", file_name="snimak.ogg")
    body = {"type": "file", "media": url, "size": len(content), "file_name": "snimak.ogg"}
    return message(user, body)


@asynccontextmanager
async def open_dialog(
    kind: str,
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
) -> AsyncIterator[Dialog]:
    """A resident who just opened the chat on ``kind``: collecting, telegram or viber."""
    if kind == "collecting":
        collecting = CollectingChannel()
        async with build_app(
            settings, municipality, {"test": collecting}, clock=clock, geocoder=geocoder
        ) as app:
            bot = Bot(app, collecting, clock)
            await bot.say("ana", "/start")
            yield CollectingDialog(bot)
        return
    if kind == "telegram":
        async with telegram_app(settings, municipality, geocoder) as (fake, app, updates):
            stop = asyncio.Event()
            tasks = [asyncio.create_task(app.sender.run()), asyncio.create_task(updates.poll(stop))]
            telegram = TelegramDialog(TelegramRunning(fake, app, updates, stop))
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
