"""The writer's transactions: BEGIN goes with the first statement; a failed BEGIN stores nothing."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from storage.db import Database, WriterConnection, write_behind


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.db")
    await database.conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    yield database
    await database.close()


def count_hops(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls that go to a connection's thread (aiosqlite's one queue per connection)."""
    hops = [0]
    real = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops[0] += 1
        return await real(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return hops


async def notes(db: Database) -> list[str]:
    async with db.reader.execute("SELECT text FROM notes ORDER BY id") as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def test_a_one_statement_transaction_takes_two_hops(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(db.conn, WriterConnection)
    hops = count_hops(monkeypatch)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO notes (text) VALUES ('one')")
        assert conn.in_transaction  # the BEGIN went with the insert
    assert hops[0] == 2  # BEGIN + INSERT, then COMMIT (three before)
    assert await notes(db) == ["one"]


async def test_a_transaction_that_does_nothing_costs_no_hop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = count_hops(monkeypatch)
    async with db.transaction():
        pass
    assert hops[0] == 0
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO notes (text) VALUES ('after')")
    assert await notes(db) == ["after"]


async def test_a_failed_statement_rolls_the_whole_transaction_back(db: Database) -> None:
    async def insert_then_fail() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO notes (text) VALUES ('kept?')")
            await conn.execute("INSERT INTO notes (text) VALUES (NULL)")

    with pytest.raises(sqlite3.IntegrityError):
        await insert_then_fail()
    assert await notes(db) == []
    assert not db.conn.in_transaction


async def test_a_busy_begin_fails_the_transaction_even_when_the_work_catches_it(
    db: Database, tmp_path: Path
) -> None:
    await db.conn.execute("PRAGMA busy_timeout=50")
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    tried = []

    async def careless() -> None:
        async with db.transaction() as conn:
            for text in ("first", "second"):
                try:
                    await conn.execute("INSERT INTO notes (text) VALUES (?)", (text,))
                except sqlite3.OperationalError:
                    tried.append(text)  # a careless work swallows the error and goes on

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await careless()
    assert tried == ["first", "second"]  # the second never ran in autocommit
    other.execute("ROLLBACK")
    other.close()
    assert await notes(db) == []
    async with db.transaction() as conn:  # the lock is free again: the next one goes through
        await conn.execute("INSERT INTO notes (text) VALUES ('later')")
    assert await notes(db) == ["later"]


async def test_deferred_writes_go_ahead_of_the_next_call_and_commit_in_one_hop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = count_hops(monkeypatch)
    async with db.transaction() as conn:
        await write_behind(conn, [("INSERT INTO notes (text) VALUES (?)", ("state",))])
        assert hops[0] == 0  # nothing has gone to the thread yet
    assert hops[0] == 1  # BEGIN, the write and COMMIT together
    async with db.transaction() as conn:
        await write_behind(conn, [("INSERT INTO notes (text) VALUES (?)", ("reply",))])
        # A later read of the same transaction sees it: it ran first, in the same hop.
        rows = await conn.execute_fetchall("SELECT text FROM notes ORDER BY id")
        assert [r[0] for r in rows] == ["state", "reply"]
    assert hops[0] == 3
    assert await notes(db) == ["state", "reply"]


async def test_a_failed_deferred_write_fails_the_transaction_even_when_caught(
    db: Database,
) -> None:
    async def careless() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO notes (text) VALUES ('before')")
            await write_behind(conn, [("INSERT INTO notes (text) VALUES (NULL)", ())])
            # Not this statement's error, but the work cannot tell.
            with contextlib.suppress(sqlite3.IntegrityError):
                await conn.execute("INSERT INTO notes (text) VALUES ('after')")

    with pytest.raises(sqlite3.IntegrityError):
        await careless()
    assert await notes(db) == []


async def test_in_a_shared_batch_a_failed_deferred_write_takes_only_its_own_work_down(
    db: Database,
) -> None:
    async def broken(conn: aiosqlite.Connection) -> str:
        await write_behind(conn, [("INSERT INTO notes (text) VALUES (NULL)", ())])
        return "broken"

    async def fine(conn: aiosqlite.Connection) -> str:
        await conn.execute("INSERT INTO notes (text) VALUES ('fine')")
        return "fine"

    outcomes = await asyncio.gather(db.in_batch(broken), db.in_batch(fine), return_exceptions=True)
    assert isinstance(outcomes[0], sqlite3.IntegrityError)
    assert outcomes[1] == "fine"
    assert await notes(db) == ["fine"]
