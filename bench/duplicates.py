"""Benchmark: the duplicate search ("is it one of these?") against 100,000 reports.

Fills a real SQLite file, migrated as the bot migrates it, with reports spread as a town's are
(most near the centre, the rest over the municipality; a tenth of them open, ten categories, half
with a photo), then runs the report flow's own query (storage.duplicates.nearby_open, through
aiosqlite as a step runs it) at random places and categories. The same run measures, on files
filled alike: the query without the index (``reports_by_category_place`` dropped) and, for the
choice of the index, an R*Tree virtual table kept beside the reports. Prints, for each, the time
to insert the reports, the file size, and the per-check latency (p50, p99).

    python bench/duplicates.py [--reports 100000] [--checks 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402 - after the path is set for a plain script run

from handlers.municipality import CATEGORY_IDS  # noqa: E402
from storage import duplicates  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.sql import fetch_all  # noqa: E402

CENTRE = (42.966, 22.129)  # Vlasotince (config/vlasotince.toml)
RADIUS_M = 150
OPEN_SHARE = 0.1
STATUSES_ENDED = ("closed", "rejected", "resolved")
START = datetime(2024, 1, 1, tzinfo=UTC)

Check = Callable[[aiosqlite.Connection, str, float, float], Awaitable[list[object]]]


def place(rng: random.Random) -> tuple[float, float]:
    """A report's point: 80 % within a few km of the centre, the rest anywhere in 20 km."""
    if rng.random() < 0.8:
        north, east = rng.gauss(0, 1500), rng.gauss(0, 1500)
    else:
        r, a = 20_000 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        north, east = r * math.cos(a), r * math.sin(a)
    lat = CENTRE[0] + north / duplicates.METRES_PER_DEGREE
    per_lon = duplicates.METRES_PER_DEGREE * math.cos(math.radians(CENTRE[0]))
    return lat, CENTRE[1] + east / per_lon


def rows(n: int, seed: int) -> list[tuple[object, ...]]:
    """The reports to insert (the same for every variant)."""
    rng = random.Random(seed)
    out: list[tuple[object, ...]] = []
    for i in range(1, n + 1):
        lat, lon = place(rng)
        status = "new" if rng.random() < OPEN_SHARE else rng.choice(STATUSES_ENDED)
        at = (START + timedelta(minutes=15 * i)).isoformat()
        out.append((
            i, f"VLA-B-{i:07d}", 2024, i, rng.choice(CATEGORY_IDS), "roads",
            f"Problem number {i} near the place", lat, lon, status, at, at, at,
        ))  # fmt: skip
    return out


async def fill(db: Database, reports: list[tuple[object, ...]], rtree: bool) -> float:
    """Insert the reports (and half of them a photo) in one transaction; return the seconds."""
    conn = db.conn
    await conn.execute(
        "INSERT INTO users (id, channel, external_id, chat_id, created_at)"
        " VALUES (1, 'bench', 'r1', 'r1', '2024-01-01T00:00:00+00:00')"
    )
    await conn.commit()
    started = time.perf_counter()
    async with db.transaction():
        await conn.executemany(
            "INSERT INTO reports (id, ref, year, seq, user_id, category, service, description,"
            " latitude, longitude, status, created_at, updated_at, sla_due_at)"
            " VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            reports,
        )
        await conn.executemany(
            "INSERT INTO report_photos (report_id, position, path, sha256, channel, file_id)"
            " VALUES (?, 0, ?, 'x', 'bench', 'f')",
            [(r[0], f"photos/{r[0]}.jpg") for r in reports if int(str(r[0])) % 2],
        )
        if rtree:
            await conn.executemany(
                "INSERT INTO reports_place (id, min_lat, max_lat, min_lon, max_lon)"
                " VALUES (?, ?, ?, ?, ?)",
                [(r[0], r[7], r[7], r[8], r[8]) for r in reports],
            )
    return time.perf_counter() - started


