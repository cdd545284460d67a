"""Takes one inbound event through its handler and into the outbox, in one transaction."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

import aiosqlite

from bot.locks import KeyedLocks
from handlers import engine
from handlers.context import Context, Deps, Step
from handlers.events import Blocked, Inbound, Outgoing, Reply, Sender
from handlers.flow import ReadAhead
from handlers.i18n import translator
from handlers.memories import forget_erased, forget_on_erasure
from storage import outbox, staff, updates, users
from storage.db import Database, Rows, watch, write_behind
from storage.outbox import NewMessage
from storage.sql import Statement
from storage.users import Conversation, User

log = logging.getLogger(__name__)
REMEMBERED_STATES = 10_000  # users whose state is kept in memory; older ones are read again
# Channels whose adapter answers a button press with the step's alert (Telegram's callback
# answer); on the others the alert goes to the presser's private chat.
ALERTS_ON_BUTTONS = frozenset({"telegram"})

RoleOf = Callable[[Sender], tuple[str, tuple[str, ...]]]
# SQLite's primary result codes that say "not now" (another process holds the database, the
# disk failed or is full), not "never": the event is worth handling again later.
RETRYABLE_CODES = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL}
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event, for the adapter that brought it.

    ``committed`` is False only when neither the event's effects nor an apology could be
    committed (the database was busy): the adapter must have the messenger deliver it again.
    ``alert`` is a text for the one who pressed a button only, shown on the button itself.
    """

    committed: bool
    alert: str | None = None


