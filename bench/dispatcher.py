"""Benchmark: N simulated residents each complete a whole report through the dispatcher.

Runs on a real SQLite file in a temporary folder; the outbox is delivered to a null channel by the
real outbox sender, concurrently. Prints events/s, p50/p99 latency per event and peak RSS.

In the same run, on the same file, it measures the storage floor for this shape of work: one
transaction per event of 1 dedupe insert, 2 selects, 1 state upsert and 1 outbox insert, in one
thread hop per event (plain sqlite3 on one worker thread), with the same concurrency, its outbox
rows as long as the bot's replies; and prints the ratio of the two rates. The bot's events and
the floor's take turns in rounds (``--rounds``, 5 by default: a fifth of the residents, then as
many floor events, ...), so that both are measured in the same minutes of a shared machine,
whose speed drifts within a run. It also prints the
processor time per event of both (all threads of the process) and their ratio, which the other
processes of a shared machine disturb far less than the clock. One resident's report is played
before the clock starts (the catalogs compile on first use), and the charts' warm-up is done
then (the sender does it at its first quiet moment: matplotlib's 40-50 MB are in the peak RSS).
It counts the calls to the writer's and the reader's threads per event (the dispatcher's and the
outbox sender's), which no other process disturbs, and prints the load average at the end of
the run.

    python bench/dispatcher.py                      # 1,000 residents
    python bench/dispatcher.py --residents 10000
    python bench/dispatcher.py --compare            # 1,000 then 10,000, each in a fresh process
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiosqlite

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402 - after the path is set for a plain script run
from bot.settings import Settings  # noqa: E402
from handlers.events import ButtonChoice, Command, Inbound, Location, Reply, Sender, Text  # noqa: E402
from handlers.municipality import load_municipality  # noqa: E402
from handlers.ports import Place  # noqa: E402
from storage.db import Database  # noqa: E402


class CallCounter:
    """Counts the calls to each aiosqlite connection's thread (each is a hop both ways)."""

    def __init__(self) -> None:
        self.calls: Counter[int] = Counter()
        real = aiosqlite.Connection._execute
        calls = self.calls

        async def counted(conn: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            calls[id(conn)] += 1
            return await real(conn, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign,assignment]

    def of(self, conn: aiosqlite.Connection) -> int:
        """The calls to ``conn``'s thread so far."""
        return self.calls[id(conn)]


CALLS = CallCounter()


class NullChannel:
    """Accepts every message and drops it."""

    name = "bench"

    def __init__(self) -> None:
        self.delivered = 0

    async def send(self, chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        """Drop a message."""
        self.delivered += 1
        return None


class NullGeocoder:
    """Knows no address and answers at once."""

    async def geocode(self, query: str) -> Place | None:
        """Find nothing."""
        return None

    async def reverse(self, latitude: float, longitude: float) -> str | None:
        """Name nothing."""
        return None


def report_events(n: int) -> list[Inbound]:
    """The events of one resident's whole report, from /start to the confirmation."""
    s = Sender("bench", f"r{n}", f"r{n}", "Resident")
    return [
        Command(s, "start", update_id=f"{n}-1"),
        ButtonChoice(s, "lang:sr-Latn", update_id=f"{n}-2"),
        ButtonChoice(s, "menu:report", update_id=f"{n}-3"),
        ButtonChoice(s, "cat:street_lighting", update_id=f"{n}-4"),
        Text(s, f"Ne radi ulična svetiljka kod broja {n}", update_id=f"{n}-5"),
        ButtonChoice(s, "photos:skip", update_id=f"{n}-6"),
        Location(s, 42.966 + (n % 100) / 10000, 22.129, update_id=f"{n}-7"),
        ButtonChoice(s, "sum:confirm", update_id=f"{n}-8"),
    ]


async def run(residents: int, concurrency: int, rounds: int) -> dict[str, Any]:
    """Play every resident's report, ``concurrency`` residents at a time, and the storage
    floor's as many events, alternating in ``rounds`` (a shared machine's speed drifts within a
    run: both see the same minutes); return the figures."""
    municipality = load_municipality(ROOT / "config" / "vlasotince.toml")
    # Thousands of street-light reports within metres of each other would each be offered the
    # others as "the same problem" (bench/duplicates.py measures that search): here it is off,
    # so that every resident files a report as before and runs stay comparable.
    lights = municipality.categories["street_lighting"]
    municipality = replace(
        municipality,
        categories={
            **municipality.categories,
            "street_lighting": replace(lights, duplicate_radius_m=0),
        },
    )
    channel = NullChannel()
    latencies: list[float] = []
    bot, floor = Phase(), Phase()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"BOT_DATA_DIR": tmp})
        async with build_app(
            settings, municipality, {"bench": channel}, geocoder=NullGeocoder()
        ) as app:
            sender = asyncio.create_task(app.sender.run())
            # One resident before the clock starts: what is done once (the catalogs compiled
            # on first use, the first replies' caches) is not throughput.
            for event in report_events(residents):
                await app.dispatcher.dispatch(event)
            await app.sender.drain()
            # The charts' warm-up (matplotlib's import and a first drawing, which the sender
            # starts at its first quiet moment) is once per process too: done before the clock
            # starts, not in a round (the floor's, where the sender is quiet).
            warming = app.sender.warm_charts()
            if warming is not None:
                await asyncio.to_thread(warming.join)
            delivered_before = channel.delivered
            floor_conn = open_floor(settings.database)
            writer_before, reader_before = CALLS.of(app.db.conn), CALLS.of(app.db.reader)
            for first, last in round_bounds(residents, rounds):
                queue: asyncio.Queue[int] = asyncio.Queue()
                for n in range(first, last):
                    queue.put_nowait(n)

                async def resident_worker(queue: asyncio.Queue[int]) -> None:
                    while not queue.empty():
                        for event in report_events(queue.get_nowait()):
                            start = time.perf_counter()
                            await app.dispatcher.dispatch(event)
                            latencies.append(time.perf_counter() - start)

                events_before = len(latencies)
                with bot.timed():
                    await asyncio.gather(*(resident_worker(queue) for _ in range(concurrency)))
                    # The round pays for the checkpoint of what it wrote (the checkpointer's
                    # task runs it off the writer's path, on its own connection).
                    await checkpoint(app.db)
                bot.events += len(latencies) - events_before
                await app.sender.drain()
                # And the sender's writes are checkpointed before the floor's round, not in it.
                await checkpoint(app.db)
                # The floor's outbox rows are as long as the replies the bot wrote.
                reply_length = await bench_reply_length(app.db.conn)
                await storage_floor(
                    floor_conn, floor, bot.events - floor.events, concurrency, reply_length
                )
            floor_conn.close()
            # The sender's calls of these events are counted too: it delivers them until here.
            writer_calls = CALLS.of(app.db.conn) - writer_before
            reader_calls = CALLS.of(app.db.reader) - reader_before
            sender.cancel()
            async with app.db.conn.execute("SELECT COUNT(*) FROM reports") as cur:
                row = await cur.fetchone()
            stored = int(row[0]) if row else 0
    assert stored == residents + 1, f"{stored} reports stored of {residents} and the first"
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    latencies.sort()
    return {
        "floor_events_per_s": floor.rate,
        "ratio": bot.rate / floor.rate,
        # The processor time of the process (all its threads) per event: on a shared machine
        # the clock also counts the time other processes had the cores, this does not.
        "cpu_us": bot.cpu_per_event * 1e6,
        "floor_cpu_us": floor.cpu_per_event * 1e6,
        "cpu_ratio": floor.cpu_per_event / bot.cpu_per_event,
        "residents": residents,
        "rounds": rounds,
        "load": load,  # of 1, 5 and 15 minutes at the end of the run
        "events": len(latencies),
        "events_per_s": bot.rate,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "delivered": channel.delivered - delivered_before,
        "writer_calls": writer_calls / len(latencies),
        "reader_calls": reader_calls / len(latencies),
    }


