"""Periodic jobs run by the bot process (the fix-confirmation timeout)."""

from __future__ import annotations

import asyncio
import logging

from bot.dispatcher import reply_payload
from bot.outbox import OutboxSender
from handlers.context import Deps
from handlers.jobs import close_unconfirmed
from storage import outbox
from storage.db import Database
from storage.outbox import NewMessage

log = logging.getLogger(__name__)
EVERY_S = 3600.0


async def run_due_jobs(db: Database, deps: Deps, sender: OutboxSender) -> int:
    """Run what is due now, in one transaction with its messages; return how many were sent."""
    async with db.transaction() as conn:
        now = deps.clock.now()
        outgoing = await close_unconfirmed(conn, deps.municipality, now)
        messages = [
            NewMessage(o.channel, o.chat_id, None, reply_payload(o.reply)) for o in outgoing
        ]
        await outbox.enqueue(conn, messages, now)
    if messages:
        sender.wake()
    return len(messages)


async def run_periodically(db: Database, deps: Deps, sender: OutboxSender) -> None:
    """Run the due jobs every hour until cancelled."""
    while True:
        try:
            await run_due_jobs(db, deps, sender)
        except Exception:
            log.exception("periodic jobs failed; they run again in an hour")
        await asyncio.sleep(EVERY_S)
