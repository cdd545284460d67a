"""/announce TOPIC: an admin writes an announcement, sees the recipients, confirms, and it goes."""

from __future__ import annotations

from handlers import broadcast
from handlers.context import Context, Step, buttons
from handlers.events import ButtonChoice, Reply, Text
from handlers.i18n import Translator
from handlers.menu import MENU_STATE, menu_reply
from handlers.texts import topic_name
from storage import subscriptions
from storage.subscriptions import TOPICS

WRITE_STATE = "announce:"
CONFIRM_STATE = "announce_confirm"
MAX_TEXT = 3500


async def command(ctx: Context, args: str) -> Step:
    """Start an announcement to a topic's subscribers."""
    topic = args.strip()
    if topic not in TOPICS:
        usage = ctx.t.gettext(
            "Usage: /announce TOPIC, where TOPIC is one of: {topics}", topics=", ".join(TOPICS)
        )
        return Step(ctx.state, ctx.draft, [Reply(usage)])
    text = ctx.t.gettext(
        "Write the announcement for: {topic}. (/cancel to stop)", topic=topic_name(ctx.t, topic)
    )
    return Step(
        f"{WRITE_STATE}{topic}", {"_resume": {"state": MENU_STATE, "draft": {}}}, [Reply(text)]
    )


async def take_text(ctx: Context, event: Text) -> Step:
    """Show the announcement as it will go out, with the number of recipients."""
    _ = ctx.t.gettext
    topic = ctx.state.removeprefix(WRITE_STATE)
    text = event.text.strip()
    if not 3 <= len(text) <= MAX_TEXT:
        return Step(
            ctx.state,
            ctx.draft,
            [Reply(_("The announcement must be 3 to {max} characters long.", max=MAX_TEXT))],
        )
    count = await subscriptions.count_reachable(ctx.conn, topic)
    question = ctx.t.ngettext(
        "Send this to {n} subscriber?", "Send this to {n} subscribers?", count
    )
    keys = buttons([(_("✅ Send"), "an:ok"), (_("✖️ Cancel"), "an:cancel")])
    preview = render(ctx.t, topic, text)
    return Step(
        CONFIRM_STATE,
        {"topic": topic, "text": text},
        [Reply(f"{preview.text}\n\n— {question}", keys)],
    )


def render(t: Translator, topic: str, text: str) -> Reply:
    """The announcement as a resident gets it: the topic's name, then the admin's text."""
    return Reply(f"📢 {topic_name(t, topic)}\n\n{text}")


async def confirm(ctx: Context, event: ButtonChoice) -> Step | None:
    """Send it, or drop it."""
    if event.data == "an:cancel":
        return Step(MENU_STATE, {}, [menu_reply(ctx, ctx.t.gettext("Cancelled."))])
    if event.data != "an:ok" or "topic" not in ctx.draft:
        return None
    topic, text = ctx.draft["topic"], ctx.draft["text"]
    recipients = await subscriptions.reachable_subscribers(ctx.conn, topic)
    progress = await broadcast.start(ctx, topic, text, recipients, lambda t: render(t, topic, text))
    return Step(MENU_STATE, {}, [progress])
