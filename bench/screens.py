"""Benchmark: what the keyboard of a notice to a Viber resident costs the outbox sender.

On Viber a message without buttons of its own (a notice, a broadcast) goes with the buttons of
the resident's current state (``handlers.screens.CurrentScreens``): one read of the resident's
conversation through the reader's connection, and their state's prompt. This prepares N Viber
residents on a real SQLite file (half at the main menu, half in the middle of a report, at the
category question), then asks for every resident's keyboard as the channel does, one after the
other and then 8 at a time (the sender's calls in flight). It prints the time per look-up (mean,
p50, p99) and the load average; a Viber send it is added to is an HTTP request of tens of ms.

    python bench/screens.py [--residents 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import SystemClock  # noqa: E402 - after the path is set for a plain script run
from handlers.context import Deps  # noqa: E402
from handlers.municipality import load_municipality  # noqa: E402
from handlers.registry import REGISTRY  # noqa: E402
from handlers.screens import CurrentScreens  # noqa: E402
from storage import users  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.photos import PhotoStore  # noqa: E402
from storage.voices import VoiceStore  # noqa: E402

FIRST = 900_000
IN_FLIGHT = 8


class NullGeocoder:
    """No network: the look-ups never geocode."""

    async def geocode(self, query: str) -> None:
        """Find nothing."""
        del query

    async def reverse(self, latitude: float, longitude: float) -> None:
        """Name nothing."""
        del latitude, longitude


async def prepare(db: Database, residents: int) -> None:
    """N Viber residents in Serbian Latin: half at the main menu, half choosing a category."""
    now = datetime.now(UTC)
    async with db.transaction() as conn:
        for i in range(residents):
            chat = str(FIRST + i)
            user = await users.create_user(
                conn, channel="viber", external_id=chat, chat_id=chat, first_name="R",
                role="resident", now=now,
            )  # fmt: skip
            await users.save_language(conn, user.id, "sr-Latn")
            state = "menu:main" if i % 2 else "report:category"
            await users.save_state(conn, user.id, state, {}, now)


def figures(name: str, seconds: list[float]) -> None:
    """Print the mean, p50 and p99 of the look-ups' times."""
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{name}: {len(ms)} look-ups, mean {statistics.fmean(ms):.3f} ms,"
        f" p50 {statistics.median(ms):.3f} ms, p99 {p99:.3f} ms"
    )


async def main(residents: int) -> None:
    """Prepare, then time every resident's look-up one at a time and 8 at a time."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        db = await Database.open(data / "bot.db")
        try:
            await prepare(db, residents)
            m = load_municipality(ROOT / "config" / "vlasotince.toml")
            deps = Deps(
                m, SystemClock(), NullGeocoder(), PhotoStore(data), REGISTRY, VoiceStore(data)
            )  # fmt: skip
            screens = CurrentScreens(db.reader, deps)
            chats = [str(FIRST + i) for i in range(residents)]
            assert await screens.markup("viber", chats[0]) is not None  # catalogs compiled
            one: list[float] = []
            for chat in chats:
                start = time.perf_counter()
                await screens.markup("viber", chat)
                one.append(time.perf_counter() - start)
            figures("one at a time", one)
            many: list[float] = []
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def timed(chat: str) -> None:
                async with gate:
                    start = time.perf_counter()
                    await screens.markup("viber", chat)
                    many.append(time.perf_counter() - start)

            start = time.perf_counter()
            await asyncio.gather(*(timed(chat) for chat in chats))
            total = time.perf_counter() - start
            figures(f"{IN_FLIGHT} in flight", many)
            print(f"{IN_FLIGHT} in flight: {residents / total:,.0f} look-ups/s")
        finally:
            await db.close()
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--residents", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().residents))
