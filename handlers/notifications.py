"""Subscriptions: the topics a resident wants announcements about."""

from __future__ import annotations

from handlers.context import Context, Step, column
from handlers.events import ButtonChoice, Reply
from handlers.menu import MENU_STATE, menu_reply
from handlers.texts import topic_name
from storage import subscriptions
from storage.subscriptions import TOPICS

NOTIFY_STATE = "notify"


async def show_topics(ctx: Context, note: str | None = None) -> Step:
    """The topics with their switches (✅ on, ⬜ off)."""
    _ = ctx.t.gettext
    on = await subscriptions.topics_of(ctx.conn, ctx.user.id)
    pairs = [(("✅ " if t in on else "⬜ ") + topic_name(ctx.t, t), f"sub:{t}") for t in TOPICS]
    pairs.append((_("↩️ Main menu"), "menu:main"))
    text = _("Choose what you want to be told about. Press a topic to turn it on or off.")
    return Step(NOTIFY_STATE, {}, [Reply(f"{note}\n\n{text}" if note else text, column(pairs))])


async def toggle_topic(ctx: Context, event: ButtonChoice) -> Step | None:
    """Turn one topic on or off."""
    topic = event.data.removeprefix("sub:")
    if topic not in TOPICS:
        return None
    on = await subscriptions.toggle(ctx.conn, ctx.user.id, topic, ctx.now)
    name = topic_name(ctx.t, topic)
    if on:
        note = ctx.t.gettext("You will be told about: {topic}.", topic=name)
    else:
        note = ctx.t.gettext("You will no longer be told about: {topic}.", topic=name)
    return await show_topics(ctx, note)


async def unsubscribe(ctx: Context) -> Step:
    """Turn every topic off."""
    await subscriptions.unsubscribe_all(ctx.conn, ctx.user.id)
    text = ctx.t.gettext("All notifications are off. You can turn them on again with /subscribe.")
    return Step(MENU_STATE, {}, [menu_reply(ctx, text)])
