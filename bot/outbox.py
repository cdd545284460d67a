"""Delivers outbox rows through the channels, in order per chat, retrying what may pass."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handlers.events import Button, Reply
from handlers.ports import (
    Channel,
    Clock,
    PermanentError,
    RetryAfterError,
    TemporaryError,
    UnreachableError,
)
from storage import message_refs, outbox, subscriptions, users
from storage.clock import parse
from storage.db import Database
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF_S = 600.0
IDLE_WAIT_S = 30.0


def reply_from_payload(payload: Mapping[str, Any]) -> Reply:
    """Rebuild the reply stored in an outbox row."""
    rows = tuple(
        tuple(Button(label, data) for label, data in row) for row in payload.get("buttons", [])
    )
    return Reply(
        text=str(payload.get("text", "")),
        buttons=rows,
        keyboard=payload.get("keyboard", "none"),
        keyboard_label=str(payload.get("keyboard_label", "")),
        photos=tuple(payload.get("photos", ())),
        subject=str(payload.get("subject", "")),
        key=str(payload.get("key", "")),
        edit=bool(payload.get("edit", False)),
    )


def backoff(attempts: int) -> float:
    """Seconds to wait before attempt number ``attempts + 1``: exponential, jittered, capped."""
    return min(MAX_BACKOFF_S, 2.0 ** min(attempts, 10)) * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not crypto


@dataclass(slots=True)
class _Outcome:
    sent: list[int] = field(default_factory=list)
    refs: list[tuple[str, str, str, str]] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)


class OutboxSender:
    """Sends due rows; woken at once by new replies, otherwise it sleeps until the next is due."""

    def __init__(
        self, db: Database, channels: Mapping[str, Channel], clock: Clock, *, batch: int = 200
    ) -> None:
        self._db = db
        self._channels = dict(channels)
        self._clock = clock
        self._batch = batch
        self._wake = asyncio.Event()
        # A row is marked sent after its batch: two passes at once would send it twice.
        self._pass = asyncio.Lock()

    def wake(self) -> None:
        """Tell the sender there is something new to send."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver for ever (until cancelled)."""
        while True:
            self._wake.clear()
            try:
                sent = await self.deliver_due()
            except Exception:
                log.exception("outbox pass failed")
                sent = 0
            if sent == 0:
                await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        wait = IDLE_WAIT_S
        next_at = await outbox.next_due_at(self._db.conn, list(self._channels))
        if next_at is not None:
            wait = max(0.0, min(wait, (parse(next_at) - self._clock.now()).total_seconds()))
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def drain(self) -> None:
        """Deliver until nothing is due now (a row waiting for a retry later stays)."""
        while await self.deliver_due():
            pass

    async def deliver_due(self) -> int:
        """Send one batch of due rows; return how many rows were handled."""
        async with self._pass:
            return await self._deliver_due()

    async def _deliver_due(self) -> int:
        now = self._clock.now()
        rows = await outbox.due(self._db.conn, list(self._channels), now, self._batch)
        if not rows:
            return 0
        by_chat: dict[tuple[str, str], list[OutboxRow]] = {}
        for row in rows:
            by_chat.setdefault((row.channel, row.chat_id), []).append(row)
        outcome = _Outcome()
        await asyncio.gather(
            *(self._send_chat(chat_rows, outcome) for chat_rows in by_chat.values())
        )
        async with self._db.transaction() as conn:
            await outbox.mark_sent(conn, outcome.sent, self._clock.now())
            if outcome.refs:
                await message_refs.remember(conn, outcome.refs)
        return len(rows)

    async def _send_chat(self, rows: list[OutboxRow], outcome: _Outcome) -> None:
        """Send one chat's rows in order; stop at the first that must wait."""
        for row in rows:
            channel = self._channels[row.channel]
            reply = reply_from_payload(row.payload)
            try:
                edit = await self._message_to_edit(row, reply)
                message_id = await channel.send(row.chat_id, reply, edit=edit)
            except RetryAfterError as e:
                await self._later(row, e.seconds, f"retry_after {e.seconds}", count=False)
                return
            except UnreachableError:
                await self._unreachable(row)
                return
            except TemporaryError as e:
                await self._later(row, backoff(row.attempts), str(e)[:200])
                return
            except PermanentError as e:
                log.warning("outbox row %s refused for good: %s", row.id, e)
                await self._give_up(row, "failed", str(e)[:200])
                continue
            outcome.sent.append(row.id)
            if reply.key and message_id:
                outcome.refs.append((row.channel, row.chat_id, reply.key, message_id))

    async def _message_to_edit(self, row: OutboxRow, reply: Reply) -> str | None:
        if not (reply.key and reply.edit):
            return None
        return await message_refs.find(self._db.conn, row.channel, row.chat_id, reply.key)

    async def _later(
        self, row: OutboxRow, seconds: float, error: str, *, count: bool = True
    ) -> None:
        if count and row.attempts + 1 >= MAX_ATTEMPTS:
            await self._give_up(row, "failed", error)
            return
        at: datetime = self._clock.now() + timedelta(seconds=seconds)
        async with self._db.transaction() as conn:
            await outbox.retry_later(conn, row.id, at, error, count=count)

    async def _unreachable(self, row: OutboxRow) -> None:
        log.info("chat of user %s is unreachable; sending stops", row.user_id)
        async with self._db.transaction() as conn:
            await users.mark_unreachable(conn, row.channel, row.chat_id)
            await subscriptions.unsubscribe_chat(conn, row.channel, row.chat_id)
            await outbox.give_up_chat(conn, row.channel, row.chat_id, "unreachable")

    async def _give_up(self, row: OutboxRow, status: str, error: str) -> None:
        async with self._db.transaction() as conn:
            await outbox.give_up(conn, [row.id], status, error)
