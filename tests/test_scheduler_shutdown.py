"""Stopping the bot while a job runs: the job is cut short quietly, nothing half-written."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import aiosqlite
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler import _guarded
from handlers.events import Outgoing
from handlers.municipality import Municipality
from tests.conftest import Bot, eventually


async def test_a_job_cut_short_by_the_shutdown_logs_no_error(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    started, ended = asyncio.Event(), asyncio.Event()

    async def slow(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
        await conn.execute("UPDATE users SET first_name = first_name")
        started.set()
        try:
            await asyncio.Event().wait()  # a long job: a big broadcast, a slow feed
        finally:
            ended.set()
        return []

    app = bot.app
    scheduler = AsyncIOScheduler()
    scheduler.add_job(_guarded, args=(app.db, app.deps, app.sender, "slow", slow, None))
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    with caplog.at_level(logging.INFO):
        scheduler.shutdown(wait=False)

        async def is_ended() -> bool:
            return ended.is_set()

        await eventually(is_ended, "the job ended")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "job slow was stopped by the shutdown" in caplog.text
    assert not app.db.conn.in_transaction  # its transaction was rolled back
    async with app.db.transaction() as conn:  # and the writer is free for the next one
        await conn.execute("UPDATE users SET first_name = first_name")
