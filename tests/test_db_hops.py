"""The writer's transactions: BEGIN goes with the first statement; a failed BEGIN stores nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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


class Chain:
    """A first batch held open until the test has queued what must wait for its COMMIT."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.started, self.release = asyncio.Event(), asyncio.Event()

    async def first(self, conn: aiosqlite.Connection, rows: list[list[sqlite3.Row]]) -> int:
        await conn.execute("INSERT INTO notes (text) VALUES ('first')")
        self.started.set()
        await self.release.wait()
        return int(rows[0][0][0])

    async def start(self) -> asyncio.Task[int]:
        task = asyncio.create_task(
            self.db.in_batch_reading([("SELECT COUNT(*) FROM notes", ())], self.first)
        )
        await self.started.wait()
        return task


async def counted_notes(conn: aiosqlite.Connection, rows: list[list[sqlite3.Row]]) -> int:
    await write_behind(conn, [("INSERT INTO notes (text) VALUES ('second')", ())])
    return int(rows[0][0][0])


async def test_a_batch_s_commit_carries_the_next_batch_s_begin_and_reads(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Works queued while a batch runs: its COMMIT, their BEGIN and their reads in one call."""
    hops = count_hops(monkeypatch)
    chain = Chain(db)
    first = await chain.start()
    # Queued before the first work goes on (tasks start in the order they were made).
    second = asyncio.create_task(
        db.in_batch_reading([("SELECT COUNT(*) FROM notes", ())], counted_notes)
    )
    chain.release.set()
    assert (await first, await second) == (0, 1)  # the second read what the first committed
    # The first batch's reads, its insert, its COMMIT with the second's reads, the COMMIT.
    assert hops[0] == 4  # 5 when each batch began with its own call
    assert await notes(db) == ["first", "second"]


async def test_a_transaction_waiting_for_the_lock_goes_before_the_next_batch(
    db: Database,
) -> None:
    """The chain of batches ends at a COMMIT when someone else waits for the write lock."""
    chain = Chain(db)
    first = await chain.start()
    second = asyncio.create_task(
        db.in_batch_reading([("SELECT COUNT(*) FROM notes", ())], counted_notes)
    )

    async def other() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO notes (text) VALUES ('other')")

    waiting = asyncio.create_task(other())
    chain.release.set()
    await asyncio.gather(first, second, waiting)
    assert await notes(db) == ["first", "other", "second"]


async def test_when_the_next_batch_s_reads_fail_after_the_commit_only_it_runs_again(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The first batch is committed and answered; the next one runs one work at a time."""
    chain = Chain(db)
    first = await chain.start()
    broken = asyncio.create_task(
        db.in_batch_reading([("SELECT nothing FROM missing", ())], counted_notes)
    )
    fine = asyncio.create_task(
        db.in_batch_reading([("SELECT COUNT(*) FROM notes", ())], counted_notes)
    )
    with caplog.at_level(logging.INFO, logger="storage.db"):
        chain.release.set()
        outcomes = await asyncio.gather(first, broken, fine, return_exceptions=True)
    assert outcomes[0] == 0
    assert isinstance(outcomes[1], sqlite3.OperationalError)
    assert outcomes[2] == 1
    assert "run again one by one" in caplog.text
    assert await notes(db) == ["first", "second"]


async def test_when_a_batch_s_commit_fails_the_batch_queued_behind_it_still_runs(
    db: Database,
) -> None:
    """A deferred write that fails at the COMMIT: that batch runs again one by one, and the
    works queued behind it (not begun with the failed call) run in a batch of their own."""
    started, release = asyncio.Event(), asyncio.Event()

    async def broken(conn: aiosqlite.Connection, rows: list[list[sqlite3.Row]]) -> str:
        await write_behind(conn, [("INSERT INTO notes (text) VALUES (NULL)", ())])
        started.set()
        await release.wait()
        return "broken"

    first = asyncio.create_task(db.in_batch_reading([("SELECT 1", ())], broken))
    await started.wait()
    later = asyncio.create_task(
        db.in_batch_reading([("SELECT COUNT(*) FROM notes", ())], counted_notes)
    )
    release.set()
    outcomes = await asyncio.gather(first, later, return_exceptions=True)
    assert isinstance(outcomes[0], sqlite3.IntegrityError)
    assert outcomes[1] == 0
    assert await notes(db) == ["second"]
