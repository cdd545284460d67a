"""The outbox: every message to send, written with the change that caused it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import aiosqlite

from storage.clock import iso
from storage.sql import Statement, fetch_all, fetch_one

# The outbox row ``o`` is the first pending message of its chat.
_FIRST_OF_ITS_CHAT = (
    " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.status = 'pending'"
    " AND e.channel = o.channel AND e.chat_id = o.chat_id AND e.id < o.id)"
)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message waiting to be sent; ``stored`` is its payload's JSON as stored.

    The JSON is decoded only where it is used: the sender reads most messages as replies it has
    read before (the same menu, the same question), and keeps those decoded.
    """

    id: int
    channel: str
    chat_id: str
    user_id: int | None
    stored: str
    attempts: int
    failing_since: str | None = None  # when its current run of failures began
    broadcast_id: int | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """The payload, decoded."""
        return cast(dict[str, Any], json.loads(self.stored))


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to enqueue: its payload as a mapping, or as the JSON ``encode_payload`` made of
    one (a reply that many get alike is encoded once)."""

    channel: str
    chat_id: str
    user_id: int | None
    payload: dict[str, Any] | str
    broadcast_id: int | None = None


def enqueue_statements(messages: Iterable[NewMessage], now: datetime) -> list[Statement]:
    """The statements of ``enqueue``, to run together with others."""
    at = iso(now)
    sql = (
        "INSERT INTO outbox (channel, chat_id, user_id, payload, next_attempt_at, created_at,"
        " broadcast_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    return [
        (sql, (m.channel, m.chat_id, m.user_id, _stored(m.payload), at, at, m.broadcast_id))
        for m in messages
    ]


# One encoder for every row (json.dumps makes one per call when given options); compact, and
# text as it is (not \u-escaped: shorter, and an erasure finds a resident's words in it).
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
encode_payload = _json  # how a payload is stored, for a caller that encodes it ahead


def _stored(payload: dict[str, Any] | str) -> str:
    return payload if isinstance(payload, str) else _json(payload)


async def enqueue(
    conn: aiosqlite.Connection, messages: Iterable[NewMessage], now: datetime
) -> None:
    """Add messages to the outbox inside the caller's transaction."""
    at = iso(now)
    await conn.executemany(
        "INSERT INTO outbox (channel, chat_id, user_id, payload, next_attempt_at, created_at,"
        " broadcast_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                m.channel,
                m.chat_id,
                m.user_id,
                _stored(m.payload),
                at,
                at,
                m.broadcast_id,
            )
            for m in messages
        ],
    )


async def due(
    conn: aiosqlite.Connection, channels: Sequence[str], now: datetime, limit: int
) -> list[OutboxRow]:
    """Return the first pending message of each chat, where it is due, oldest first.

    One message per chat and pass: a chat's messages go out in order, and a chat with many
    (a staff group's burst of alerts) takes its turn with the others instead of holding a pass.
    """
    marks = ",".join("?" * len(channels))
    # Only placeholders are formatted in.
    sql = (
        "SELECT id, channel, chat_id, user_id, payload, attempts, failing_since,"  # noqa: S608
        " broadcast_id"
        " FROM outbox AS o"
        f" WHERE status = 'pending' AND next_attempt_at <= ? AND channel IN ({marks})"
        + _FIRST_OF_ITS_CHAT
        # Replies and notices before broadcasts: nobody waits behind ten thousand announcements.
        + " ORDER BY broadcast_id IS NOT NULL, id LIMIT ?"
    )
    rows = await fetch_all(conn, sql, (iso(now), *channels, limit))
    return [OutboxRow(*r) for r in rows]


async def next_due_at(conn: aiosqlite.Connection, channels: Sequence[str]) -> str | None:
    """Return when the next pending message can go, or None when nothing is pending.

    A chat's messages go in order, so a chat can go when its first pending message is due: the
    ones queued behind a message that waits for a retry are not due before it, however old.
    """
    marks = ",".join("?" * len(channels))
    row = await fetch_one(
        conn,
        "SELECT MIN(next_attempt_at) FROM outbox AS o"  # noqa: S608 - only placeholders
        f" WHERE status = 'pending' AND channel IN ({marks})" + _FIRST_OF_ITS_CHAT,
        channels,
    )
    return str(row[0]) if row and row[0] else None


async def put_off(conn: aiosqlite.Connection, row_id: int, at: datetime) -> None:
    """Reschedule a pending message (its chat must wait for its rate): the chat's later
    messages wait behind it, and a pass does not wait for them."""
    await conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'pending'",
        (iso(at), row_id),
    )


# A claimed row deleted in the claim's batch (an erasure's) is told to the writer, like a
# user's rows (storage.users.WATCH_TRIGGERS): a claim that ran ahead of it is not used.
WATCH_TRIGGERS = (
    "CREATE TEMP TRIGGER IF NOT EXISTS watch_outbox_delete AFTER DELETE ON main.outbox"
    " WHEN OLD.status = 'sending' BEGIN SELECT touched('outbox', OLD.id); END;"
)


def watch_key(row_id: int) -> str:
    """The key under which the triggers tell that a row being sent was deleted."""
    return f"outbox:{row_id}"


def claim_statement(row_ids: Sequence[int], now: datetime) -> Statement:
    """Mark messages ``sending`` (their requests go out next); its rows are the ids marked.

    Compare-and-set: only a pending row is taken, so a message given up in the meantime (its
    chat became unreachable) stays as it is and is not sent. In a batch it runs ahead of the
    works queued before it: the work that reads its rows watches them (``watch_key``), so an
    earlier work that deletes one (an erasure) has the batch run again one work at a time.
    """
    marks = ",".join("?" * len(row_ids))
    return (
        "UPDATE outbox SET status = 'sending', sent_at = ?, attempts = attempts + 1"  # noqa: S608
        f" WHERE status = 'pending' AND id IN ({marks}) RETURNING id",
        (iso(now), *row_ids),
    )


