"""``/healthz``: 503 with the reasons when the database cannot be written or the outbox is stuck.

The reasons name a part and a number, never a resident or a message.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.metrics import read_outbox

WRITE_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class Health:
    """What makes the bot unhealthy."""

    database: Path
    channels: Sequence[str]
    outbox_max_age: float

    async def problems(self) -> list[str]:
        """Each reason the bot is unhealthy now, one line each (none: healthy)."""
        return await asyncio.to_thread(self._problems)

    def _problems(self) -> list[str]:
        try:
            can_write(self.database)
        except sqlite3.Error as e:
            return [f"database: cannot be written ({e})"]
        found = []
        oldest = read_outbox(self.database).oldest_due
        for channel in self.channels:
            age = oldest.get(channel, 0.0)
            if age > self.outbox_max_age:
                found.append(
                    f"outbox: the oldest due {channel} message has waited {age:.0f} s"
                    f" (limit {self.outbox_max_age:.0f} s)"
                )
        return found


def can_write(database: Path) -> None:
    """Take the database's write lock and let it go, on a connection of its own.

    Raises:
        sqlite3.Error: the file cannot be written, or another writer holds it too long.
    """
    with closing(sqlite3.connect(database, timeout=WRITE_TIMEOUT_S, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")


def healthz_route(health: Health) -> web.RouteDef:
    """``GET /healthz``: 200 ``{"status": "ok"}``, or 503 with the problems."""

    async def serve(_: web.Request) -> web.Response:
        problems = await health.problems()
        if problems:
            return web.json_response({"status": "unhealthy", "problems": problems}, status=503)
        return web.json_response({"status": "ok"})

    return web.get("/healthz", serve)
