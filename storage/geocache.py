"""Geocoder answers cached in SQLite, so the same address is looked up once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.sql import fetch_one


@dataclass(frozen=True, slots=True)
class CachedPlace:
    """A cached answer; ``found`` is False when the geocoder knew no such place."""

    found: bool
    latitude: float | None
    longitude: float | None
    address: str | None


async def get(conn: aiosqlite.Connection, query: str) -> CachedPlace | None:
    """Return the cached answer to a query, or None when it was never asked."""
    row = await fetch_one(
        conn, "SELECT latitude, longitude, address FROM geocode_cache WHERE query = ?", (query,)
    )
    if row is None:
        return None
    return CachedPlace(row[2] is not None, row[0], row[1], row[2])


async def put(conn: aiosqlite.Connection, query: str, place: CachedPlace, now: datetime) -> None:
    """Cache an answer (a write of its own; the cache is not part of any conversation)."""
    await conn.execute(
        "INSERT INTO geocode_cache (query, latitude, longitude, address, at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (query) DO UPDATE SET latitude = excluded.latitude,"
        " longitude = excluded.longitude, address = excluded.address, at = excluded.at",
        (query, place.latitude, place.longitude, place.address, iso(now)),
    )
