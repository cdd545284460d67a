"""The write-ahead log is checkpointed off the writer's path, on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from storage import checkpoints
from storage.db import Database
from storage.updates import claim_update
from tests.conftest import eventually

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


async def write_updates(db: Database, first: int, count: int) -> None:
    """``count`` transactions of one row each (as many commits as events)."""
    for n in range(first, first + count):
        async with db.transaction() as conn:
            assert await claim_update(conn, "test", f"u{n}", NOW)


def stored_updates(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM processed_updates").fetchone()[0])


async def checkpointed_in_background(db: Database, what: str) -> None:
    """Wait until the database's own task has copied a non-empty log whole."""
    checkpointer = db.checkpoints
    assert checkpointer is not None

    async def all_copied() -> bool:
        last = checkpointer.last
        return last is not None and last.frames > 0 and last.complete

    await eventually(all_copied, what)


async def test_the_writer_leaves_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        row = await (await db.conn.execute("PRAGMA wal_autocheckpoint")).fetchone()
        assert row is not None
        assert row[0] == checkpoints.WRITER_AUTOCHECKPOINT_PAGES
        row = await (await db.conn.execute("PRAGMA journal_size_limit")).fetchone()
        assert row is not None
        assert row[0] == checkpoints.JOURNAL_SIZE_LIMIT_BYTES
        await write_updates(db, 0, 50)
        # The task, not the test, runs it: within about a second of the writes.
        await checkpointed_in_background(db, "the log checkpointed in the background")
    finally:
        await db.close()
    assert not (tmp_path / "bot.db-wal").exists()  # the last connection closed took it in
    assert stored_updates(tmp_path / "bot.db") == 50


async def test_a_reader_holding_a_snapshot_neither_blocks_the_writer_nor_loses_frames(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.db"
    db = await Database.open(path)
    checkpointer = db.checkpoints
    assert checkpointer is not None
    try:
        await write_updates(db, 0, 10)
        assert (await checkpointer.checkpoint()).complete
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            reader.execute("BEGIN")
            assert reader.execute("SELECT COUNT(*) FROM processed_updates").fetchone()[0] == 10
            await write_updates(db, 10, 20)  # the writer is not held up by the old snapshot
            held = await checkpointer.checkpoint()
            assert held.frames > 0
            assert not held.complete
            assert reader.execute("SELECT COUNT(*) FROM processed_updates").fetchone()[0] == 10
            reader.execute("COMMIT")
        finally:
            reader.close()
        released = await checkpointer.checkpoint()
        assert released.complete
        assert released.frames == held.frames
        # The next write restarts the log from its beginning: it does not keep growing.
        await write_updates(db, 30, 1)
        assert (await checkpointer.checkpoint()).frames < held.frames
    finally:
        await db.close()
    assert stored_updates(path) == 31


async def test_what_a_killed_process_left_in_the_log_is_kept_and_checkpointed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.db"
    # A process that commits and dies before any checkpoint (its checkpointer's first round is
    # a second away): the rows are only in the log.
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from datetime import UTC, datetime
        from pathlib import Path
        from storage.db import Database
        from storage.updates import claim_update

        async def main():
            db = await Database.open(Path({str(path)!r}))
            for n in range(25):
                async with db.transaction() as conn:
                    await claim_update(conn, "test", f"u{{n}}", datetime.now(UTC))
            os._exit(0)

        asyncio.run(main())
        """
    )
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    assert (tmp_path / "bot.db-wal").stat().st_size > 0
    db = await Database.open(path)
    try:
        # With nothing written by this process, its first round still takes the log in.
        await checkpointed_in_background(db, "the earlier process's log checkpointed")
        async with db.reader.execute("SELECT COUNT(*) FROM processed_updates") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == 25
    finally:
        await db.close()
