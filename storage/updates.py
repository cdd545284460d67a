"""Messenger update ids already handled."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.clock import iso


async def claim_update(
    conn: aiosqlite.Connection, channel: str, update_id: str, now: datetime
) -> bool:
    """Record an update id inside the caller's transaction; False if it was handled before."""
    async with conn.execute(
        "INSERT INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (channel, update_id, iso(now)),
    ) as cur:
        return cur.rowcount == 1
