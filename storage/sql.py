"""Reads in one hop to the database thread.

``async with conn.execute(...) as cur`` then ``fetchone`` costs three hops (execute, fetch,
close); ``execute_fetchall`` costs one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

import aiosqlite

# Positional parameters, or named ones (:name) as a mapping.
Params = Iterable[Any] | Mapping[str, Any]
Statement = tuple[str, Params]
T = TypeVar("T")


def bound(params: Params) -> tuple[Any, ...] | Mapping[str, Any]:
    """Parameters as sqlite3 takes them."""
    return params if isinstance(params, Mapping) else tuple(params)


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> list[aiosqlite.Row]:
    """Run a query (or a statement with RETURNING) and return every row."""
    return list(await conn.execute_fetchall(sql, bound(params)))


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> aiosqlite.Row | None:
    """Run a query and return its first row, or None."""
    rows = await conn.execute_fetchall(sql, bound(params))
    return next(iter(rows), None)


async def on_thread(conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` on the connection's thread with its sqlite3 connection: one hop.

    For statements that depend on each other's results (an id that RETURNING gives); aiosqlite
    has no public call for this (see ``run_together``).
    """
    raw = conn._conn
    return cast(T, await conn._execute(work, raw))  # type: ignore[no-untyped-call]


async def run_together(
    conn: aiosqlite.Connection, statements: Sequence[Statement]
) -> list[list[sqlite3.Row]]:
    """Run statements in order in one hop to the database thread; return each one's rows.

    An event's reads (its dedupe and its conversation) and its writes (state and outbox) are a
    few statements each: one hop for each group instead of one per statement. aiosqlite has no
    public call for running a function on its thread; ``_execute`` is the one its own methods
    use (aiosqlite 0.22, pinned in requirements.lock).
    """
    if not statements:
        return []

    def run(raw: sqlite3.Connection) -> list[list[sqlite3.Row]]:
        return [raw.execute(sql, bound(params)).fetchall() for sql, params in statements]

    return await on_thread(conn, run)
