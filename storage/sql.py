"""Reads in one hop to the database thread.

``async with conn.execute(...) as cur`` then ``fetchone`` costs three hops (execute, fetch,
close); ``execute_fetchall`` costs one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiosqlite


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> list[aiosqlite.Row]:
    """Run a query (or a statement with RETURNING) and return every row."""
    return list(await conn.execute_fetchall(sql, tuple(params)))


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> aiosqlite.Row | None:
    """Run a query and return its first row, or None."""
    rows = await conn.execute_fetchall(sql, tuple(params))
    return next(iter(rows), None)
