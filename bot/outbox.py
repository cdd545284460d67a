"""Delivers outbox rows through the channels, in order per chat, retrying what may pass."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

import aiosqlite
from aiolimiter import AsyncLimiter

from bot.charts import ChartRenderer
from handlers.events import Reply
from handlers.i18n import translator
from handlers.memories import forget_on_erasure
from handlers.ports import (
    Channel,
    Clock,
    CommandMenus,
    PermanentError,
    RetryAfterError,
    TemporaryError,
    UnreachableError,
)
from storage import message_refs, outbox, subscriptions, users
from storage.clock import parse
from storage.db import Database, Rows, watch, write_behind
from storage.outbox import NewMessage, OutboxRow, Sent

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0
GIVE_UP_AFTER = timedelta(hours=24)
ALERT_KEY = "outbox:given-up"  # the admins' alerts about given-up messages
IDLE_WAIT_S = 30.0
# matplotlib's import and first drawing take about a second of processor time and 6 MB: they wait
# for a moment when nothing has been sent for this long (not a start with updates queued).
WARM_CHARTS_WHEN_QUIET_S = 2.0
STORED_REPLIES = 512  # replies kept decoded (a few megabytes at most)


@functools.lru_cache(maxsize=STORED_REPLIES)
def stored_reply(stored: str) -> Reply:
    """The reply an outbox row's JSON keeps, decoded once for the same JSON.

    Most messages are ones sent before, to others (a menu, a question, a language's greeting):
    the same text is the same reply, and a reply is immutable, so it is shared.
    """
    return Reply.from_payload(json.loads(stored))


forget_on_erasure(stored_reply.cache_clear)  # it may quote a resident (a staff notice)


async def _carry_out(channel: Channel, chat_id: str, reply: Reply, edit: str | None) -> str | None:
    """Send a message, or set a chat's command menu (nothing to do where the messenger has none)."""
    if reply.menu is None:
        return await channel.send(chat_id, reply, edit=edit)
    if isinstance(channel, CommandMenus):
        await channel.set_menu(chat_id, reply.menu)
    return None


def backoff(attempts: int) -> float:
    """Seconds to wait before attempt number ``attempts + 1``: exponential, jittered, capped."""
    return min(MAX_BACKOFF_S, 2.0 ** min(attempts, 10)) * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not crypto


class SendLimits:
    """The messengers' limits: a global rate per channel, and a rate per chat.

    A private chat may get a short burst (3) and then 1 message/s; a group 20 messages/min
    (Telegram's numbers). Limiters of idle chats are dropped, so memory stays flat.
    """

    MAX_CHATS = 20_000

    def __init__(self, rates: Mapping[str, float], *, per_chat: bool = True) -> None:
        # A tenth of a second's worth at most in a burst, so the rate holds over any second.
        self._global = {
            name: AsyncLimiter(max(1.0, rate / 10), 0.1) for name, rate in rates.items()
        }
        self._per_chat = per_chat
        self._chats: dict[tuple[str, str], AsyncLimiter] = {}

    @staticmethod
    def is_group(chat_id: str) -> bool:
        """Whether a chat is a group (Telegram's group ids are negative)."""
        return chat_id.startswith("-")

    def chat_wait(self, channel: str, chat_id: str) -> float:
        """Seconds this chat must wait before one more message; 0 when it may have one now.

        When the chat is at its limit, one slot frees within one message's share of the period
        (3 s for a group, 1 s for a private chat): that is the wait, at most.
        """
        if channel not in self._global or not self._per_chat:
            return 0.0
        limiter = self._chat_limiter(channel, chat_id)
        return 0.0 if limiter.has_capacity() else limiter.time_period / limiter.max_rate

    async def wait(self, channel: str, chat_id: str) -> None:
        """Take one message's place in this chat's rate and the channel's (which may wait)."""
        if channel not in self._global:
            return
        if self._per_chat:
            await self._chat_limiter(channel, chat_id).acquire()
        await self._global[channel].acquire()

    def _chat_limiter(self, channel: str, chat_id: str) -> AsyncLimiter:
        key = (channel, chat_id)
        limiter = self._chats.get(key)
        if limiter is None:
            if len(self._chats) >= self.MAX_CHATS:
                self._chats = {
                    k: v for k, v in self._chats.items() if not v.has_capacity(v.max_rate)
                }
            limiter = AsyncLimiter(20, 60) if self.is_group(chat_id) else AsyncLimiter(3, 3)
            self._chats[key] = limiter
        return limiter


class OutboxSender:
    """Sends due rows; woken at once by new replies, otherwise it sleeps until the next is due.

    A row is marked ``sending`` (committed) just before its request, and ``sent`` after it: the
    sent marks wait for the next claim and are written ahead of it in the same call to the
    database thread (a call per message, not two), or on their own when nothing more is due.
    After a crash a row left ``sending`` is taken as delivered: its request had been handed to
    the messenger, which cannot be asked whether it arrived, and a duplicate announcement is
    worse than the small chance of a lost one (see ``recover``). A row whose request went out
    and whose mark waits is such a row too: it was delivered.
    """

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        clock: Clock,
        *,
        batch: int = 200,
        limits: SendLimits | None = None,
        give_up_after: timedelta = GIVE_UP_AFTER,
        charts: ChartRenderer | None = None,
        warm_charts_when_quiet: float = WARM_CHARTS_WHEN_QUIET_S,
    ) -> None:
        self._db = db
        self._charts = charts
        self._cold_charts = charts  # None once their warm-up has started
        self._warm_when_quiet = warm_charts_when_quiet
        self._last_sent_at = 0.0  # the loop's clock
        self._channels = dict(channels)
        self._clock = clock
        self._batch = batch
        self._limits = limits or SendLimits({})
        self._give_up_after = give_up_after
        self._claims: list[tuple[int, asyncio.Future[bool]]] = []
        self._sent: list[Sent] = []  # delivered, not yet marked: they ride on the next claim
        # The message ids of those (channel, chat, key) until their marks are committed: the
        # next message that edits one is sent before the reader could see it.
        self._unmarked_refs: dict[tuple[str, str, str], str] = {}
        self._wake = asyncio.Event()
        # A row is claimed after its pass has read it: two passes at once would send it twice.
        self._pass = asyncio.Lock()

    def wake(self) -> None:
        """Tell the sender there is something new to send."""
        self._wake.set()

    async def recover(self) -> int:
        """Settle the rows a crash left ``sending``; return how many there were."""
        async with self._db.transaction() as conn:
            settled = await outbox.settle_interrupted(conn, list(self._channels), self._clock.now())
        if settled:
            log.warning(
                "%d messages were being sent when the bot stopped; taken as delivered", settled
            )
        return settled

    async def run(self) -> None:
        """Deliver for ever (until cancelled), after settling what a crash interrupted."""
        await self.recover()
        loop = asyncio.get_running_loop()
        self._last_sent_at = loop.time()
        while True:
            self._wake.clear()
            try:
                sent = await self.deliver_due()
            except Exception:
                log.exception("outbox pass failed")
                sent = 0
            if sent:
                self._last_sent_at = loop.time()
            else:
                await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        wait = IDLE_WAIT_S
        next_at = await outbox.next_due_at(self._db.reader, list(self._channels))
        if next_at is not None:
            wait = max(0.0, min(wait, (parse(next_at) - self._clock.now()).total_seconds()))
        wait = self._warm_charts_when_quiet(wait)
        if wait > 0:
            # Not asyncio.wait_for: on Python 3.11 a wake-up that lands with a cancellation
            # swallows the cancellation, and the sender would go on after the bot stopped it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    def _warm_charts_when_quiet(self, wait: float) -> float:
        """Start the charts' warm-up (in the background) once nothing has been sent for a
        while; return how long the sender may sleep (not past that moment)."""
        if self._cold_charts is None:
            return wait
        quiet = asyncio.get_running_loop().time() - self._last_sent_at
        if quiet < self._warm_when_quiet:
            return min(wait, self._warm_when_quiet - quiet)
        self.warm_charts()
        return wait

    def warm_charts(self) -> threading.Thread | None:
        """Start the charts' warm-up now (else it starts at the first quiet moment); return its
        thread, or None when it has started before."""
        if self._cold_charts is None:
            return None
        thread = self._cold_charts.warm()
        self._cold_charts = None
        return thread

    async def drain(self) -> None:
        """Deliver until nothing is due now (a row waiting for a retry later stays)."""
        while await self.deliver_due():
            pass

    async def close(self) -> None:
        """Mark what was delivered and is not marked yet (a drain cut short leaves some)."""
        async with self._pass:
            await self._mark_sent()

    async def deliver_due(self) -> int:
        """Send one batch of due rows; return how many rows were handled."""
        async with self._pass:
            return await self._deliver_due()

    async def _deliver_due(self) -> int:
        now = self._clock.now()
        rows = await outbox.due(self._db.reader, list(self._channels), now, self._batch)
        # The channel's rate is taken in this order: a resident waiting for an answer (a private
        # chat) before a staff group's alerts, which are read when someone looks.
        rows.sort(key=lambda row: SendLimits.is_group(row.chat_id))
        tried = sum(await asyncio.gather(*(self._send_first(row) for row in rows)))
        if not tried:
            await self._mark_sent()  # no claim comes soon to carry the marks
        return tried

    async def _send_first(self, row: OutboxRow) -> bool:
        """Send a chat's first pending row; return whether it was tried (not put off)."""
        rest = self._limits.chat_wait(row.channel, row.chat_id)
        if rest > 0:
            # The chat is at its rate: its rows wait in the database, not in this pass, so
            # the other chats' rows (a resident's reply) go out meanwhile.
            await self._put_off(row, rest)
            return False
        await self._limits.wait(row.channel, row.chat_id)
        reply = stored_reply(row.stored)
        if reply.chart is not None:
            reply = await self._drawn(reply)
        edit = await self._message_to_edit(row, reply) if reply.edit and reply.key else None
        if not await self._claim(row.id):
            # No longer pending (its chat was given up, its resident erased): none of it goes
            # out, and the reply just decoded from it is not kept in memory either.
            stored_reply.cache_clear()
            return False
        try:
            message_id = await _carry_out(self._channels[row.channel], row.chat_id, reply, edit)
        except RetryAfterError as e:
            await self._later(row, e.seconds, f"retry_after {e.seconds}", count=False, done=e.done)
        except UnreachableError:
            await self._unreachable(row)
        except TemporaryError as e:
            await self._later(row, backoff(row.attempts), str(e)[:200], done=e.done)
        except PermanentError as e:
            log.warning("outbox row %s refused for good: %s", row.id, e)
            await self._give_up(row, "failed", str(e)[:200])
        except Exception as e:
            # A channel's bug must not leave the row "sending" (taken as sent on restart).
            log.exception("outbox row %s: unexpected error; retried later", row.id)
            await self._later(row, backoff(row.attempts), type(e).__name__)
        else:
            ref = (row.channel, row.chat_id, reply.key, message_id) if message_id else None
            self._delivered(Sent(row.id, ref if reply.key else None))
            if reply.key and ref is not None:
                # A staff chat's answer is matched to this message's id by the dispatcher (a
                # reply to the bot's question): it is committed now, not with the next claim,
                # which may wait for the pass's slowest send.
                await self._mark_sent_or_leave()
        return True

    async def _drawn(self, reply: Reply) -> Reply:
        """The reply with its chart drawn as a photo (here: no transaction is open)."""
        if self._charts is None:
            log.warning("no chart renderer is set; a chart is left out of a message")
            return Reply.from_payload({**reply.to_payload(), "chart": None})
        self._cold_charts = None  # this drawing warms them
        return await self._charts.with_picture(reply)

    async def _claim(self, row_id: int) -> bool:
        """Mark a row ``sending``; return, once committed, whether it was still pending.

        The claims of the sends going on together are one statement, and the sent marks that
        wait go ahead of it in the same call: so a message costs one call to the database
        thread, and none of its own when its claim shares a batch with the dispatcher's work.
        """
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._claims.append((row_id, done))
        if len(self._claims) == 1:
            asyncio.get_running_loop().create_task(self._flush_claims())
        return await done

    async def _flush_claims(self) -> None:
        claims, self._claims = self._claims, []
        sent, self._sent = self._sent, []
        now = self._clock.now()
        first = [
            *outbox.sent_statements(sent, now),
            outbox.claim_statement([row_id for row_id, _ in claims], now),
        ]

        async def claimed_ids(conn: aiosqlite.Connection, rows: Rows) -> set[int]:
            claimed = {int(r[0]) for r in rows[-1]}
            # The claim ran ahead of the batch's earlier works: if one of them deleted a row
            # (an erasure), the batch runs again one work at a time and this claim after it.
            for row_id in claimed:
                watch(conn, outbox.watch_key(row_id))
            return claimed

        try:
            claimed = await self._db.in_batch_reading(first, claimed_ids)
        except Exception as e:
            if not sent:
                for _, done in claims:
                    done.set_exception(e)
                return
            # The marks may be what failed: they are written on their own (or left), and the
            # claim is made alone. Put back ahead of every later claim, a mark that cannot be
            # written would fail them all, and the sender would stop for every chat.
            self._sent[:0] = sent
            await self._mark_sent_or_leave()
            try:
                claimed = await self._db.in_batch_reading(first[-1:], claimed_ids)
            except Exception as again:
                for _, done in claims:
                    done.set_exception(again)
                return
        else:
            self._marked(sent)
        for row_id, done in claims:
            done.set_result(row_id in claimed)

    def _delivered(self, sent: Sent) -> None:
        """Keep a delivered row's mark for the next claim to carry."""
        self._sent.append(sent)
        if sent.ref is not None:
            channel, chat_id, key, message_id = sent.ref
            self._unmarked_refs[channel, chat_id, key] = message_id

    async def _mark_sent(self) -> None:
        """Write the sent marks that wait, on their own (with the next call of the batch
        they join, or with its COMMIT)."""
        if not self._sent:
            return
        sent, self._sent = self._sent, []
        statements = outbox.sent_statements(sent, self._clock.now())

        async def mark(conn: aiosqlite.Connection) -> None:
            await write_behind(conn, statements)

        try:
            await self._db.in_batch(mark)
        except Exception:
            self._sent[:0] = sent
            raise
        self._marked(sent)

    async def _mark_sent_or_leave(self) -> None:
        """Write the waiting marks on their own; if that fails too, leave those rows
        ``sending``: they were delivered, and the next start takes them as sent."""
        try:
            await self._mark_sent()
        except Exception:
            left, self._sent = self._sent, []
            log.exception("%d sent marks could not be written; left as being sent", len(left))

    def _marked(self, sent: list[Sent]) -> None:
        """The marks are committed: the reader sees their message ids now."""
        for s in sent:
            if s.ref is not None:
                channel, chat_id, key, message_id = s.ref
                if self._unmarked_refs.get((channel, chat_id, key)) == message_id:
                    del self._unmarked_refs[channel, chat_id, key]

    async def _message_to_edit(self, row: OutboxRow, reply: Reply) -> str | None:
        unmarked = self._unmarked_refs.get((row.channel, row.chat_id, reply.key))
        if unmarked is not None:
            return unmarked
        return await message_refs.find(self._db.reader, row.channel, row.chat_id, reply.key)

    async def _later(
        self, row: OutboxRow, seconds: float, error: str, *, count: bool = True, done: int = 0
    ) -> None:
        """Retry a row that may pass later; give it up once it has failed for too long."""
        now = self._clock.now()
        # Parts that went out before the failure are not sent again.
        payload = {**row.payload, "done_parts": done} if done else None
        if row.failing_since and now - parse(row.failing_since) >= self._give_up_after:
            async with self._db.transaction() as conn:
                given_up = await outbox.give_up_stale(conn, row, now - self._give_up_after, error)
                await outbox.enqueue(conn, await self._alerts(conn, given_up, error), now)
            log.warning(
                "outbox row %s and %d more of its chat failed for %s; given up: %s",
                row.id, len(given_up) - 1, self._give_up_after, error,
            )  # fmt: skip
            return
        at: datetime = now + timedelta(seconds=seconds)
        async with self._db.transaction() as conn:
            await outbox.retry_later(conn, row.id, at, error, now, count=count, payload=payload)

    async def _alerts(
        self, conn: aiosqlite.Connection, given_up: list[OutboxRow], error: str
    ) -> list[NewMessage]:
        """Tell the admins, in their private chats, how many messages of a chat were given up.

        One alert per chat and pass, however many rows went. Not for an alert itself (it would
        chase its own tail) nor for a broadcast's message (the broadcast's outcome line counts
        those that failed).
        """
        told = [r for r in given_up if r.payload.get("key") != ALERT_KEY and r.broadcast_id is None]
        if not told:
            return []
        hours = round(self._give_up_after.total_seconds() / 3600)
        messages = []
        for admin in await users.admins(conn):
            tr = translator(admin.language)
            text = tr.ngettext(
                "{n} message to chat {chat} ({channel}) could not be sent {duration} and was"
                " given up; the chat's later messages go on. Last error: {error}",
                "{n} messages to chat {chat} ({channel}) could not be sent {duration} and were"
                " given up; the chat's later messages go on. Last error: {error}",
                len(told), chat=told[0].chat_id, channel=told[0].channel, error=error,
                duration=tr.ngettext("for {n} hour", "for {n} hours", hours),
            )  # fmt: skip
            reply = Reply(text, key=ALERT_KEY)
            messages.append(NewMessage(admin.channel, admin.chat_id, admin.id, reply.to_payload()))
        return messages

    async def _put_off(self, row: OutboxRow, seconds: float) -> None:
        at = self._clock.now() + timedelta(seconds=seconds)
        async with self._db.transaction() as conn:
            await outbox.put_off(conn, row.id, at)

    async def _unreachable(self, row: OutboxRow) -> None:
        # The row, not its user: a staff chat's row carries whoever acted in it, and a resident's
        # chat id is personal.
        kind = "staff" if SendLimits.is_group(row.chat_id) else "private"
        log.info(
            "outbox row %s: its %s chat is unreachable (blocked, or gone); sending to it stops",
            row.id, kind,
        )  # fmt: skip
        async with self._db.transaction() as conn:
            await users.mark_unreachable(conn, row.channel, row.chat_id)
            await subscriptions.unsubscribe_chat(conn, row.channel, row.chat_id)
            await outbox.give_up_chat(conn, row, "unreachable")

    async def _give_up(self, row: OutboxRow, status: str, error: str) -> None:
        async with self._db.transaction() as conn:
            await outbox.give_up(conn, [row.id], status, error)
