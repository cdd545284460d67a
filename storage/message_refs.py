"""Ids of the bot's own messages that it edits later (a report's card in a staff chat)."""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from storage.sql import fetch_one


async def find(conn: aiosqlite.Connection, channel: str, chat_id: str, key: str) -> str | None:
    """The id of the message sent under ``key`` to a chat, or None."""
    row = await fetch_one(
        conn,
        "SELECT message_id FROM message_refs WHERE channel = ? AND chat_id = ? AND key = ?",
        (channel, chat_id, key),
    )
    return str(row[0]) if row else None


async def remember(conn: aiosqlite.Connection, refs: Iterable[tuple[str, str, str, str]]) -> None:
    """Store (channel, chat_id, key, message_id) of messages just sent."""
    await conn.executemany(
        "INSERT INTO message_refs (channel, chat_id, key, message_id) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (channel, chat_id, key) DO UPDATE SET message_id = excluded.message_id",
        list(refs),
    )
