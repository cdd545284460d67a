"""Shared fixtures: a bot on a real SQLite file with fake ports, driven as a resident would."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel, TelegramUpdates, make_bot
from bot.settings import Settings
from handlers.events import (
    ButtonChoice,
    Command,
    Inbound,
    Location,
    Photo,
    Reply,
    Sender,
    Text,
    Voice,
)
from handlers.municipality import Municipality, StaffMember, load_municipality
from handlers.ports import Place
from storage.sql import fetch_one
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.fakes.telegram_api import Call, FakeTelegramApi

# python-telegram-bot 22 warns about the type of retry_after unless told to use timedelta already.
os.environ.setdefault("PTB_TIMEDELTA", "true")

ROOT = Path(__file__).resolve().parent.parent
VLASOTINCE = ROOT / "config" / "vlasotince.toml"
# Real places in Vlasotince, as the fake geocoder knows them.
SCHOOL = Place(42.9660, 22.1290, "Основна школа „Синиша Јанић“, Власотинце")
FAR_AWAY = Place(44.8125, 20.4612, "Трг републике, Београд")


def jpeg(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    """Return a small JPEG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG")
    return out.getvalue()


@dataclass
class Press:
    """A button press in a dialog table."""

    data: str


@dataclass
class Pin:
    """A shared location in a dialog table."""

    latitude: float
    longitude: float


@dataclass
class Picture:
    """A photo in a dialog table."""

    content: bytes | None
    size: int = 0
    caption: str = ""
    album: str = ""  # the media group it belongs to (Telegram sends an album photo by photo)


@dataclass
class Recording:
    """A voice note in a dialog table (on Viber, an audio file: it has no voice notes)."""

    content: bytes
    seconds: int = 0


@dataclass
class OnScreen:
    """A press of the button on the user's screen whose data begins with ``start`` (a preview's
    confirm button carries the preview's mark after it: ``an:ok:<mark>``)."""

    start: str


DialogInput = str | Press | OnScreen | Pin | Picture | Recording | Inbound


class Bot:
    """The whole bot with a collecting channel; ``say`` returns the replies to one input."""

    def __init__(self, app: App, channel: CollectingChannel, clock: FakeClock) -> None:
        self.app = app
        self.channel = channel
        self.clock = clock
        self._updates = 0

    def sender(self, user: str) -> Sender:
        """The sender for a resident named ``user`` (their chat has the same id)."""
        return Sender("test", user, user, user.title())

    def event(self, user: str, item: DialogInput) -> Inbound:
        """Turn a dialog-table input into an event."""
        s = self.sender(user)
        if isinstance(item, OnScreen):
            item = self.button(user, item.start)
        match item:
            case str() if item.startswith("/"):
                name, _, args = item[1:].partition(" ")
                return Command(s, name, args)
            case str():
                return Text(s, item)
            case Press():
                return ButtonChoice(s, item.data)
            case Pin():
                return Location(s, item.latitude, item.longitude)
            case Picture():
                size = item.size or len(item.content or b"")
                return Photo(
                    s, f"file-{size}", item.content, size, caption=item.caption, album=item.album
                )
            case Recording():
                return Voice(s, f"voice-{len(item.content)}", item.content, len(item.content),
                             item.seconds)  # fmt: skip
        return item

    async def say(self, user: str, item: DialogInput) -> list[Reply]:
        """Send one input as ``user`` and return the replies it caused, delivered."""
        before = len(self.channel.to(user))
        await self.app.dispatcher.dispatch(self.event(user, item))
        await self.app.sender.drain()
        return self.channel.to(user)[before:]

    def button(self, user: str, start: str) -> Press:
        """The button on ``user``'s screen (the last message with buttons) whose data is
        ``start`` followed by its own fields (a preview's confirm carries the preview's mark)."""
        shown = [r for r in self.channel.to(user) if r.buttons]
        offered = [b.data for row in shown[-1].buttons for b in row] if shown else []
        found = [d for d in offered if d.startswith(f"{start}:")]
        assert len(found) == 1, f"{start!r} is not on the screen once: {offered}"
        return Press(found[0])

    async def play(self, user: str, dialog: list[tuple[DialogInput, list[str]]]) -> None:
        """Play a dialog table: each input and the texts its replies must contain, in order."""
        for step, (item, expected) in enumerate(dialog):
            replies = await self.say(user, item)
            # What a person sees: the texts and the labels of the buttons under them.
            texts = [
                r.text + "".join(f"\n[{b.label}]" for row in r.buttons for b in row)
                for r in replies
            ]
            joined = "\n---\n".join(texts)
            for want in expected:
                assert want in joined, f"step {step} {item!r}: {want!r} not in {texts}"


def leak_report(*, again: bool = False) -> list[DialogInput]:
    """A resident's whole report of a water leak (service "water" in Vlasotince).

    ``again``: the same leak is reported and open already, and this one is filed as a new one.
    """
    return [
        "/start", Press("lang:en"), Press("menu:report"), Press("cat:water_sewage"),
        "Water is gushing from a pipe on the corner", Picture(jpeg("blue")),
        Press("photos:done"), Pin(42.9661, 22.1290), *([Press("notsame:new")] if again else []),
        Press("sum:confirm"),
    ]  # fmt: skip


@pytest.fixture
def municipality() -> Municipality:
    """Vlasotince, the default municipality."""
    return load_municipality(VLASOTINCE)


@pytest.fixture
def clock() -> FakeClock:
    """A clock that stands still."""
    return FakeClock()


