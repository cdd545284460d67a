"""Announcements to many residents: each message is an outbox row that names its broadcast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.sql import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A broadcast still being sent, and where its progress is shown."""

    id: int
    admin_channel: str | None
    admin_chat: str | None
    admin_language: str | None
    total: int
    shown: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a broadcast is."""

    sent: int
    pending: int  # still to send, or being sent
    unreachable: int
    failed: int

    @property
    def done(self) -> bool:
        """Whether nothing is left to send."""
        return self.pending == 0


async def create(
    conn: aiosqlite.Connection, topic: str, text: str, admin_id: int | None,
    admin_channel: str | None, admin_chat: str | None, total: int, now: datetime,
) -> int:  # fmt: skip
    """Store a broadcast; return its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO broadcasts (topic, text, admin_id, admin_channel, admin_chat, total,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (topic, text, admin_id, admin_channel, admin_chat, total, iso(now)),
    )
    assert row is not None  # noqa: S101 - RETURNING always yields the row
    return int(row[0])


async def running(conn: aiosqlite.Connection) -> list[Broadcast]:
    """Broadcasts not finished yet."""
    rows = await fetch_all(
        conn,
        "SELECT b.id, b.admin_channel, b.admin_chat, u.language, b.total, b.shown FROM broadcasts b"
        " LEFT JOIN users u ON u.id = b.admin_id WHERE b.finished_at IS NULL ORDER BY b.id",
    )
    return [Broadcast(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5]) for r in rows]


async def set_shown(conn: aiosqlite.Connection, broadcast_id: int, shown: str) -> None:
    """Remember the progress last shown to the admin."""
    await conn.execute("UPDATE broadcasts SET shown = ? WHERE id = ?", (shown, broadcast_id))


async def progress(conn: aiosqlite.Connection, broadcast_id: int) -> Progress:
    """Count a broadcast's messages by outcome."""
    rows = await fetch_all(
        conn,
        "SELECT status, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY status",
        (broadcast_id,),
    )
    counts = {str(r[0]): int(r[1]) for r in rows}
    # A message being sent is not done yet: its request may still fail and be retried.
    left = counts.get("pending", 0) + counts.get("sending", 0)
    return Progress(
        counts.get("sent", 0), left, counts.get("unreachable", 0), counts.get("failed", 0)
    )


async def finish(conn: aiosqlite.Connection, broadcast_id: int, now: datetime) -> None:
    """Mark a broadcast as finished."""
    await conn.execute(
        "UPDATE broadcasts SET finished_at = ? WHERE id = ?", (iso(now), broadcast_id)
    )
