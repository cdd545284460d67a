"""The periodic jobs on APScheduler 3 (AsyncIOScheduler, Europe/Belgrade).

Every job reads what is due from the database and writes its messages to the outbox in the same
transaction as the marks that say it was done, so a job that runs twice sends nothing twice and
a job missed while the bot was down does its work at the first run after the start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import aiosqlite
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.outbox import OutboxSender
from handlers.context import Deps
from handlers.events import Outgoing
from handlers.flow import PrepareFn, Registry
from handlers.municipality import Municipality
from storage import outbox
from storage.db import Database
from storage.outbox import NewMessage

log = logging.getLogger(__name__)

Job = Callable[[aiosqlite.Connection, Municipality, datetime], Awaitable[list[Outgoing]]]


async def run_job(db: Database, deps: Deps, sender: OutboxSender, job: Job) -> int:
    """Run one job in one transaction with its messages; return how many messages it wrote."""
    async with db.transaction() as conn:
        now = deps.clock.now()
        outgoing = await job(conn, deps.municipality, now)
        messages = [
            NewMessage(o.channel, o.chat_id, o.about, o.reply.to_payload()) for o in outgoing
        ]
        await outbox.enqueue(conn, messages, now)
    if messages:
        sender.wake()
    return len(messages)


def make_scheduler(db: Database, deps: Deps, sender: OutboxSender) -> AsyncIOScheduler:
    """A scheduler with every job, each first run at once (catching up what was missed)."""
    zone = ZoneInfo(deps.municipality.timezone)
    scheduler = AsyncIOScheduler(timezone=zone)
    now = datetime.now(zone)
    for job in deps.registry.jobs:
        args = (db, deps, sender, job.name, job.run, job.prepare)
        if job.at is not None:
            trigger = CronTrigger(hour=job.at.hour, minute=job.at.minute, timezone=zone)
            scheduler.add_job(
                _guarded, trigger, args=args, id=job.name, next_run_time=now, coalesce=True,
                max_instances=1, misfire_grace_time=None,
            )  # fmt: skip
            continue
        scheduler.add_job(
            _guarded, "interval", seconds=job.seconds, args=args, id=job.name,
            next_run_time=now, coalesce=True, max_instances=1, misfire_grace_time=None,
        )  # fmt: skip
    # The outbox sweep: rows whose retry time has come are picked up even if nothing wakes it.
    scheduler.add_job(sender.wake, "interval", seconds=30, id="outbox-sweep", next_run_time=now)
    return scheduler


async def _guarded(
    db: Database, deps: Deps, sender: OutboxSender, name: str, job: Job,
    prepare: PrepareFn | None = None,
) -> bool:  # fmt: skip
    """Run a job; False when it failed (the scheduler's listeners count it)."""
    try:
        if prepare is not None:  # slow work first, outside the transaction
            job = await prepare(deps.municipality, deps.clock.now())
        await run_job(db, deps, sender, job)
    except asyncio.CancelledError:
        # The bot is stopping (the scheduler cancels what runs): the transaction was rolled
        # back, and the job's marks make it do the rest at its first run after the start.
        # Not re-raised: APScheduler would log the cancellation as the job's crash.
        log.info("job %s was stopped by the shutdown; it runs again after the start", name)
        return False
    except Exception:
        log.exception("job %s failed; it runs again at its next time", name)
        return False
    return True


def find_job(registry: Registry, name: str) -> Job:
    """The job of that name, as a feature declares it."""
    return next(job.run for job in registry.jobs if job.name == name)
