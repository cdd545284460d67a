"""Benchmark: the Open311 API and the site's first page over 10,000 reports.

Prepares a database with N reports filed over the last 120 days (so the default 90-day window
holds about three quarters of them, and a list answers the spec's 1,000), in every status, a
third with a public answer; serves the bot's web server (the real routes, on 127.0.0.1); then
measures, one request at a time, the latency of ``GET requests.json``, ``GET requests.xml`` (the
defaults: 1,000 reports each), ``requests.json?service_code=...&page_size=50`` and the site's first
page, and the throughput of ``requests.json`` with 4 requests in flight. Each is measured three
ways: repeated (the whole answer is kept until the next commit), after a commit each time that
changes one of the listed reports (a staff answer: each report's published text is kept by its
revision, so only that one is written again), and after a commit with nothing kept (as after a
restart). Client and server share the process (and the machine's cores), so the figures are upper
bounds of the server's own time. The load average is printed with each part: the machine is
shared.

    python bench/open311.py [--reports 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bot import runtime  # noqa: E402 - after the path is set
from bot import web as public_web  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web.open311 import OpenData, Texts  # noqa: E402
from handlers.municipality import CATEGORY_IDS, load_municipality  # noqa: E402
from storage import opendata, reports, users  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.reports import NewReport  # noqa: E402

STATUS_PATHS = (
    (), ("acknowledged",), ("acknowledged", "in_progress"),
    ("acknowledged", "in_progress", "resolved"),
    ("acknowledged", "in_progress", "resolved", "closed"), ("rejected",),
)  # fmt: skip


async def prepare(path: Path, count: int) -> None:
    """``count`` reports over the last 120 days, as chat would have stored them."""
    m = load_municipality(ROOT / "config" / "vlasotince.toml")
    db = await Database.open(path)
    now = datetime.now(UTC)
    async with db.transaction() as conn:
        user = await users.create_user(
            conn, channel="telegram", external_id="1", chat_id="1", first_name="R",
            role="resident", now=now,
        )  # fmt: skip
        for i in range(count):
            category = CATEGORY_IDS[i % len(CATEGORY_IDS)]
            service = m.service_for(category)
            at = now - timedelta(days=120) + timedelta(seconds=i * 120 * 86400 / count)
            new = NewReport(
                user_id=user.id, category=category, service=service.id,
                description=f"Пријава број {i}: рупа на путу код школе",
                latitude=42.96 + i % 97 / 10_000, longitude=22.12 + i % 89 / 10_000,
                address="Школска 1", photos=(),
                sla_hours=service.sla_hours,
            )  # fmt: skip
            found = await reports.file_report(conn, m.code, new, at)
            old = "new"
            for step, new_status in enumerate(STATUS_PATHS[i % len(STATUS_PATHS)]):
                moment = at + timedelta(hours=step + 1)
                await reports.transition(
                    conn, found.id, old, new_status, actor_id=user.id, now=moment, text="Рад"
                )
                old = new_status
            if i % 3 == 0:
                await reports.add_event(
                    conn, found.id, "reply", actor_id=user.id, now=at, text="Екипа излази."
                )
    await db.close()


Change = Callable[[], Awaitable[None]] | None


async def latencies(
    session: aiohttp.ClientSession, url: str, n: int, change: Change = None
) -> tuple[list[float], int]:
    """``n`` requests one after another: milliseconds each, and the size of one answer.

    With ``change``, a commit comes before each request (not timed): no kept answer serves it.
    """
    found, size = [], 0
    for _ in range(n):
        if change is not None:
            await change()
        start = time.perf_counter()
        async with session.get(url) as answer:
            body = await answer.read()
            assert answer.status == 200, (url, answer.status)
        found.append((time.perf_counter() - start) * 1000)
        size = len(body)
    return found, size


def p99(values: list[float]) -> float:
    """The 99th percentile."""
    return statistics.quantiles(values, n=100)[98]


async def throughput(session: aiohttp.ClientSession, url: str, seconds: float) -> float:
    """Requests per second with 4 in flight."""
    done = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < end:
            async with session.get(url) as answer:
                await answer.read()
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(4)))
    return done / (time.perf_counter() - start)


async def main(count: int, n: int) -> None:
    """Prepare, serve, measure, print."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        started = time.perf_counter()
        await prepare(data / "bot.db", count)
        print(f"prepared {count} reports in {time.perf_counter() - started:.1f} s")
        settings = Settings.from_env(
            {"BOT_DATA_DIR": str(data), "BOT_CONFIG": str(ROOT / "config" / "vlasotince.toml"),
             "HTTP_PORT": str(_free_port()), "GEOCODER_URL": "http://127.0.0.1:9"}
        )  # fmt: skip
        m = load_municipality(settings.config)
        async with build_app(settings, m, {}) as app:
            routes = runtime.web_app()
            served = public_web.add_routes(routes, settings, app)
            runner = await runtime.serve(routes, settings)
            base = f"http://127.0.0.1:{settings.http_port}"
            newest = iter(range(count, 0, -1))
            try:
                async with aiohttp.ClientSession() as session:
                    await _measure(session, base, n, None, "repeated (answers kept):")
                    await _measure(
                        session, base, n, lambda: _commit(app.db, next(newest)),
                        "after a commit each time that changes one listed report:",
                    )  # fmt: skip
                    await _measure(
                        session, base, n, lambda: _forget(app.db, served),
                        "after a commit each time, nothing kept (as after a restart):",
                    )  # fmt: skip
            finally:
                await runner.cleanup()


async def _commit(db: Database, report_id: int) -> None:
    """A staff answer on one of the newest reports (each time another): a commit, so no kept
    answer may serve the next request, and that report's published text changes."""
    async with db.transaction() as conn:
        await reports.add_event(
            conn, report_id, "reply", actor_id=None, now=datetime.now(UTC), text="Ок"
        )


async def _forget(db: Database, data: OpenData) -> None:
    """The oldest report (outside the lists) taken out of the open data and published again in
    one commit (so the site counts its figures again), and every kept text dropped."""
    async with db.transaction() as conn:
        await opendata.set_public(conn, 1, False)
        await opendata.set_public(conn, 1, True)
    data.texts = Texts()


async def _measure(
    session: aiohttp.ClientSession, base: str, n: int, change: Change, title: str
) -> None:
    api = f"{base}/open311/v2"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{title} (load average {load})")
    cases = [
        ("GET requests.json (1,000 of the last 90 days)", f"{api}/requests.json", n),
        ("GET requests.xml (1,000 of the last 90 days)", f"{api}/requests.xml", n),
        ("GET requests.json?service_code=..&page_size=50",
         f"{api}/requests.json?service_code=water_sewage&page_size=50", n),
        ("GET requests/{id}.json?extensions=true",
         f"{api}/requests/VLA-{datetime.now(UTC).year}-00042.json?extensions=true", n),
        ("GET / (the site's first page)", f"{base}/", max(20, n // 4)),
    ]  # fmt: skip
    for name, url, times in cases:
        await latencies(session, url, 3)  # warm up
        found, size = await latencies(session, url, times, change)
        print(
            f"{name}: p50 {statistics.median(found):.1f} ms, p99 {p99(found):.1f} ms,"
            f" {size / 1024:.0f} KiB, {times} requests"
        )
    if change is not None:
        return  # the throughput below is of kept answers
    for name, url in (
        ("requests.json", f"{api}/requests.json"),
        ("requests.xml", f"{api}/requests.xml"),
    ):
        rate = await throughput(session, url, 5)
        print(f"GET {name}, 4 in flight: {rate:.0f} requests/s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.reports, args.requests))