# The id of a message sent under a key, kept once its row is marked sent (to edit it later).
_REMEMBER_IF_SENT = (
    "INSERT INTO message_refs (channel, chat_id, key, message_id) SELECT ?, ?, ?, ?"
    " WHERE EXISTS (SELECT 1 FROM outbox WHERE id = ? AND status = 'sent')"
    " ON CONFLICT (channel, chat_id, key) DO UPDATE SET message_id = excluded.message_id"
)


@dataclass(frozen=True, slots=True)
class Sent:
    """A message that went out, to be marked so; ``ref`` is (channel, chat_id, key,
    message_id) when it is one the bot edits later."""

    row_id: int
    ref: tuple[str, str, str, str] | None = None


def sent_statements(sent: Sequence[Sent], now: datetime) -> list[Statement]:
    """Mark messages being sent as ``sent``, and keep the ids of those edited later.

    Statements whose results nobody reads, to run ahead of another call: a row that is no
    longer being sent (given up, erased) stays as it is, and its message id is not kept.
    """
    if not sent:
        return []
    marks = ",".join("?" * len(sent))
    statements: list[Statement] = [
        (
            "UPDATE outbox SET status = 'sent', sent_at = ?"  # noqa: S608 - only placeholders
            f" WHERE status = 'sending' AND id IN ({marks})",
            (iso(now), *(s.row_id for s in sent)),
        )
    ]
    statements += [(_REMEMBER_IF_SENT, (*s.ref, s.row_id)) for s in sent if s.ref is not None]
    return statements


async def settle_interrupted(
    conn: aiosqlite.Connection, channels: Sequence[str], now: datetime
) -> int:
    """Take messages left ``sending`` by a crash as sent; return how many."""
    marks = ",".join("?" * len(channels))
    rows = await fetch_all(
        conn,
        "UPDATE outbox SET status = 'sent', sent_at = ?,"  # noqa: S608 - only placeholders
        " error = 'interrupted; taken as delivered'"
        f" WHERE status = 'sending' AND channel IN ({marks}) RETURNING id",
        (iso(now), *channels),
    )
    return len(rows)


async def retry_later(
    conn: aiosqlite.Connection,
    row_id: int,
    at: datetime,
    error: str,
    now: datetime,
    *,
    count: bool = True,
    payload: dict[str, Any] | None = None,
) -> None:
    """Put a message back for a later attempt (with a new payload when part of it went out);
    its run of failures began ``now`` unless it had begun before."""
    await conn.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, error = ?,"
        " attempts = attempts + ?, payload = COALESCE(?, payload),"
        " failing_since = COALESCE(failing_since, ?) WHERE id = ? AND status = 'sending'",
        (
            iso(at), error, 0 if count else -1,
            _json(payload) if payload is not None else None, iso(now),
            row_id,
        ),
    )  # fmt: skip


async def give_up(
    conn: aiosqlite.Connection, row_ids: Sequence[int], status: str, error: str
) -> None:
    """Stop trying messages being sent: ``unreachable`` (the user blocked the bot) or ``failed``."""
    await conn.executemany(
        "UPDATE outbox SET status = ?, error = ? WHERE id = ? AND status = 'sending'",
        [(status, error, i) for i in row_ids],
    )


async def give_up_stale(
    conn: aiosqlite.Connection, row: OutboxRow, queued_before: datetime, error: str
) -> list[OutboxRow]:
    """Give up a message being sent and its chat's pending ones queued before ``queued_before``.

    The chat has failed for as long as the cap: the messages that waited behind it as long would
    each hold it for one more cap (and tell the admins once each). Return those given up.
    """
    rows = await fetch_all(
        conn,
        "UPDATE outbox SET status = 'failed', error = ?"
        " WHERE (id = ? AND status = 'sending') OR (status = 'pending' AND channel = ?"
        " AND chat_id = ? AND created_at <= ?)"
        " RETURNING id, channel, chat_id, user_id, payload, attempts, failing_since, broadcast_id",
        (error, row.id, row.channel, row.chat_id, iso(queued_before)),
    )
    given_up = [OutboxRow(*r) for r in rows]
    return sorted(given_up, key=lambda r: r.id)


async def give_up_chat(conn: aiosqlite.Connection, row: OutboxRow, status: str) -> None:
    """Stop a chat's message being sent and every one pending (the user blocked the bot).

    The chat's other rows still ``sending`` went out before it (their marks wait, or could not
    be written): they were delivered, and stay so.
    """
    await conn.execute(
        "UPDATE outbox SET status = ?, error = ? WHERE (id = ? AND status = 'sending')"
        " OR (status = 'pending' AND channel = ? AND chat_id = ?)",
        (status, status, row.id, row.channel, row.chat_id),
    )


async def pending_count(conn: aiosqlite.Connection) -> int:
    """Count messages not yet sent."""
    row = await fetch_one(conn, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
    return int(row[0]) if row else 0


async def purge(conn: aiosqlite.Connection, before: datetime) -> None:
    """Forget messages delivered or given up before a moment (pending ones always stay)."""
    await conn.execute(
        "DELETE FROM outbox WHERE status IN ('sent', 'failed', 'unreachable') AND created_at < ?",
        (iso(before),),
    )
