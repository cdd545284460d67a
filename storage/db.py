"""The SQLite connection: pragmas, numbered migrations and write transactions."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from storage import checkpoints, outbox, users
from storage.sql import Statement, bound, fetch_one, run_together

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5000
MAX_BATCH = 64
T = TypeVar("T")
Rows = list[list[sqlite3.Row]]
ReadingWork = Callable[[aiosqlite.Connection, Rows], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class _Work:
    """A work waiting for a batch, with the reads it wants done ahead (``first``)."""

    run: ReadingWork[Any]
    future: asyncio.Future[Any]
    first: Sequence[Statement] = ()


class StaleReadError(Exception):
    """A work of a batch used rows read ahead that an earlier work of the batch changed since."""


class NextBatchError(Exception):
    """A batch was committed, and the next one's BEGIN or first reads, in the same call, failed."""


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


class WriterConnection(aiosqlite.Connection):
    """The writer's connection: a transaction's ``BEGIN`` and its blind writes ride along.

    Every call of an aiosqlite connection or cursor is one hop to the connection's thread
    (``_execute``), and a hop costs more than a short statement: an event's transaction of
    BEGIN, its reads, its writes and COMMIT took four. ``begin`` only marks the transaction as
    started, and ``defer`` keeps writes whose results nobody reads (an event's new state and
    its replies); the next call, whatever it is (the next event's first read, or the COMMIT),
    runs them first, in order, in the same hop. So an event costs two hops.

    What runs ahead of a call fails that call when it fails (a busy database at BEGIN, a full
    disk at a deferred write), and every later call of the same transaction fails with it, the
    COMMIT too: work that catches the first error never goes on in autocommit, nor commits
    without what was lost.

    In a batch (``Database.in_batch_reading``) the works' first reads are done together ahead
    of them. Each statement is counted as its work's (``working``, carried to the thread with
    the call); temporary triggers report which users' rows it changes (``touched``); and the
    COMMIT refuses when a work used rows read ahead (``watch``) that an earlier work changed.
    """

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self.begin_pending = False
        self.failed_ahead: BaseException | None = None
        self._deferred: list[tuple[int, Statement]] = []
        # Rows read ahead of a batch (see ``Database.in_batch``): which work of the batch runs
        # now (on the loop: ``working``; on the thread: ``_thread_work``), which keys each work
        # read ahead, and which keys the statements of each work changed (told by triggers).
        self.working = -1
        self._thread_work = -1
        self._watched: list[tuple[str, int]] = []
        self._touched: list[tuple[str, int]] = []
        # The numbers (ids) this transaction's rows took, by what they number (``take_number``).
        self._taken: dict[str, int] = {}

    def begin(self) -> None:
        """Start a write transaction with the next call."""
        self.begin_pending, self.failed_ahead, self._deferred = True, None, []
        self.working, self._watched, self._touched, self._taken = -1, [], [], {}

    def take_number(self, key: str, first_free: int) -> int:
        """The number for a row this transaction inserts: ``first_free`` (read ahead at the
        batch's start), or the one after the last that the transaction took since.

        Every earlier insert of the transaction that took one says so here. A number taken
        anyway (by a statement that did not) fails its insert on the unique key: the batch is
        rolled back and run again one work at a time, each reading its numbers anew.
        """
        number = max(first_free, self._taken.get(key, 0) + 1)
        self._taken[key] = number
        return number

    def took_number(self, key: str, number: int) -> None:
        """An insert of this transaction took ``number`` itself (its row is written now)."""
        self._taken[key] = max(number, self._taken.get(key, 0))

    def defer(self, statements: list[Statement]) -> None:
        """Run these writes, in order, before the next call of this transaction."""
        self._deferred.extend((self.working, statement) for statement in statements)

    def watch(self, key: str) -> None:
        """The current work uses rows of ``key`` read ahead: no earlier work may change them."""
        self._watched.append((key, self.working))

    def touched(self, kind: str, key: object) -> None:
        """A trigger's call (on the thread): the running statement changes rows of a key."""
        self._touched.append((f"{kind}:{key}", self._thread_work))

    def stale_reads(self) -> list[str]:
        """The keys read ahead by a work and changed before it by an earlier work."""
        first_change: dict[str, int] = {}
        for key, work in self._touched:
            first_change[key] = min(work, first_change.get(key, work))
        return [key for key, work in self._watched if first_change.get(key, work) < work]

    async def read_ahead(self, firsts: Sequence[Sequence[Statement]]) -> list[Rows]:
        """Run each work's first statements, in order, in one hop; return each work's rows.

        A statement is counted as its own work's change (a user its first event creates),
        not as a change made before every work of the batch.
        """

        if not any(firsts):  # nothing to read: the BEGIN waits for the next call
            return [[] for _ in firsts]
        return cast(list[Rows], await self._execute(self._read_firsts, firsts))

    def _read_firsts(self, firsts: Sequence[Sequence[Statement]]) -> list[Rows]:
        """On the thread: each work's first statements, each counted as its own work's."""
        raw, done = self._conn, []
        for work, statements in enumerate(firsts):
            self._thread_work = work
            done.append([raw.execute(sql, bound(p)).fetchall() for sql, p in statements])
        return done

    def _checked_commit(self) -> None:
        """On the thread: commit, unless a work used rows read ahead that changed since."""
        stale = self.stale_reads()
        if stale:
            raise StaleReadError(f"read ahead, then changed in the batch: {stale[:3]}")
        self._conn.commit()

    async def commit(self) -> None:
        """Commit, unless a work used rows read ahead that changed since (then nothing is)."""
        await self._execute(self._checked_commit)

    async def commit_then_begin(self, firsts: Sequence[Sequence[Statement]]) -> list[Rows]:
        """Commit (as ``commit``) and, in the same call, begin the next batch's transaction and
        run its works' first statements (as ``read_ahead``); with no works, only commit.

        Raises:
            NextBatchError: the commit was made, and the next batch's BEGIN or reads failed.
        """
        committed = False

        def commit_then_read() -> list[Rows]:
            nonlocal committed
            self._checked_commit()
            committed = True
            # What the next transaction's works read and change is theirs alone.
            self._watched, self._touched, self._taken = [], [], {}
            if not firsts:
                return []
            self._conn.execute("BEGIN IMMEDIATE")
            return self._read_firsts(firsts)

        try:
            rows = cast(list[Rows], await self._execute(commit_then_read))
        except BaseException as e:
            if committed:
                raise NextBatchError(str(e)) from e
            raise
        self.working = -1
        if not firsts:
            self.end()
        return rows

    @property
    def has_deferred(self) -> bool:
        """Whether deferred writes wait for the next call."""
        return bool(self._deferred)

    @property
    def has_work_ahead(self) -> bool:
        """Whether a BEGIN or deferred writes wait for the next call."""
        return self.begin_pending or self.has_deferred

    def end(self) -> None:
        """Forget what waits: the transaction is over (committed, rolled back, never begun)."""
        self.begin_pending, self.failed_ahead, self._deferred = False, None, []

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.failed_ahead is not None:
            raise self.failed_ahead
        begin, deferred = self.begin_pending, self._deferred
        self.begin_pending, self._deferred = False, []
        call, working = partial(fn, *args, **kwargs), self.working
        ahead_done = not (begin or deferred)

        def ahead_then_call() -> Any:
            nonlocal ahead_done
            raw = self._conn
            if begin:
                raw.execute("BEGIN IMMEDIATE")
            for work, (sql, params) in deferred:
                self._thread_work = work  # a deferred write is its own work's change
                raw.execute(sql, bound(params))
            ahead_done = True
            self._thread_work = working
            return call()

        try:
            return await super()._execute(ahead_then_call)  # type: ignore[no-untyped-call]
        except BaseException as e:
            if not ahead_done:
                self.failed_ahead = e
            raise


