"""Users and their conversation state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage.clock import iso
from storage.sql import fetch_one


@dataclass(frozen=True, slots=True)
class User:
    """A person on one messenger."""

    id: int
    channel: str
    external_id: str
    chat_id: str
    first_name: str
    language: str | None
    role: str
    unreachable: bool


@dataclass(frozen=True, slots=True)
class Conversation:
    """A user with where they are in the conversation."""

    user: User
    state: str
    draft: dict[str, Any]


_SELECT = """
SELECT u.id, u.channel, u.external_id, u.chat_id, u.first_name, u.language, u.role,
       u.unreachable, c.state, c.draft
FROM users u LEFT JOIN conversations c ON c.user_id = u.id
"""


def _conversation(row: aiosqlite.Row) -> Conversation:
    user = User(
        id=row[0],
        channel=row[1],
        external_id=row[2],
        chat_id=row[3],
        first_name=row[4],
        language=row[5],
        role=row[6],
        unreachable=bool(row[7]),
    )
    return Conversation(user, row[8] or "", json.loads(row[9]) if row[9] else {})


async def load_conversation(
    conn: aiosqlite.Connection, channel: str, external_id: str
) -> Conversation | None:
    """Load a user and their conversation in one query, or None for someone new."""
    row = await fetch_one(
        conn, _SELECT + " WHERE u.channel = ? AND u.external_id = ?", (channel, external_id)
    )
    return _conversation(row) if row else None


async def load_conversation_by_id(conn: aiosqlite.Connection, user_id: int) -> Conversation | None:
    """Load a user and their conversation by the user's id."""
    row = await fetch_one(conn, _SELECT + " WHERE u.id = ?", (user_id,))
    return _conversation(row) if row else None


async def create_user(
    conn: aiosqlite.Connection,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    first_name: str,
    role: str,
    now: datetime,
) -> User:
    """Create a user (inside the caller's transaction)."""
    row = await fetch_one(
        conn,
        "INSERT INTO users (channel, external_id, chat_id, first_name, role, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (channel, external_id, chat_id, first_name, role, iso(now)),
    )
    assert row is not None  # noqa: S101 - RETURNING always yields the new row
    return User(row[0], channel, external_id, chat_id, first_name, None, role, unreachable=False)


async def save_language(conn: aiosqlite.Connection, user_id: int, language: str | None) -> None:
    """Store the user's language and script."""
    await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


async def mark_reachable(conn: aiosqlite.Connection, user_id: int) -> None:
    """A user who writes again has unblocked the bot."""
    await conn.execute("UPDATE users SET unreachable = 0 WHERE id = ?", (user_id,))


async def save_state(
    conn: aiosqlite.Connection, user_id: int, state: str, draft: dict[str, Any], now: datetime
) -> None:
    """Store where the user is in the conversation."""
    await conn.execute(
        "INSERT INTO conversations (user_id, state, draft, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, draft = excluded.draft,"
        " updated_at = excluded.updated_at",
        (user_id, state, json.dumps(draft, ensure_ascii=False), iso(now)),
    )


async def mark_unreachable(conn: aiosqlite.Connection, channel: str, chat_id: str) -> None:
    """Stop sending to a user who blocked the bot; their data stays."""
    await conn.execute(
        "UPDATE users SET unreachable = 1 WHERE channel = ? AND chat_id = ?", (channel, chat_id)
    )
