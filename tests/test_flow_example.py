"""The smallest complete feature (README, "Adding a feature"): two states, a button, a command,
a job, a main-menu entry; run by the real engine on a real database, next to every other flow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

import aiosqlite
import pytest

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers import engine
from handlers.context import Context, Step, buttons
from handlers.events import Outgoing, Reply, Text
from handlers.flow import ButtonData, CommandSpec, Entry, Flow, Job, Registry
from handlers.menu import Menu, MenuState, menu_reply
from handlers.municipality import Municipality
from handlers.registry import FLOWS
from tests.conftest import Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder


# 1. The states: an enum whose values are namespaced by the feature.
class IdeaState(StrEnum):
    WRITE = "idea:write"
    CONFIRM = "idea:confirm"


# 2. A button: typed fields, packed and unpacked by the engine.
@dataclass(frozen=True, slots=True)
class IdeaDecision(ButtonData):
    prefix = "idea"
    action: str  # "send" or "drop"


IDEAS: list[str] = []  # the feature's "storage" in this example


# 3. The steps: (context, event or button) -> Step; they return replies, never send them.
async def start(ctx: Context, args: str = "") -> Step:
    del args
    return Step(IdeaState.WRITE, {}, [Reply("What is your idea?")])


async def write(ctx: Context, event: Text) -> Step:
    keys = buttons([IdeaDecision("send").button("Send"), IdeaDecision("drop").button("Drop")])
    return Step(IdeaState.CONFIRM, {"idea": event.text}, [Reply(f"Send «{event.text}»?", keys)])


async def decide(ctx: Context, press: IdeaDecision) -> Step | None:
    if press.action == "drop":
        return engine.leave_for_menu(ctx, "Dropped.")
    if press.action != "send":
        return None  # unknown data: the engine says the hint
    IDEAS.append(str(ctx.draft["idea"]))
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, "Thank you!")])


# 4. A job: what is due is computed from the database each time.
async def count_ideas(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
    del conn, now
    return [Outgoing("test", "mayor", Reply(f"{len(IDEAS)} ideas in {m.code}"))]


# 5. The declaration: one value the registry lists.
FLOW = Flow(
    name="ideas",
    states=IdeaState,
    steps={(IdeaState.WRITE, Text): write, (IdeaState.CONFIRM, IdeaDecision): decide},
    hints={
        IdeaState.WRITE: "Please write your idea as a text message.",
        IdeaState.CONFIRM: "Please send or drop the idea with the buttons.",
    },
    commands=(CommandSpec("idea", start, help="share an idea", listed=True),),
    entries=(Entry("💡 Ideas", Menu("ideas"), start, order=50),),
    jobs=(Job("ideas-count", count_ideas, seconds=3600),),
    keeps=frozenset({IdeaState.WRITE}),
)


@pytest.fixture
async def bot_with_ideas(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    IDEAS.clear()
    registry = Registry((*FLOWS, FLOW), home=MenuState.MAIN, first=MenuState.LANGUAGE)
    channel = CollectingChannel()
    async with build_app(
        settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder
    ) as app:
        app.deps = replace(app.deps, registry=registry)
        app.dispatcher._deps = app.deps
        yield Bot(app, channel, clock)


async def test_the_example_feature_runs_in_the_engine(bot_with_ideas: Bot) -> None:
    bot = bot_with_ideas
    await bot.say("ana", "/start")
    menu = (await bot.say("ana", Press("lang:en")))[1]  # the topics offered once come after
    assert "💡 Ideas" in [b.label for row in menu.buttons for b in row]
    await bot.play(
        "ana",
        [
            (Press("menu:ideas"), ["What is your idea?"]),
            (Press("idea:send"), ["Please write your idea as a text message."]),
            ("/subscribe", ["Please write your idea as a text message."]),  # kept
            ("A bench by the river", ["Send «A bench by the river»?", "[Send]", "[Drop]"]),
            (Press("idea:fly"), ["Please send or drop the idea with the buttons."]),
            (Press("idea:send"), ["Thank you!"]),
        ],
    )
    assert IDEAS == ["A bench by the river"]
    help_text = (await bot.say("ana", "/help"))[0].text
    assert "/idea - share an idea" in help_text
    app = bot.app
    assert (
        await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "ideas-count")) == 1
    )