def deferring(conn: aiosqlite.Connection) -> WriterConnection | None:
    """The writer in a transaction, which defers writes to its next call; else None."""
    if isinstance(conn, WriterConnection) and (conn.begin_pending or conn.in_transaction):
        return conn
    return None


async def write_behind(conn: aiosqlite.Connection, statements: list[Statement]) -> None:
    """Writes whose results are not needed: on the writer, with its next call; else now."""
    writer = deferring(conn)
    if writer is not None:
        writer.defer(statements)
    else:
        await run_together(conn, statements)


async def _read_ahead(
    conn: aiosqlite.Connection, firsts: Sequence[Sequence[Statement]]
) -> list[Rows]:
    """Each work's first statements, run together in one hop."""
    if isinstance(conn, WriterConnection):
        return await conn.read_ahead(firsts)
    rows = await run_together(conn, [s for first in firsts for s in first])
    ahead = []
    for first in firsts:
        ahead.append(rows[: len(first)])
        rows = rows[len(first) :]
    return ahead


def _settle(batch: list[_Work], results: list[Any]) -> None:
    """Give each work of a committed batch its result."""
    for work, result in zip(batch, results, strict=True):
        if not work.future.done():
            work.future.set_result(result)


def watch(conn: aiosqlite.Connection, key: str) -> None:
    """Say that the running work of a batch uses rows of ``key`` that it read ahead.

    The batch commits only if no earlier work of it changed them since (the writer's triggers
    tell which keys each statement changes); else the batch is run again one work at a time.
    """
    if isinstance(conn, WriterConnection):
        conn.watch(key)


