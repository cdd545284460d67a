"""Benchmark: `db backup` of a large database while a resident keeps writing, then `db restore`.

A real SQLite file with N reports (with their history events) in a temporary folder; one writer
commits reports through the bot's group commit the whole time. Prints the database's size, the
backup's and the restore's time, how many reports were committed while the backup ran, and the
writer's commit latency before and during the backup (does a backup stall the bot?).

    python bench/backup.py                    # 100,000 reports
    python bench/backup.py --reports 300000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.backup import backup, restore  # noqa: E402 - after the path is set for a plain script run
from storage import reports, users  # noqa: E402
from storage.db import Database  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DESCRIPTION = (
    "Рупа на коловозу испред школе, дубока десетак центиметара, опасна за бициклисте. " * 3
)


def new_report(user_id: int) -> reports.NewReport:
    """A report as the reporting flow stores it."""
    return reports.NewReport(
        user_id, "roads", "roads", DESCRIPTION, 42.966, 22.129, "Школска 1", (), sla_hours=72
    )


async def fill(db: Database, count: int) -> int:
    """One resident with ``count`` reports; return the resident's id."""
    async with db.transaction() as conn:
        user = await users.create_user(
            conn, channel="telegram", external_id="1", chat_id="1", first_name="Ана",
            role="resident", now=NOW,
        )  # fmt: skip
    done = 0
    while done < count:
        async with db.transaction() as conn:
            for _ in range(min(5000, count - done)):
                await reports.create_report(conn, "VLA", new_report(user.id), NOW)
                done += 1
    return user.id


def percentiles(samples: list[float]) -> str:
    """p50, p99 and the maximum, in milliseconds."""
    if len(samples) < 2:
        return "n/a"
    cuts = statistics.quantiles(samples, n=100)
    p50, p99, top = cuts[49] * 1000, cuts[98] * 1000, max(samples) * 1000
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {top:.1f} ms"


async def main(count: int) -> None:
    """Fill, write while backing up, restore; print the figures."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        db = await Database.open(data / "bot.db")
        user_id = await fill(db, count)
        size = (data / "bot.db").stat().st_size / 1e6
        latencies: list[tuple[float, float]] = []  # (finished at, seconds)
        stop = asyncio.Event()

        async def resident_writes() -> None:
            while not stop.is_set():
                start = time.perf_counter()
                work = partial(
                    reports.create_report, code="VLA", report=new_report(user_id), now=NOW
                )
                await db.in_batch(work)
                latencies.append((time.perf_counter(), time.perf_counter() - start))

        writer = asyncio.create_task(resident_writes())
        await asyncio.sleep(2)  # a baseline of the writer's latency
        began = time.perf_counter()
        copied = await asyncio.to_thread(backup, data, Path(folder) / "backup")
        ended = time.perf_counter()
        stop.set()
        await writer
        await db.close()
        started = time.perf_counter()
        restore(Path(folder) / "backup", Path(folder) / "restored")
        restored = time.perf_counter() - started

    before = [s for at, s in latencies if at < began]
    during = [s for at, s in latencies if began <= at <= ended]
    seconds = ended - began
    print(f"database: {count:,} reports, {size:.1f} MB")
    print(f"backup: {seconds:.2f} s ({size / seconds:.0f} MB/s), {copied.reports:,} reports in it")
    print(f"reports committed while the backup ran: {len(during):,}")
    print(f"commit latency before the backup: {percentiles(before)}")
    print(f"commit latency during the backup: {percentiles(during)}")
    print(f"restore: {restored:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().reports))
