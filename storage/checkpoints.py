"""Checkpoints of the write-ahead log, run on a connection of their own, off the writer's path.

In WAL mode a commit appends its pages to the log and syncs nothing (``synchronous=NORMAL``);
the checkpoint copies the log back into the database file and syncs both. Left to SQLite, the
writer runs it inside the commit that passes 1,000 pages, so the events of that commit wait for
two fsyncs: that was the dispatcher's p99. Here a task runs a PASSIVE checkpoint (it never
waits for the writer or a reader, nor blocks them) on its own connection, hence its own thread,
at most once a second and only when something was written since the last one. The writer's own
automatic checkpoint stays as a net, set far higher, for when this one cannot keep up.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.sql import fetch_one

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 1.0
# The writer's automatic checkpoint, reached only when the checkpointer falls far behind
# (SQLite's default is 1,000 pages, about 4 MB).
WRITER_AUTOCHECKPOINT_PAGES = 10_000
# When the log restarts from its beginning, its file is cut back to this size (SQLite leaves
# it at its largest otherwise).
JOURNAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What one checkpoint did: the log's frames and those copied into the database."""

    frames: int
    copied: int

    @property
    def complete(self) -> bool:
        """Every frame is in the database: the writer's next transaction restarts the log."""
        return self.copied == self.frames


class Checkpointer:
    """Checkpoints the log of the writer's database whenever the writer has written since."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        writer: aiosqlite.Connection,
        every_s: float = CHECKPOINT_EVERY_S,
    ) -> None:
        self._conn = conn
        self._writer = writer
        self._every_s = every_s
        self.last: Checkpoint | None = None

    @classmethod
    async def open(cls, path: Path, writer: aiosqlite.Connection) -> Checkpointer:
        """Open the checkpointer's connection to the writer's database file."""
        return cls(await aiosqlite.connect(path, isolation_level=None), writer)

    async def run(self) -> None:
        """Checkpoint after writes, until cancelled; a failed checkpoint is tried again later."""
        seen = -1  # the first round checkpoints what an earlier process left in the log
        while True:
            await asyncio.sleep(self._every_s)
            changes = self._writer.total_changes
            if changes == seen and self.last is not None and self.last.complete:
                continue
            seen = changes
            try:
                await self.checkpoint()
            except aiosqlite.Error as e:
                log.warning("a checkpoint of the database's log failed: %s", e)

    async def checkpoint(self) -> Checkpoint:
        """Copy what the log holds into the database now, as far as readers allow."""
        row = await fetch_one(self._conn, "PRAGMA wal_checkpoint(PASSIVE)")
        # (busy, frames in the log, frames copied); -1 and -1 when the file is not in WAL mode.
        frames, copied = (int(row[1]), int(row[2])) if row else (0, 0)
        self.last = Checkpoint(max(frames, 0), max(copied, 0))
        return self.last

    async def close(self) -> None:
        """Close the checkpointer's connection (the task is the caller's to cancel first)."""
        await self._conn.close()