async def _connect(path: Path, *, read_only: bool = False) -> aiosqlite.Connection:
    target = f"file:{path}?mode=ro" if read_only else str(path)
    if read_only:
        conn = await aiosqlite.connect(target, isolation_level=None, uri=True)
    else:
        # As aiosqlite.connect builds it, with the writer's hop-saving BEGIN.
        conn = await WriterConnection(partial(sqlite3.connect, target, isolation_level=None), 64)
    conn.row_factory = sqlite3.Row
    # secure_delete: what an erasure deletes is overwritten in the file, not left in free space
    # (some builds of SQLite have it on by default, not all).
    pragmas = (
        "PRAGMA query_only=ON;"
        if read_only
        else (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
            f" PRAGMA wal_autocheckpoint={checkpoints.WRITER_AUTOCHECKPOINT_PAGES};"
            f" PRAGMA journal_size_limit={checkpoints.JOURNAL_SIZE_LIMIT_BYTES};"
        )
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
        self._lock_waiting = 0  # transactions waiting for the write lock
        self._batch: list[_Work] = []
        self._writer: asyncio.Task[None] | None = None
        self.checkpoints: checkpoints.Checkpointer | None = None
        self._checkpointing: asyncio.Task[None] | None = None

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
            await db._watch_changes()
            await db._start_checkpoints()
        except BaseException:
            await db.close()
            raise
        return db

    async def _start_checkpoints(self) -> None:
        """Have the log checkpointed off the writer's path (see storage.checkpoints)."""
        if self.path is None:
            return  # no file to open a connection of its own to (not opened by ``open``)
        self.checkpoints = await checkpoints.Checkpointer.open(self.path, self.conn)
        self._checkpointing = asyncio.create_task(self.checkpoints.run())

    async def _watch_changes(self) -> None:
        """Have the writer told which users' rows each statement changes, and which outbox rows
        being sent it deletes (after migrating: temporary triggers go with a table that a
        migration rebuilds)."""
        writer = self.conn
        if isinstance(writer, WriterConnection):
            await writer.create_function("touched", 2, writer.touched)
            await writer.executescript(users.WATCH_TRIGGERS + "\n" + outbox.WATCH_TRIGGERS)

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
        async with self._write_lock_taken():
            writer = self.conn
            if isinstance(writer, WriterConnection):
                if not writer.in_transaction:
                    writer.begin()
            elif not writer.in_transaction:
                await writer.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                await self._commit()
            except BaseException:
                if isinstance(writer, WriterConnection):
                    writer.end()
                # A failed COMMIT (a deferred constraint, a full disk) leaves the transaction
                # open: without the rollback the next transaction would carry its rows.
                if self.conn.in_transaction:
                    await self.conn.rollback()
                raise

    @asynccontextmanager
    async def _write_lock_taken(self) -> AsyncIterator[None]:
        """The write lock, with the count of those waiting for it (a chain of batches yields)."""
        self._lock_waiting += 1
        try:
            await self._write_lock.acquire()
        finally:
            self._lock_waiting -= 1
        try:
            yield
        finally:
            self._write_lock.release()

    async def _commit(self) -> None:
        writer = self.conn
        if isinstance(writer, WriterConnection):
            failed = writer.failed_ahead
            if failed is not None:
                raise failed  # even when the work caught it: nothing it did is stored
            if writer.begin_pending and not writer.has_deferred:
                writer.end()  # nothing ran: there is nothing to commit
                return
            await writer.commit()  # with whatever waits ahead of it, in the same hop
            writer.end()
            return
        if writer.in_transaction:
            await writer.commit()

    async def in_batch(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run ``work`` in a write transaction shared with whatever other work is waiting.

        Group commit: each statement is a hop to the database thread, and ``BEGIN``/``COMMIT``
        are two more per transaction, so the works that queue up while one batch runs are
        committed together. The result is returned only after the commit. If any work of a
        batch fails, the batch is rolled back and its works are run again one transaction
        each, so one failure never takes another's change with it.
        """

        async def without_reads(conn: aiosqlite.Connection, rows: Rows) -> T:
            del rows
            return await work(conn)

        return await self.in_batch_reading((), without_reads)

    async def in_batch_reading(self, first: Sequence[Statement], work: ReadingWork[T]) -> T:
        """As ``in_batch``, with ``first`` run ahead: ``work`` gets each statement's rows.

        The ``first`` statements of all the works of a batch run together in its first hop
        (with its BEGIN), so an event's first reads cost no hop of their own. A work that uses
        rows read so says which (``watch``): when an earlier work of the batch changed them
        since, the batch is rolled back at its COMMIT and run again one work at a time, each
        reading its rows anew.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._batch.append(_Work(work, future, first))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        return cast(T, await future)

    async def _write_batches(self) -> None:
        writer = self.conn
        while self._batch:
            if isinstance(writer, WriterConnection):
                failed = await self._chained_batches(writer)
            else:
                failed = await self._one_batch()
            if failed:
                await self._one_by_one(failed)

    def _take(self) -> list[_Work]:
        """The next batch of the works waiting."""
        batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
        return batch

    async def _one_batch(self) -> list[_Work]:
        """Run one batch in its transaction; return it if it failed (to run one by one)."""
        batch = self._take()
        try:
            async with self.transaction() as conn:
                ahead = await _read_ahead(conn, [w.first for w in batch])
                results = [await w.run(conn, rows) for w, rows in zip(batch, ahead, strict=True)]
        except Exception as e:
            log.info("a batch of %d failed (%s): run again one by one", len(batch), e)
            return batch
        _settle(batch, results)
        return []

    async def _chained_batches(self, writer: WriterConnection) -> list[_Work]:
        """Run the waiting batches back to back; return a batch that failed (to run one by one).

        A batch's COMMIT carries the next batch's BEGIN and first reads in the same call: while
        works keep coming, a batch costs one call besides its works' own. The chain ends where
        nothing waits, or where a transaction of someone else waits for the write lock.
        """
        async with self._write_lock:
            batch = self._take()
            if not writer.in_transaction:
                writer.begin()
            try:
                ahead = await writer.read_ahead([w.first for w in batch])
                while True:
                    results = []
                    for index, (work, rows) in enumerate(zip(batch, ahead, strict=True)):
                        writer.working = index
                        results.append(await work.run(writer, rows))
                    following = self._take() if self._batch and not self._lock_waiting else []
                    if not following and writer.begin_pending and not writer.has_deferred:
                        writer.end()  # nothing ran: there is nothing to commit
                        _settle(batch, results)
                        return []
                    try:
                        ahead = await writer.commit_then_begin([w.first for w in following])
                    except NextBatchError:
                        _settle(batch, results)  # committed: only the next batch failed
                        batch = following
                        raise
                    except BaseException:
                        self._batch[:0] = following  # not begun: they wait for the next batch
                        raise
                    _settle(batch, results)
                    if not following:
                        return []
                    batch = following
            except BaseException as e:
                writer.end()
                # A failed COMMIT leaves the transaction open: without the rollback the next
                # transaction would carry its rows.
                if writer.in_transaction:
                    await writer.rollback()
                if not isinstance(e, Exception):
                    raise
                log.info("a batch of %d failed (%s): run again one by one", len(batch), e)
                return batch

    async def _one_by_one(self, batch: list[_Work]) -> None:
        for work in batch:
            try:
                async with self.transaction() as conn:
                    result = await work.run(conn, await run_together(conn, work.first))
            except Exception as e:
                if not work.future.done():
                    work.future.set_exception(e)
            else:
                if not work.future.done():
                    work.future.set_result(result)

    async def close(self) -> None:
        """Close the connections, the writer's last (the last to close checkpoints the whole
        log into the database and removes it)."""
        if self._checkpointing is not None:
            self._checkpointing.cancel()
            with suppress(asyncio.CancelledError):
                await self._checkpointing
        if self.checkpoints is not None:
            await self.checkpoints.close()
        await self.reader.close()
        await self.conn.close()