def is_retryable(error: BaseException) -> bool:
    """Whether a failure is the database's passing trouble (busy, locked, I/O, full)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sqlite3.OperationalError):
            code = getattr(seen, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in RETRYABLE_CODES:
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def payload_json(reply: Reply) -> str:
    """The outbox row's JSON of a reply; the same reply (a step's prompt and buttons, which
    every resident on that step gets alike) is encoded once."""
    try:
        return _payload_json(reply)
    except TypeError:  # a reply holding something unhashable is encoded as it comes
        return outbox.encode_payload(reply.to_payload())


@lru_cache(maxsize=1024)
def _payload_json(reply: Reply) -> str:
    return outbox.encode_payload(reply.to_payload())


forget_on_erasure(_payload_json.cache_clear)  # it may quote a resident (a report's summary)


class Dispatcher:
    """Runs handlers: one event at a time per user, state and replies committed together."""

    def __init__(
        self, db: Database, deps: Deps, *, role_of: RoleOf, on_outbox: Callable[[], None]
    ) -> None:
        self._db = db
        self._deps = deps
        self._role_of = role_of
        self._on_outbox = on_outbox
        self._locks = KeyedLocks()
        self._states: OrderedDict[tuple[str, str], str] = OrderedDict()
        # Events handled and handler failures by channel, for /metrics.
        self.handled: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    async def dispatch(self, event: Inbound) -> Outcome:
        """Handle one event; a handler's crash is logged and answered with an apology.

        When the database is busy nothing is committed, not even an apology: the outcome says
        so, and the messenger delivers the event again.
        """
        sender = event.sender
        key = (sender.channel, sender.user_id)
        async with self._locks.hold(key):
            state = ""
            seen: list[Conversation | None] = [None]
            alert: list[str | None] = [None]
            moved: list[tuple[str, str]] = []
            erased = [False]

            reads = self._reads_for(key, event)

            async def handle_event(conn: aiosqlite.Connection, ahead: Rows) -> None:
                # The dedupe, a new user's row and the conversation are done ahead, with the
                # batch's first hop, inside the transaction; if an earlier event of the batch
                # changes this user (a staff member's /ask), the batch runs again and reads it
                # anew.
                if event.update_id is not None and not ahead[0]:  # claimed before
                    log.info("duplicate update %s skipped", event.update_id)
                    return
                *_, rows = ahead[: len(ahead) - len(reads)]
                seen[0] = current = users.conversation_of(rows)
                if current is not None:
                    watch(conn, users.watch_key(current.user.id))
                ctx = await self._context(current, event, now)
                ctx.ahead = {
                    read.name: found[0][0] if found else None
                    for read, found in zip(reads, ahead[len(ahead) - len(reads) :], strict=True)
                }
                # Slow work chosen for a state that has changed since (an operator's /ask) is
                # not used: the step runs without it.
                ctx.lookup = lookup if ctx.state == state else None
                loaded = ctx.user
                step = await engine.handle(ctx, event)
                await self._save(ctx, step, loaded, event)
                self._remember(key, step.state)
                alert[0] = step.alert if sender.channel in ALERTS_ON_BUTTONS else None
                moved.extend(ctx.moved)
                erased[0] = ctx.erased

            try:
                lookup = None
                if engine.may_look_up(self._deps.registry, event):
                    state = await self._last_state(key)
                    # The slow work (network, disk) can fail too: the user still gets an answer.
                    lookup = await engine.look_up(self._deps, self._deps.registry, state, event)
                # The moment of the event's step, which its values read ahead are read for.
                now = self._deps.clock.now()
                first = [
                    *self._claim_statements(event, now),
                    *self._create_statements(event, now),
                    users.load_statement(*key),
                    *(read.statement(*key, now) for read in reads),
                ]
                await self._db.in_batch_reading(first, handle_event)
                committed = True
                for other in moved:  # their remembered state is stale now
                    self._states.pop(other, None)
                if erased[0]:  # committed: nothing of theirs stays in the process's memory
                    self._states.pop(key, None)
                    forget_erased()
            except Exception as e:
                self._states.pop(key, None)
                if is_retryable(e):
                    log.warning(
                        "%s not committed (database: %s); to be retried", type(event).__name__, e
                    )
                    committed = False
                else:
                    where = seen[0].state if seen[0] else state
                    log.exception("handler failed on %s in state %r", type(event).__name__, where)
                    self.failed[sender.channel] += 1
                    committed = await self._apologise(seen[0], event)
        self.handled[sender.channel] += 1
        self._on_outbox()
        return Outcome(committed, alert[0] if committed else None)

    def _reads_for(self, key: tuple[str, str], event: Inbound) -> tuple[ReadAhead, ...]:
        """The values read ahead for this event: those its user's last state may need, or all
        for a user whose state is not remembered."""
        every = self._deps.registry.reads_ahead
        state = self._states.get(key)
        if state is None:
            return every
        return tuple(read for read in every if read.wanted(state, event))

    async def _last_state(self, key: tuple[str, str]) -> str:
        """The user's state, to choose the slow work before the transaction.

        Remembered from the user's last event (a read less per event); read when not known. A
        state changed by someone else (/ask) only makes the choice of slow work stale, which
        the handler that gets the event tolerates.
        """
        state = self._states.get(key)
        if state is None:
            conversation = await users.load_conversation(self._db.reader, *key)
            state = conversation.state if conversation else ""
        return state

    def _remember(self, key: tuple[str, str], state: str) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        if len(self._states) > REMEMBERED_STATES:
            self._states.popitem(last=False)

    def _create_statements(self, event: Inbound, now: datetime) -> list[Statement]:
        """Someone not known here is stored ahead of their event, with its dedupe's hop.

        Whom the last events showed known needs no statement; one erased since is created by
        ``_context`` (a hop of its own).
        """
        s = event.sender
        if (s.channel, s.user_id) in self._states:
            return []
        claimed = event.update_id is not None
        return [staff.create_statement(self._new_user(s), now, claimed=claimed)]

    def _new_user(self, s: Sender) -> staff.NewUser:
        role, services = self._role_of(s)
        # In a group the chat is the group's; the user's own chat is their private one.
        own_chat = s.user_id if s.group else s.chat_id
        return staff.NewUser(s.channel, s.user_id, own_chat, s.first_name[:64], role, services)

    def _claim_statements(self, event: Inbound, now: datetime) -> list[Statement]:
        if event.update_id is None:
            return []
        return [updates.claim_statement(event.sender.channel, event.update_id, now)]

    async def _claim(self, event: Inbound) -> bool:
        if event.update_id is None:
            return True
        now = self._deps.clock.now()
        fresh = await updates.claim_update(
            self._db.conn, event.sender.channel, event.update_id, now
        )
        if not fresh:
            log.info("duplicate update %s skipped", event.update_id)
        return fresh

    async def _context(
        self, conversation: Conversation | None, event: Inbound, now: datetime
    ) -> Context:
        if conversation is None:  # not created ahead: their remembered state said known
            new = self._new_user(event.sender)
            if new.role == "resident":  # unless an admin added them with /staff add
                user = await staff.create_user(
                    self._db.conn, channel=new.channel, external_id=new.external_id,
                    chat_id=new.chat_id, first_name=new.first_name, now=now,
                )  # fmt: skip
            else:
                user = await users.create_user(
                    self._db.conn, channel=new.channel, external_id=new.external_id,
                    chat_id=new.chat_id, first_name=new.first_name, role=new.role,
                    services=new.services, now=now,
                )  # fmt: skip
            conversation = Conversation(user, "", {})
        return Context(
            deps=self._deps,
            conn=self._db.conn,
            user=conversation.user,
            state=conversation.state,
            draft=dict(conversation.draft),
            now=now,
            chat_id=event.sender.chat_id,
        )

    async def _save(self, ctx: Context, step: Step, loaded: User, event: Inbound) -> None:
        user = replace(loaded, language=step.language) if step.language else loaded
        # The event's writes go in one hop to the database thread.
        writes: list[Statement] = []
        if user.language != loaded.language:
            writes.append(users.language_statement(user.id, user.language))
        if user.unreachable and not isinstance(event, Blocked):
            writes.append(users.reachable_statement(user.id))
        writes.append(users.state_statement(user.id, step.state, step.draft, ctx.now))
        # Replies go to the chat the event came from (a staff group, or the private chat).
        chat = event.sender.chat_id
        messages = [NewMessage(user.channel, chat, user.id, payload_json(r)) for r in step.replies]
        messages += [self._outgoing(o) for o in step.outgoing]
        if step.alert and event.sender.channel not in ALERTS_ON_BUTTONS:
            # No answer on the button here: the presser alone reads it, in their private chat.
            reply = Reply(step.alert).to_payload()
            messages.append(NewMessage(user.channel, user.chat_id, user.id, reply))
        # Nothing reads them back: they go with the next call (the next event's, or COMMIT).
        await write_behind(self._db.conn, [*writes, *outbox.enqueue_statements(messages, ctx.now)])

    @staticmethod
    def _outgoing(o: Outgoing) -> NewMessage:
        return NewMessage(o.channel, o.chat_id, o.about, payload_json(o.reply))

    async def _apologise(self, conversation: Conversation | None, event: Inbound) -> bool:
        """Answer a failed event so the user is not left waiting; their state is unchanged.

        Returns False when the database's passing trouble kept it from being committed (the
        event is to be delivered again); any other failure is logged and the event given up.
        """
        if conversation is None:
            with contextlib.suppress(Exception):  # read only for the user's language
                s = event.sender
                conversation = await users.load_conversation(self._db.reader, s.channel, s.user_id)
        user = conversation.user if conversation else None
        text = translator(user.language if user else None).gettext(
            "Sorry, something went wrong on our side. Please try again."
        )
        s = event.sender
        try:
            async with self._db.transaction() as conn:
                await self._claim(event)
                message = NewMessage(
                    s.channel, s.chat_id, user.id if user else None, Reply(text).to_payload()
                )
                await outbox.enqueue(conn, [message], self._deps.clock.now())
        except Exception as e:
            log.exception("could not record the apology")
            return not is_retryable(e)
        return True
