"""Reports of the same problem: the open ones near a point, and the residents who follow one.

A follower reported a problem that was already reported ("me too"): they get the report's news
as its reporter does and see it under My reports, but they are not its reporter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import status
from storage.clock import iso, parse
from storage.sql import fetch_all, fetch_one

# The kind of history entry of a follower's part of a report: the description and photos of
# the same problem that they gave instead of filing their own report (staff only, never public).
FOLLOWER_PART = "follower"

METRES_PER_DEGREE = 111_195.0  # of latitude (a mean Earth radius of 6,371 km)
API_CHANNEL = "open311"  # reports filed by other software: nobody to tell


@dataclass(frozen=True, slots=True)
class Nearby:
    """An open report near a point: what a resident may be shown of it (no name, no contact)."""

    id: int
    ref: str
    status: str
    created_at: datetime
    description: str
    photo: str | None
    metres: float


@dataclass(frozen=True, slots=True)
class Chat:
    """Where to tell one follower, and in which language."""

    user_id: int
    channel: str
    chat_id: str
    language: str | None


async def nearby_open(
    conn: aiosqlite.Connection,
    category: str,
    latitude: float,
    longitude: float,
    radius_m: float,
    limit: int = 3,
) -> list[Nearby]:
    """Open reports of ``category`` within ``radius_m`` of a point, nearest first (one query).

    A box around the point narrows the rows through ``reports_by_category_place``; the distance
    is the equirectangular one, which within a few hundred metres differs from the great-circle
    distance by far less than a GPS fix does.
    """
    per_lon = METRES_PER_DEGREE * math.cos(math.radians(latitude))
    d_lat = radius_m / METRES_PER_DEGREE
    d_lon = radius_m / per_lon if per_lon > 1 else 180.0
    rows = await fetch_all(
        conn,
        "SELECT id, ref, status, created_at, description, photo, dist2 FROM ("  # noqa: S608
        " SELECT r.id, r.ref, r.status, r.created_at, r.description,"
        "  (SELECT p.path FROM report_photos p WHERE p.report_id = r.id"
        "   ORDER BY p.position LIMIT 1) AS photo,"
        "  ((r.latitude - :lat) * :per_lat) * ((r.latitude - :lat) * :per_lat)"
        "  + ((r.longitude - :lon) * :per_lon) * ((r.longitude - :lon) * :per_lon) AS dist2"
        " FROM reports r WHERE r.category = :category"
        "  AND r.latitude BETWEEN :lat - :d_lat AND :lat + :d_lat"
        "  AND r.longitude BETWEEN :lon - :d_lon AND :lon + :d_lon"
        f"  AND r.status IN ({_named(status.OPEN)})"
        ") WHERE dist2 <= :r2 ORDER BY dist2, id LIMIT :limit",
        {
            "lat": latitude, "lon": longitude, "per_lat": METRES_PER_DEGREE, "per_lon": per_lon,
            "d_lat": d_lat, "d_lon": d_lon, "category": category, "r2": radius_m * radius_m,
            "limit": limit, **_named_values(status.OPEN),
        },
    )  # fmt: skip
    return [Nearby(r[0], r[1], r[2], parse(r[3]), r[4], r[5], math.sqrt(r[6])) for r in rows]


def _named(statuses: tuple[status.Status, ...]) -> str:
    return ", ".join(f":s{i}" for i in range(len(statuses)))


def _named_values(statuses: tuple[status.Status, ...]) -> dict[str, str]:
    return {f"s{i}": str(s) for i, s in enumerate(statuses)}


async def follow(conn: aiosqlite.Connection, report_id: int, user_id: int, now: datetime) -> bool:
    """Make a resident a follower of a report; False when they follow it already."""
    row = await fetch_one(
        conn,
        "INSERT INTO report_followers (report_id, user_id, at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        (report_id, user_id, iso(now)),
    )
    return row is not None


async def is_following(conn: aiosqlite.Connection, report_id: int, user_id: int) -> bool:
    """Whether a resident follows a report."""
    row = await fetch_one(
        conn,
        "SELECT 1 FROM report_followers WHERE report_id = ? AND user_id = ?",
        (report_id, user_id),
    )
    return row is not None


async def move(
    conn: aiosqlite.Connection, duplicate_id: int, original_id: int, now: datetime
) -> list[int]:
    """Make the reporter and the followers of a duplicate followers of the original.

    Returns the residents moved (the original's own reporter is not its follower).
    """
    moved = [int(r[0]) for r in await fetch_all(
        conn,
        "SELECT user_id FROM report_followers WHERE report_id = :dup"
        " UNION SELECT user_id FROM reports WHERE id = :dup"
        " EXCEPT SELECT user_id FROM reports WHERE id = :original",
        {"dup": duplicate_id, "original": original_id},
    )]  # fmt: skip
    await conn.executemany(
        "INSERT INTO report_followers (report_id, user_id, at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(original_id, user_id, iso(now)) for user_id in moved],
    )
    await conn.execute("DELETE FROM report_followers WHERE report_id = ?", (duplicate_id,))
    return sorted(moved)


async def chats(conn: aiosqlite.Connection, user_ids: Iterable[int]) -> list[Chat]:
    """Where to tell these residents (those with a chat: not erased, not the Open311 API)."""
    wanted = list(user_ids)
    if not wanted:
        return []
    marks = ", ".join("?" for _ in wanted)
    rows = await fetch_all(
        conn,
        f"SELECT id, channel, chat_id, language FROM users WHERE id IN ({marks})"  # noqa: S608
        " AND chat_id != '' AND channel != ? ORDER BY id",
        [*wanted, API_CHANNEL],
    )
    return [Chat(r[0], r[1], r[2], r[3]) for r in rows]


async def follower_chats(conn: aiosqlite.Connection, report_id: int) -> list[Chat]:
    """Where to tell the followers of a report (one query)."""
    rows = await fetch_all(
        conn,
        "SELECT u.id, u.channel, u.chat_id, u.language FROM report_followers f"
        " JOIN users u ON u.id = f.user_id WHERE f.report_id = ?"
        " AND u.chat_id != '' AND u.channel != ? ORDER BY u.id",
        (report_id, API_CHANNEL),
    )
    return [Chat(r[0], r[1], r[2], r[3]) for r in rows]