async def rtree_check(
    conn: aiosqlite.Connection, category: str, lat: float, lon: float
) -> list[object]:
    """The same search through an R*Tree of the points (the alternative that was measured)."""
    per_lon = duplicates.METRES_PER_DEGREE * math.cos(math.radians(lat))
    d_lat, d_lon = RADIUS_M / duplicates.METRES_PER_DEGREE, RADIUS_M / per_lon
    return list(
        await fetch_all(
            conn,
            "SELECT id, ref, status, created_at, description, photo, dist2 FROM ("
            " SELECT r.id, r.ref, r.status, r.created_at, r.description,"
            "  (SELECT p.path FROM report_photos p WHERE p.report_id = r.id"
            "   ORDER BY p.position LIMIT 1) AS photo,"
            "  ((r.latitude - :lat) * :per_lat) * ((r.latitude - :lat) * :per_lat)"
            "  + ((r.longitude - :lon) * :per_lon) * ((r.longitude - :lon) * :per_lon) AS dist2"
            " FROM reports_place g CROSS JOIN reports r ON r.id = g.id"  # the R*Tree drives
            " WHERE g.min_lat >= :lat - :d_lat AND g.max_lat <= :lat + :d_lat"
            "  AND g.min_lon >= :lon - :d_lon AND g.max_lon <= :lon + :d_lon"
            "  AND r.category = :category AND r.status IN ('new', 'acknowledged',"
            "  'in_progress', 'reopened')"
            ") WHERE dist2 <= :r2 ORDER BY dist2, id LIMIT 3",
            {
                "lat": lat,
                "lon": lon,
                "per_lat": duplicates.METRES_PER_DEGREE,
                "per_lon": per_lon,
                "d_lat": d_lat,
                "d_lon": d_lon,
                "category": category,
                "r2": RADIUS_M * RADIUS_M,
            },
        )
    )


async def shipped_check(
    conn: aiosqlite.Connection, category: str, lat: float, lon: float
) -> list[object]:
    """The report flow's own search."""
    return list(await duplicates.nearby_open(conn, category, lat, lon, RADIUS_M))


async def measure(conn: aiosqlite.Connection, check: Check, checks: int, seed: int) -> list[float]:
    """Milliseconds per check at random places and categories."""
    rng = random.Random(seed)
    times = []
    for _ in range(checks):
        lat, lon = place(rng)
        category = rng.choice(CATEGORY_IDS)
        started = time.perf_counter()
        await check(conn, category, lat, lon)
        times.append((time.perf_counter() - started) * 1000)
    return times


def p(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of the values."""
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


async def variant(
    name: str, folder: Path, reports: list[tuple[object, ...]], checks: int, how: str
) -> None:
    """Fill one file, measure its checks, print one line."""
    path = folder / f"{name}.sqlite3"
    db = await Database.open(path)
    try:
        if how in ("none", "rtree"):
            await db.conn.execute("DROP INDEX reports_by_category_place")
        if how == "rtree":
            await db.conn.execute(
                "CREATE VIRTUAL TABLE reports_place USING rtree(id, min_lat, max_lat,"
                " min_lon, max_lon)"
            )
        await db.conn.commit()
        seconds = await fill(db, reports, rtree=how == "rtree")
        await db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size / 1e6
        check: Check = rtree_check if how == "rtree" else shipped_check
        await measure(db.conn, check, 20, seed=99)  # warm the page cache
        times = await measure(db.conn, check, checks, seed=7)
        found = 0
        for s in range(50):
            found += len(await check(db.conn, "road_damage", *place(random.Random(s))))
        print(
            f"{name:<24} insert {seconds:6.2f} s  file {size:6.1f} MB  checks {checks:5d}"
            f"  p50 {p(times, 0.5):7.3f} ms  p99 {p(times, 0.99):7.3f} ms"
            f"  (found {found} in 50 sample checks)"
        )
    finally:
        await db.close()


async def run(n: int, checks: int) -> None:
    """Every variant on its own file, filled with the same reports."""
    reports = rows(n, seed=1)
    print(f"{n} reports ({OPEN_SHARE:.0%} open), radius {RADIUS_M} m, SQLite {sqlite_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await variant("B-tree index (shipped)", folder, reports, checks, "btree")
        await variant("no index (reference)", folder, reports, max(50, checks // 10), "none")
        await variant("R*Tree (alternative)", folder, reports, checks, "rtree")


def sqlite_version() -> str:
    """The SQLite library's version."""
    import sqlite3

    return sqlite3.sqlite_version


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.reports, args.checks))


if __name__ == "__main__":
    main()
