"""Subscriptions: the topics a resident wants announcements about."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from handlers.context import Context, Step, column
from handlers.events import Reply
from handlers.flow import Anywhere, ButtonData, CommandSpec, Entry, Flow
from handlers.i18n import translator
from handlers.menu import MAIN, Menu, MenuState, main_menu_button, menu_reply
from handlers.texts import N_, topic_name
from storage import subscriptions
from storage.subscriptions import TOPICS


class NotifyState(StrEnum):
    """Looking at the topics one is told about."""

    TOPICS = "notify:topics"


NOTIFY_STATE = NotifyState.TOPICS


@dataclass(frozen=True, slots=True)
class Topic(ButtonData):
    """Turn one topic on or off."""

    prefix = "sub"
    topic: str


ALL = "all"  # every topic at once


async def show_topics(ctx: Context, note: str | None = None) -> Step:
    """The topics with their switches (✅ on, ⬜ off)."""
    _ = ctx.t.gettext
    on = await subscriptions.topics_of(ctx.conn, ctx.user.id)
    choices = [
        Topic(t).button(("✅ " if t in on else "⬜ ") + topic_name(ctx.t, t)) for t in TOPICS
    ]
    choices.append(main_menu_button(ctx))
    text = _("Choose what you want to be told about. Press a topic to turn it on or off.")
    return Step(NOTIFY_STATE, {}, [Reply(f"{note}\n\n{text}" if note else text, column(choices))])


def offer_topics(ctx: Context) -> list[Reply]:
    """Once, after a new resident's first language: the topics (all off), all, or not now."""
    return [topics_offer(ctx.t.language)]


@lru_cache(maxsize=16)
def topics_offer(language: str) -> Reply:
    """The offer of the topics in a language (the same for every new resident: made once)."""
    t = translator(language)
    _ = t.gettext
    choices = [Topic(topic).button("⬜ " + topic_name(t, topic)) for topic in TOPICS]
    choices += [Topic(ALL).button(_("✅ All of them")), MAIN.button(_("⏭ Not now"))]
    text = _(
        "Would you like news from the municipality? Choose the topics you want to be told"
        " about; you can change them any time under Notifications."
    )
    return Reply(text, column(choices))


async def toggle_topic(ctx: Context, press: Topic) -> Step | None:
    """Turn one topic on or off (or every topic on)."""
    topic = press.topic
    if topic == ALL:
        await subscriptions.subscribe(ctx.conn, ctx.user.id, TOPICS, ctx.now)
        names = ", ".join(topic_name(ctx.t, t) for t in TOPICS)
        return await show_topics(
            ctx, ctx.t.gettext("You will be told about: {topic}.", topic=names)
        )
    if topic not in TOPICS:
        return None
    on = await subscriptions.toggle(ctx.conn, ctx.user.id, topic, ctx.now)
    name = topic_name(ctx.t, topic)
    if on:
        note = ctx.t.gettext("You will be told about: {topic}.", topic=name)
    else:
        note = ctx.t.gettext("You will no longer be told about: {topic}.", topic=name)
    return await show_topics(ctx, note)


async def unsubscribe(ctx: Context, args: str = "") -> Step:
    """Turn every topic off."""
    del args
    await subscriptions.unsubscribe_all(ctx.conn, ctx.user.id)
    text = ctx.t.gettext("All notifications are off. You can turn them on again with /subscribe.")
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])


async def _topics(ctx: Context, args: str = "") -> Step:
    del args
    return await show_topics(ctx)


FLOW = Flow(
    name="notifications",
    states=NotifyState,
    hints={NOTIFY_STATE: N_("Please press a topic to turn it on or off.")},
    prompts={NOTIFY_STATE: lambda ctx: [menu_reply(ctx)]},
    anywhere={Topic: Anywhere(toggle_topic)},
    commands=(
        CommandSpec("subscribe", _topics, help=N_("choose the news you get"), listed=True),
        CommandSpec("notifications", _topics),
        CommandSpec("unsubscribe", unsubscribe, help=N_("stop all news")),
    ),
    entries=(Entry(N_("🔔 Notifications"), Menu("notify"), show_topics, order=40),),
    greeting=offer_topics,
)
