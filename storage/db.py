"""The SQLite connection: pragmas, numbered migrations and write transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from storage.sql import fetch_one

BUSY_TIMEOUT_MS = 5000
MAX_BATCH = 64
T = TypeVar("T")
_Work = tuple[Callable[[aiosqlite.Connection], Awaitable[Any]], "asyncio.Future[Any]"]


class DatabaseTooNewError(Exception):
    """The database was migrated by a newer version of the code than this one."""

    def __init__(self, path: Path, version: int, known: int) -> None:
        super().__init__(
            f"the database {path} is at schema version {version}, but this version of"
            f" moja-opstina knows only up to {known}: install the newer version again"
            " (or restore a backup taken before the upgrade)"
        )


def latest_version() -> int:
    """The schema version that this code's migrations reach."""
    return max(number for number, _ in _migrations())


def _migrations() -> list[tuple[int, str]]:
    """Return the numbered ``.sql`` migrations in order."""
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


async def _connect(path: Path, *, read_only: bool = False) -> aiosqlite.Connection:
    target = f"file:{path}?mode=ro" if read_only else str(path)
    conn = await aiosqlite.connect(target, isolation_level=None, uri=read_only)
    conn.row_factory = sqlite3.Row
    # secure_delete: what an erasure deletes is overwritten in the file, not left in free space
    # (some builds of SQLite have it on by default, not all).
    pragmas = (
        "PRAGMA query_only=ON;"
        if read_only
        else ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;")
    )
    await conn.executescript(
        f"{pragmas} PRAGMA foreign_keys=ON; PRAGMA busy_timeout={BUSY_TIMEOUT_MS};"
    )
    return conn


class Database:
    """The process's two aiosqlite connections: the writer, with serialised write transactions,
    and a reader that sees committed data only.

    SQLite allows one writer at a time; the lock keeps the coroutines of this process from
    interleaving their statements inside each other's transactions. The writer's connection
    sees its own uncommitted rows (a group-commit batch may be open at any await), so whatever
    runs outside a write transaction (the outbox sender, caches, the dispatcher's look-ahead)
    reads through ``reader``: in WAL mode it sees the last commit, never a batch that may still
    roll back.
    """

    def __init__(
        self, conn: aiosqlite.Connection, reader: aiosqlite.Connection, path: Path | None = None
    ) -> None:
        self.conn = conn
        self.reader = reader
        self.path = path
        self._write_lock = asyncio.Lock()
        self._batch: list[_Work] = []
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) the database file and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await _connect(path)
        try:
            # The reader opens after the writer has made the file (and its WAL) exist.
            db = cls(conn, await _connect(path, read_only=True), path)
        except BaseException:
            await conn.close()
            raise
        try:
            await db.migrate()
        except BaseException:
            await db.close()
            raise
        return db

    async def migrate(self) -> int:
        """Apply the migrations newer than ``PRAGMA user_version``; return the version reached.

        Raises:
            DatabaseTooNewError: a newer version of the code has migrated the database; this one
                would misread it (and its migrations must not run over it).
        """
        row = await fetch_one(self.conn, "PRAGMA user_version")
        version = int(row[0]) if row else 0
        migrations = _migrations()
        if version > migrations[-1][0]:
            raise DatabaseTooNewError(self.path or Path("?"), version, migrations[-1][0])
        for number, sql in migrations:
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
                if self.conn.in_transaction:
                    await self.conn.commit()
            except BaseException:
                # A failed COMMIT (a deferred constraint, a full disk) leaves the transaction
                # open: without the rollback the next transaction would carry its rows.
                if self.conn.in_transaction:
                    await self.conn.rollback()
                raise

    async def in_batch(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run ``work`` in a write transaction shared with whatever other work is waiting.

        Group commit: each statement is a hop to the database thread, and ``BEGIN``/``COMMIT``
        are two more per transaction, so the works that queue up while one batch runs are
        committed together. The result is returned only after the commit. If any work of a
        batch fails, the batch is rolled back and its works are run again one transaction
        each, so one failure never takes another's change with it.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._batch.append((work, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        return cast(T, await future)

    async def _write_batches(self) -> None:
        while self._batch:
            batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
            results: list[Any] = []
            try:
                async with self.transaction() as conn:
                    for work, _ in batch:
                        results.append(await work(conn))
            except Exception:
                await self._one_by_one(batch)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[_Work]) -> None:
        for work, future in batch:
            try:
                async with self.transaction() as conn:
                    result = await work(conn)
            except Exception as e:
                if not future.done():
                    future.set_exception(e)
            else:
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Close both connections."""
        await self.reader.close()
        await self.conn.close()