@pytest.fixture
def geocoder() -> FakeGeocoder:
    """A geocoder that knows a school in Vlasotince and a square in Belgrade."""
    return FakeGeocoder({"Школа": SCHOOL, "skola": SCHOOL, "school": SCHOOL, "Belgrade": FAR_AWAY})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the data folder under the test's temporary folder."""
    return Settings.from_env(
        {"BOT_DATA_DIR": str(tmp_path / "data"), "BOT_CONFIG": str(VLASOTINCE)}
    )


@pytest.fixture
async def bot(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    """The bot on a real SQLite file under ``tmp_path``."""
    channel = CollectingChannel()
    async with build_app(
        settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder
    ) as app:
        yield Bot(app, channel, clock)


# The Telegram channel against the fake Bot API, polling in the test's own event loop.


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 5) -> None:
    """Wait until ``check()`` holds (polling, not a fixed sleep); fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {seconds} s")
        await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    fake: FakeTelegramApi
    app: App
    updates: TelegramUpdates
    stop: asyncio.Event

    def texts(self, chat_id: int) -> list[str]:
        return [
            str(m.get("text") or m.get("caption") or "") for m in self.fake.sent_messages(chat_id)
        ]

    async def wait_text(self, chat_id: int, needle: str, seconds: float = 5) -> None:
        def found(_: list[Call]) -> bool:
            return any(needle in t for t in self.texts(chat_id))

        found.__qualname__ = f"a message to {chat_id} containing {needle!r}"
        await self.fake.wait_for(found, seconds)

    async def handled(self, update_id: int) -> None:
        """Wait until an update is committed, then deliver everything it caused.

        The wait for the commit has the tests' usual deadline; the delivery has none of its own:
        drawing a chart on a loaded machine takes what it takes (the suite's timeout bounds it).
        """

        async def committed() -> bool:
            row = await fetch_one(
                self.app.db.reader,
                "SELECT 1 FROM processed_updates WHERE channel = 'telegram' AND update_id = ?",
                (str(update_id),),
            )
            return row is not None

        await eventually(committed, f"update {update_id} committed")
        await self.app.sender.drain()

    def buttons(self, chat_id: int) -> list[str]:
        markup: dict[str, Any] = self.fake.sent_messages(chat_id)[-1].get("reply_markup") or {}
        return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


@asynccontextmanager
async def telegram_app(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[tuple[FakeTelegramApi, App, TelegramUpdates]]:
    """The bot with a Telegram channel talking to a fresh fake Bot API (nothing started yet)."""
    async with FakeTelegramApi() as fake:
        bot = make_bot(fake.token, fake.base_url, fake.base_file_url)
        await bot.initialize()
        channel = TelegramChannel(bot, settings.data_dir)
        try:
            async with build_app(
                settings, municipality, {"telegram": channel}, geocoder=geocoder
            ) as app:
                yield fake, app, TelegramUpdates(bot, app.dispatcher.dispatch)
        finally:
            await bot.shutdown()


@pytest.fixture
async def running(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[Running]:
    async with telegram_app(settings, municipality, geocoder) as (fake, app, updates):
        stop = asyncio.Event()
        tasks = [asyncio.create_task(app.sender.run()), asyncio.create_task(updates.poll(stop))]
        yield Running(fake, app, updates, stop)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# Operators: the bot with staff on the test channel, staff chats and e-mail collected.

WATER_CHAT = "-1001000000102"
HYGIENE_CHAT = "-1001000000105"
REF = "VLA-2026-00001"


@dataclass
class Office:
    """The bot with a resident channel, the staff chats (Telegram) and e-mail."""

    bot: Bot
    staff_chats: CollectingChannel
    mail: CollectingChannel

    async def staff(self, user: str, command: str) -> list[str]:
        return [r.text for r in await self.bot.say(user, command)]

    def chat(self, chat_id: str) -> list[Reply]:
        return self.staff_chats.to(chat_id)

    def card_data(self, chat_id: str = WATER_CHAT) -> list[str]:
        card = next(r for r in reversed(self.chat(chat_id)) if r.key.startswith("card:"))
        return [b.data for row in card.buttons for b in row]

    async def report_leak(self, user: str = "ana", *, again: bool = False) -> None:
        for item in leak_report(again=again):
            await self.bot.say(user, item)


def read_export(bot: Bot, replies: list[Reply]) -> tuple[str, dict[str, Any]]:
    """The two files /mydata sent (read from the data folder): the text, and the JSON."""
    db = bot.app.db.path
    assert db is not None
    files = {r.document.name[-4:]: (db.parent / r.document.path) for r in replies if r.document}
    assert sorted(files) == [".txt", "json"], f"/mydata sent {sorted(files)}"
    return files[".txt"].read_text(), json.loads(files["json"].read_text())


@pytest.fixture
async def office(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Office]:
    staff = (
        StaffMember("test", "boss", "Шеф", "admin", ()),
        StaffMember("test", "vesna", "Весна", "operator", ("water",)),
        StaffMember("test", "petar", "Петар", "operator", ("hygiene",)),
    )
    m = replace(municipality, staff=staff)
    residents, staff_chats, mail = (
        CollectingChannel("test"),
        CollectingChannel("telegram"),
        CollectingChannel("email"),
    )
    channels = {"test": residents, "telegram": staff_chats, "email": mail}
    async with build_app(settings, m, channels, clock=clock, geocoder=geocoder) as app:
        office = Office(Bot(app, residents, clock), staff_chats, mail)
        for user in ("boss", "vesna", "petar", "mila"):
            await office.bot.say(user, "/start")
            await office.bot.say(user, Press("lang:en"))
        yield office


def photo_files(app: App) -> set[str]:
    """The photos in the data folder, named as the database names them."""
    assert app.db.path is not None
    folder = app.db.path.parent
    return {p.relative_to(folder).as_posix() for p in (folder / "photos").rglob("*.jpg")}
