"""The SQLite connection: pragmas, numbered migrations and write transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

BUSY_TIMEOUT_MS = 5000


def _migrations() -> list[tuple[int, str]]:
    """Return the numbered ``.sql`` migrations in order."""
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """One aiosqlite connection shared by the process, with serialised write transactions.

    SQLite allows one writer at a time; the lock keeps the coroutines of this process from
    interleaving their statements inside each other's transactions.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) the database file and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.executescript(
            f"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            f" PRAGMA busy_timeout={BUSY_TIMEOUT_MS};"
        )
        db = cls(conn)
        await db.migrate()
        return db

    async def migrate(self) -> int:
        """Apply the migrations newer than ``PRAGMA user_version``; return the version reached."""
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        for number, sql in _migrations():
            if number <= version:
                continue
            async with self._write_lock:
                try:
                    await self.conn.executescript(
                        f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;"
                    )
                except BaseException:
                    if self.conn.in_transaction:
                        await self.conn.rollback()
                    raise
            version = number
        return version

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run a write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error)."""
        async with self._write_lock:
            if not self.conn.in_transaction:
                await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    await self.conn.rollback()
                raise
            if self.conn.in_transaction:
                await self.conn.commit()

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()