class Phase:
    """The events, the clock's time and the processor's time of one side, over its rounds."""

    def __init__(self) -> None:
        self.events = 0
        self.elapsed = 0.0
        self.cpu = 0.0

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Add the clock's and the processor's time of the block."""
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.elapsed += time.perf_counter() - started
            self.cpu += time.process_time() - cpu_started

    @property
    def rate(self) -> float:
        """Events per second of the clock."""
        return self.events / self.elapsed

    @property
    def cpu_per_event(self) -> float:
        """Seconds of processor time per event."""
        return self.cpu / self.events


async def checkpoint(db: Database) -> None:
    """Checkpoint the log now (as the checkpointer's task would within a second)."""
    if db.checkpoints is not None:
        await db.checkpoints.checkpoint()


def round_bounds(residents: int, rounds: int) -> list[tuple[int, int]]:
    """The residents of each round, as ranges of their numbers."""
    cuts = [residents * i // rounds for i in range(rounds + 1)]
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


async def bench_reply_length(conn: aiosqlite.Connection) -> int:
    """The average length of the outbox rows the bot wrote."""
    async with conn.execute(
        "SELECT AVG(LENGTH(payload)) FROM outbox WHERE channel = 'bench'"
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row and row[0] else 0


FLOOR_SQL = (
    ("INSERT INTO processed_updates (channel, update_id, at) VALUES ('floor', ?, ?)", "update"),
    ("SELECT id, language, role FROM users WHERE channel = 'bench' AND external_id = ?", "user"),
    ("SELECT state, draft FROM conversations WHERE user_id = ?", "id"),
    (
        "INSERT INTO conversations (user_id, state, draft, updated_at) VALUES (?, 'report:x', ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, draft = excluded.draft,"
        " updated_at = excluded.updated_at",
        "state",
    ),
    (
        "INSERT INTO outbox (channel, chat_id, user_id, payload, next_attempt_at, created_at)"
        " VALUES ('floor', ?, ?, ?, ?, ?)",
        "outbox",
    ),
)


def floor_event(conn: sqlite3.Connection, n: int, users: int, reply: str) -> None:
    """One event's transaction at the storage floor: everything in one call on the thread."""
    now = "2026-12-01T10:00:00+00:00"
    user = n % users + 1
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(FLOOR_SQL[0][0], (f"f{n}", now))
    conn.execute(FLOOR_SQL[1][0], (f"r{user}",)).fetchone()
    conn.execute(FLOOR_SQL[2][0], (user,)).fetchone()
    conn.execute(FLOOR_SQL[3][0], (user, '{"category": "street_lighting"}', now))
    conn.execute(FLOOR_SQL[4][0], (f"r{user}", user, reply, now, now))
    conn.execute("COMMIT")


def open_floor(path: Path) -> sqlite3.Connection:
    """The floor's connection, open for the whole run (as the bot's are)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the bot's connections
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


async def storage_floor(
    conn: sqlite3.Connection, phase: Phase, events: int, concurrency: int, reply_length: int
) -> None:
    """The floor's next ``events`` (the same file, one transaction and one thread hop per
    event), added to ``phase``. Its outbox rows are deleted after (untimed): the bot's sender
    would otherwise step over them as pending rows of a channel it does not know."""
    reply = json.dumps({"text": "x" * max(0, reply_length - 12)})  # as long as the bot's
    users = int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]) or 1
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(phase.events, phase.events + events):
        queue.put_nowait(n)
    with ThreadPoolExecutor(max_workers=1) as thread:  # one worker thread, as aiosqlite has

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                await loop.run_in_executor(thread, floor_event, conn, n, users, reply)

        with phase.timed():
            await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.events += events
    conn.execute("DELETE FROM outbox WHERE channel = 'floor'")


def show(figures: dict[str, Any]) -> None:
    """Print one run's figures."""
    print(
        f"residents={figures['residents']:.0f} events={figures['events']:.0f}"
        f" events/s={figures['events_per_s']:.0f} p50={figures['p50_ms']:.2f}ms"
        f" p99={figures['p99_ms']:.2f}ms peak_rss={figures['peak_rss_mb']:.1f}MB"
        f" replies_delivered={figures['delivered']:.0f}"
        f" floor_events/s={figures['floor_events_per_s']:.0f} ratio={figures['ratio']:.2f}"
        f" cpu/event={figures['cpu_us']:.0f}us floor_cpu/event={figures['floor_cpu_us']:.0f}us"
        f" cpu_ratio={figures['cpu_ratio']:.2f}"
        f" calls/event: writer={figures['writer_calls']:.2f} reader={figures['reader_calls']:.2f}"
        f" (load average {figures['load']})"
    )


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument(
        "--concurrency", type=int, default=10, help="residents writing at the same time"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of the bot's and the floor's events, in turn"
    )
    parser.add_argument("--compare", action="store_true", help="1,000 then 10,000 residents")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not args.compare:
        figures = asyncio.run(run(args.residents, args.concurrency, args.rounds))
        print(json.dumps(figures)) if args.json else show(figures)
        return
    runs = []
    for residents in (1000, 10000):
        out = subprocess.run(
            [sys.executable, __file__, "--json", "--residents", str(residents),
             "--concurrency", str(args.concurrency), "--rounds", str(args.rounds)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(out.stdout))
        show(runs[-1])
    growth = runs[1]["peak_rss_mb"] - runs[0]["peak_rss_mb"]
    print(f"peak RSS from 1,000 to 10,000 residents: {growth:+.1f}MB")


if __name__ == "__main__":
    main()
