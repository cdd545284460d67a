"""Reads in one hop to the database thread.

``async with conn.execute(...) as cur`` then ``fetchone`` costs three hops (execute, fetch,
close); ``execute_fetchall`` costs one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import aiosqlite

# Positional parameters, or named ones (:name) as a mapping.
Params = Iterable[Any] | Mapping[str, Any]


def _bound(params: Params) -> tuple[Any, ...] | Mapping[str, Any]:
    return params if isinstance(params, Mapping) else tuple(params)


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> list[aiosqlite.Row]:
    """Run a query (or a statement with RETURNING) and return every row."""
    return list(await conn.execute_fetchall(sql, _bound(params)))


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> aiosqlite.Row | None:
    """Run a query and return its first row, or None."""
    rows = await conn.execute_fetchall(sql, _bound(params))
    return next(iter(rows), None)
