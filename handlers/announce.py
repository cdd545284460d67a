"""/announce TOPIC: an admin writes an announcement, sees the recipients, confirms, and it goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import aiosqlite

from handlers import broadcast, engine
from handlers.context import Context, Step, buttons
from handlers.events import Outgoing, Reply, Text
from handlers.flow import CommandSpec, Flow, Job, PreviewDecision, Role, Typed
from handlers.i18n import Translator
from handlers.menu import MenuState, menu_reply
from handlers.municipality import Municipality
from handlers.texts import N_, topic_name
from storage import subscriptions
from storage.subscriptions import TOPICS

MAX_TEXT = 3500


class AnnounceState(StrEnum):
    """An admin writing an announcement, then confirming it."""

    WRITE = "announce:write"
    CONFIRM = "announce:confirm"


WRITE_STATE, CONFIRM_STATE = AnnounceState


@dataclass(frozen=True, slots=True)
class AnnounceDecision(PreviewDecision):
    """Send the announcement (``ok``) or drop it (``cancel``); ``mark``: the preview's draft."""

    prefix = "an"
    role = Role.ADMIN


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
    ctx.state, ctx.draft = MenuState.MAIN, {}
    return engine.interrupt(ctx, WRITE_STATE, [Reply(text)], topic=topic)


async def take_text(ctx: Context, event: Text) -> Step:
    """Show the announcement as it will go out, with the number of recipients."""
    _ = ctx.t.gettext
    topic = str(ctx.draft.get("topic", ""))
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
    draft = {"topic": topic, "text": text}
    keys = buttons(
        [
            AnnounceDecision.under("ok", draft).button(_("✅ Send")),
            AnnounceDecision.under("cancel", draft).button(_("✖️ Cancel")),
        ]
    )
    preview = render(ctx.t, topic, text)
    return Step(CONFIRM_STATE, draft, [Reply(f"{preview.text}\n\n— {question}", keys)])


def render(t: Translator, topic: str, text: str) -> Reply:
    """The announcement as a resident gets it: the topic's name, then the admin's text."""
    return Reply(f"📢 {topic_name(t, topic)}\n\n{text}")


async def confirm(ctx: Context, press: AnnounceDecision) -> Step | None:
    """Send it, or drop it."""
    if press.action == "cancel":
        return cancel(ctx)
    if press.action != "ok" or ctx.draft.get("topic") not in TOPICS:
        return None
    topic, text = ctx.draft["topic"], ctx.draft["text"]
    recipients = await subscriptions.reachable_subscribers(ctx.conn, topic)
    progress = await broadcast.start(ctx, topic, text, recipients, lambda t: render(t, topic, text))
    return Step(MenuState.MAIN, {}, [progress])


async def _progress(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
    """The "sent / total" line of each broadcast in progress, edited in place."""
    del m
    return await broadcast.progress_updates(conn, now)


def cancel(ctx: Context) -> Step:
    """Drop the announcement."""
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, ctx.t.gettext("Cancelled."))])


FLOW = Flow(
    name="announce",
    states=AnnounceState,
    steps={(WRITE_STATE, Text): take_text, (CONFIRM_STATE, AnnounceDecision): confirm},
    hints={
        WRITE_STATE: N_("Please write the announcement as a text message, or /cancel."),
        CONFIRM_STATE: N_("Please send or cancel the announcement with the buttons."),
    },
    commands=(
        CommandSpec(
            "announce",
            command,
            role=Role.ADMIN,
            help=N_("an announcement to a topic's subscribers"),
            leaves=lambda args: args in TOPICS,  # a usage answer stays in place
        ),
    ),
    jobs=(Job("broadcast-progress", _progress, seconds=3),),
    typed={WRITE_STATE: Typed()},
    keeps=frozenset({WRITE_STATE}),
    cancel=cancel,
    role=Role.ADMIN,
)
