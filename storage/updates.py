"""Messenger update ids already handled."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.sql import Statement, fetch_one


def claim_statement(channel: str, update_id: str, now: datetime) -> Statement:
    """The statement that records an update id; it returns a row only the first time."""
    return (
        "INSERT INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        (channel, update_id, iso(now)),
    )


async def claim_update(
    conn: aiosqlite.Connection, channel: str, update_id: str, now: datetime
) -> bool:
    """Record an update id inside the caller's transaction; False if it was handled before."""
    inserted = await fetch_one(
        conn,
        "INSERT INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        (channel, update_id, iso(now)),
    )
    return inserted is not None


async def purge(conn: aiosqlite.Connection, before: datetime) -> None:
    """Forget update ids handled before a moment (messengers redeliver within hours)."""
    await conn.execute("DELETE FROM processed_updates WHERE at < ?", (iso(before),))
    await conn.execute("DELETE FROM report_starts WHERE at < ?", (iso(before),))
