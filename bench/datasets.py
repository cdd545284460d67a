"""Benchmark: what keeping the open data sets fresh costs (the job ``open-data-changes``).

Prepares a database with N reports (as bench/open311.py does), then measures the minute's check
when nothing changed (one read of the change counter) and when a report changed (the check, then
every data set built and written again: reports.csv, reports.geojson, plan.csv, data.json and the
ZIP), with the longest time the event loop was held meanwhile (a ticker every 5 ms: what the
bot's events and messages wait at most while the files are rebuilt). The load average is
printed: the machine is shared.

    python bench/datasets.py [--reports 10000] [--checks 200] [--rebuilds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.open311 import prepare  # noqa: E402 - after the path is set
from bot import web as public_web  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.municipality import load_municipality  # noqa: E402
from storage import opendata  # noqa: E402


class Ticker:
    """The gaps between the loop's turns, beyond the ticker's own 5 ms (the longest alone is
    mostly the shared machine's noise: the p99 and the time held in gaps over 10 ms say more)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []

    @property
    def longest(self) -> float:
        """The longest gap (ms)."""
        return max(self.gaps, default=0.0)

    def p99(self) -> float:
        """The 99th percentile of the gaps (ms)."""
        return statistics.quantiles(self.gaps, n=100)[98] if len(self.gaps) > 1 else self.longest

    def held(self) -> float:
        """The time (ms) spent in gaps over 10 ms."""
        return sum(g for g in self.gaps if g > 10)

    async def run(self) -> None:
        """Tick until cancelled."""
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.gaps.append((now - last - 0.005) * 1000)
            last = now


async def main(count: int, checks: int, rebuilds: int) -> None:
    """Prepare, measure, print."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        await prepare(data / "bot.db", count)
        settings = Settings.from_env(
            {"BOT_DATA_DIR": str(data), "BOT_CONFIG": str(ROOT / "config" / "vlasotince.toml"),
             "GEOCODER_URL": "http://127.0.0.1:9"}
        )  # fmt: skip
        m = load_municipality(settings.config)
        async with build_app(settings, m, {}) as app:
            writer = public_web.DataSetWriter(settings, app)
            await writer.refresh()
            idle = []
            for _ in range(checks):
                start = time.perf_counter()
                await writer.refresh_if_changed()
                idle.append((time.perf_counter() - start) * 1000)
            changed = []
            ticker = Ticker()
            ticking = asyncio.create_task(ticker.run())
            for i in range(rebuilds):
                async with app.db.transaction() as conn:  # a report taken out, or put back
                    await opendata.set_public(conn, 1, i % 2 == 1)
                start = time.perf_counter()
                await writer.refresh_if_changed()
                changed.append((time.perf_counter() - start) * 1000)
            ticking.cancel()
        files = public_web.data_folder(settings)
        size = sum(p.stat().st_size for p in files.iterdir())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{count} reports (load average {load})")
    print(f"check, nothing changed: p50 {statistics.median(idle):.2f} ms, max {max(idle):.2f} ms,"
          f" {checks} checks")  # fmt: skip
    print(f"check after a report changed (rebuild and write): p50"
          f" {statistics.median(changed):.0f} ms, max {max(changed):.0f} ms, {rebuilds} rebuilds,"
          f" {size / 1024 / 1024:.1f} MiB written each; the event loop held at most"
          f" {ticker.longest:.0f} ms (gaps p99 {ticker.p99():.1f} ms; {ticker.held():.0f} ms in"
          f" gaps over 10 ms, {ticker.held() / rebuilds:.0f} ms per rebuild)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--rebuilds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.reports, args.checks, args.rebuilds))
