"""Sending one message to every subscriber of a topic, with progress shown to the admin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import aiosqlite

from handlers.context import Context
from handlers.events import Outgoing, Reply
from handlers.i18n import Translator, translator
from storage import broadcasts, outbox, subscriptions
from storage.broadcasts import Broadcast, Progress
from storage.outbox import NewMessage

Render = Callable[[Translator], Reply]
Recipient = tuple[int, str, str, str | None]


def each_once(*groups: list[Recipient]) -> list[Recipient]:
    """The recipients of several lists, each once (the first list's entry wins)."""
    found: dict[int, Recipient] = {}
    for group in groups:
        for r in group:
            found.setdefault(r[0], r)
    return list(found.values())


async def start(
    ctx: Context, topic: str, text: str, recipients: list[Recipient], render: Render
) -> Reply:
    """Queue a message to every recipient in their language; return the admin's progress line."""
    return await start_groups(ctx, topic, text, [(recipients, render)])


async def start_groups(
    ctx: Context, topic: str, text: str, groups: list[tuple[list[Recipient], Render]]
) -> Reply:
    """One broadcast whose groups of recipients each get their own message; the progress line."""
    admin = (ctx.user.id, ctx.user.channel, ctx.user.chat_id)
    broadcast_id = await queue(
        ctx.conn, topic, text, groups, ctx.now, admin, zone=ctx.municipality.timezone
    )
    total = sum(len(recipients) for recipients, _render in groups)
    return progress_reply(ctx.t, broadcast_id, Progress(0, total, 0, 0), edit=False)


async def queue(
    conn: aiosqlite.Connection,
    topic: str,
    text: str,
    groups: list[tuple[list[Recipient], Render]],
    now: datetime,
    admin: tuple[int, str, str] | None,
    *,
    zone: str,
) -> int:
    """Store a broadcast and its messages, each rendered once per group and language.

    Without an admin (the command line) nobody is shown its progress.
    """
    admin_id, admin_channel, admin_chat = admin if admin else (None, None, None)
    total = sum(len(recipients) for recipients, _render in groups)
    broadcast_id = await broadcasts.create(
        conn, topic, text, admin_id, admin_channel, admin_chat, total, now
    )
    messages = []
    for recipients, render in groups:
        rendered: dict[str | None, dict[str, object]] = {}
        for user_id, channel, chat, language in recipients:
            if language not in rendered:
                rendered[language] = render(translator(language, zone)).to_payload()
            messages.append(NewMessage(channel, chat, user_id, rendered[language], broadcast_id))
    await outbox.enqueue(conn, messages, now)
    return broadcast_id


def progress_reply(t: Translator, broadcast_id: int, p: Progress, *, edit: bool) -> Reply:
    """The admin's progress line, edited in place while the broadcast goes out."""
    total = p.sent + p.pending + p.unreachable + p.failed
    if p.done:
        text = t.gettext(
            "Sent. Delivered: {sent}, unreachable: {unreachable}, failed: {failed} (of {total}).",
            sent=p.sent, unreachable=p.unreachable, failed=p.failed, total=total,
        )  # fmt: skip
    else:
        done = p.sent + p.unreachable + p.failed
        text = t.gettext("Sending: {done} / {total}", done=done, total=total)
    return Reply(text, key=f"bc:{broadcast_id}", edit=edit)


async def progress_updates(conn: aiosqlite.Connection, now: datetime) -> list[Outgoing]:
    """Edit each running broadcast's progress line; finish those with nothing left to send."""
    out: list[Outgoing] = []
    for b in await broadcasts.running(conn):
        p = await broadcasts.progress(conn, b.id)
        shown = f"{p.sent}/{p.pending}/{p.unreachable}/{p.failed}"
        if shown != b.shown:  # a broadcast waiting on a retry is not edited again and again
            out += _progress_message(b, p)
            await broadcasts.set_shown(conn, b.id, shown)
        if p.done:
            await broadcasts.finish(conn, b.id, now)
    return out


def _progress_message(b: Broadcast, p: Progress) -> list[Outgoing]:
    if b.admin_channel is None or b.admin_chat is None:
        return []
    reply = progress_reply(translator(b.admin_language), b.id, p, edit=True)
    return [Outgoing(b.admin_channel, b.admin_chat, reply)]


async def count(ctx: Context, topic: str) -> int:
    """How many would receive a broadcast to a topic."""
    return await subscriptions.count_reachable(ctx.conn, topic)
