"""Residents' subscriptions to topics of announcements."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.sql import fetch_all, fetch_one

TOPICS = ("consultations", "budget", "library", "communal")


async def topics_of(conn: aiosqlite.Connection, user_id: int) -> set[str]:
    """The topics a user subscribed to."""
    rows = await fetch_all(conn, "SELECT topic FROM subscriptions WHERE user_id = ?", (user_id,))
    return {str(r[0]) for r in rows}


async def toggle(conn: aiosqlite.Connection, user_id: int, topic: str, now: datetime) -> bool:
    """Turn a topic on if it was off and off if it was on; return whether it is on now."""
    removed = await fetch_one(
        conn,
        "DELETE FROM subscriptions WHERE user_id = ? AND topic = ? RETURNING 1",
        (user_id, topic),
    )
    if removed is not None:
        return False
    await conn.execute(
        "INSERT INTO subscriptions (user_id, topic, at) VALUES (?, ?, ?)",
        (user_id, topic, iso(now)),
    )
    return True


async def subscribe(
    conn: aiosqlite.Connection, user_id: int, topics: tuple[str, ...], now: datetime
) -> None:
    """Turn the topics on (those already on stay as they are)."""
    await conn.executemany(
        "INSERT INTO subscriptions (user_id, topic, at) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id, topic) DO NOTHING",
        [(user_id, topic, iso(now)) for topic in topics],
    )


async def unsubscribe_all(conn: aiosqlite.Connection, user_id: int) -> None:
    """Turn every topic off."""
    await conn.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))


async def unsubscribe_chat(conn: aiosqlite.Connection, channel: str, chat_id: str) -> None:
    """Turn every topic off for the user of a chat (who blocked the bot)."""
    await conn.execute(
        "DELETE FROM subscriptions WHERE user_id IN"
        " (SELECT id FROM users WHERE channel = ? AND chat_id = ?)",
        (channel, chat_id),
    )


async def count_reachable(conn: aiosqlite.Connection, topic: str) -> int:
    """How many reachable users subscribed to a topic."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM subscriptions s JOIN users u ON u.id = s.user_id"
        " WHERE s.topic = ? AND u.unreachable = 0",
        (topic,),
    )
    return int(row[0]) if row else 0


async def reachable_subscribers(
    conn: aiosqlite.Connection, topic: str
) -> list[tuple[int, str, str, str | None]]:
    """(user id, channel, chat, language) of every reachable subscriber of a topic."""
    rows = await fetch_all(
        conn,
        "SELECT u.id, u.channel, u.chat_id, u.language FROM subscriptions s"
        " JOIN users u ON u.id = s.user_id WHERE s.topic = ? AND u.unreachable = 0 ORDER BY u.id",
        (topic,),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


async def reachable_with_parts(
    conn: aiosqlite.Connection, topic: str
) -> list[tuple[int, str, str, str | None, str]]:
    """Every reachable subscriber of ``topic`` or of a part of it (``topic:part``), with what.

    A user who follows the topic and two of its parts comes three times, once per subscription.
    """
    rows = await fetch_all(
        conn,
        "SELECT u.id, u.channel, u.chat_id, u.language, s.topic FROM subscriptions s"
        " JOIN users u ON u.id = s.user_id WHERE (s.topic = ? OR s.topic LIKE ?)"
        " AND u.unreachable = 0 ORDER BY u.id, s.topic",
        (topic, topic + ":%"),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3], str(r[4])) for r in rows]
