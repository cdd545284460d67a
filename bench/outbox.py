"""Benchmark: the outbox sender's fairness, and what it costs while it waits for a retry.

The real sender (bot/outbox.py) and the real Telegram channel (python-telegram-bot) in this
process, on a real SQLite file, talk to the fake Bot API (tests/fakes/telegram_api.py) in its own
process, with the production rates (TELEGRAM_RATE's default, 20 messages a minute per group).

1. Fairness: 200 alerts are queued to one staff group, then 100 replies are committed one by
   one, one every 0.2 s, each to another resident (as the dispatcher commits them, then wakes
   the sender). A reply's latency runs from its commit to the fake's receipt of its
   sendMessage; p50/p99 are printed.
2. Waiting: a chat's first message gets a 429 with retry_after 20 and four more wait behind it.
   The process's CPU time is measured over 15 s of that wait, then the five are delivered.

    python bench/outbox.py [--replies 100] [--alerts 200] [--every 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bot.channels.telegram import TelegramChannel, make_bot  # noqa: E402 - after the path is set
from bot.clock import SystemClock  # noqa: E402
from bot.outbox import OutboxSender, SendLimits  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.events import Reply  # noqa: E402
from storage import outbox  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.outbox import NewMessage  # noqa: E402

GROUP = "-1001000000102"
FIRST_RESIDENT = 700_001
WAITING = "700002"
RETRY_AFTER_S = 20
MEASURED_S = 15.0


class Fake:
    """The fake Bot API in its own process, read through its control API."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0",
             "--no-check-answers"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.info: dict[str, Any] = json.loads(self.process.stdout.readline())
        self.control = str(self.info["control_url"]).rstrip("/")

    async def sends(self, http: aiohttp.ClientSession, chats: list[str]) -> list[dict[str, Any]]:
        """The answered sendMessage calls to some chats."""
        query = {"method": "sendMessage"}
        async with http.get(f"{self.control}/calls", params=query) as r:
            calls: list[dict[str, Any]] = (await r.json())["calls"]
        return [
            c for c in calls
            if str(c["params"].get("chat_id")) in chats and c["status"] == 200
        ]  # fmt: skip

    async def fail(self, http: aiohttp.ClientSession, **kwargs: Any) -> None:
        """Answer the next matching call with an error."""
        async with http.post(f"{self.control}/fail", json=kwargs) as r:
            r.raise_for_status()

    def stop(self) -> None:
        """Stop the fake."""
        self.process.terminate()
        self.process.wait(timeout=10)


async def until(check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    """Poll ``check`` every 50 ms until it holds (at most ``seconds``)."""
    async with asyncio.timeout(seconds):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def enqueue(db: Database, chat: str, texts: list[str]) -> None:
    """Commit messages to a chat in one group-commit batch, as the dispatcher does."""
    messages = [NewMessage("telegram", chat, None, Reply(t).to_payload()) for t in texts]
    now = SystemClock().now()

    async def work(conn: Any) -> None:
        await outbox.enqueue(conn, messages, now)

    await db.in_batch(work)


async def fairness(
    fake: Fake, db: Database, sender: OutboxSender, http: aiohttp.ClientSession, args: Any
) -> list[float]:
    """Latencies (s) of replies committed while a group's backlog waits for its rate."""
    await enqueue(db, GROUP, [f"alert {i}" for i in range(args.alerts)])
    sender.wake()
    committed: dict[str, float] = {}
    residents = [str(FIRST_RESIDENT + i) for i in range(args.replies)]
    for i, chat in enumerate(residents):
        text = f"reply {i}"
        await enqueue(db, chat, [text])
        committed[text] = time.time()
        sender.wake()
        await asyncio.sleep(args.every)  # residents write now and then, not all at once

    async def all_replies() -> bool:
        return len(await fake.sends(http, residents)) >= int(args.replies)

    await until(all_replies, 60)
    sent = {c["params"]["text"]: c["time"] for c in await fake.sends(http, residents)}
    group = len(await fake.sends(http, [GROUP]))
    print(f"group: {group} of {args.alerts} alerts sent meanwhile (20 a minute after a burst)")
    return [sent[text] - at for text, at in committed.items()]


async def waiting(
    fake: Fake, db: Database, sender: OutboxSender, http: aiohttp.ClientSession
) -> tuple[float, float]:
    """CPU time and wall time while a chat's first message waits RETRY_AFTER_S seconds."""
    await fake.fail(
        http, method="sendMessage", status=429, retry_after=RETRY_AFTER_S, chat_id=int(WAITING)
    )

    async def refused() -> bool:
        async with http.get(f"{fake.control}/calls", params={"method": "sendMessage"}) as r:
            calls = (await r.json())["calls"]
        return any(str(c["params"].get("chat_id")) == WAITING for c in calls) is True

    await enqueue(db, WAITING, [f"waiting {i}" for i in range(5)])
    sender.wake()
    await until(refused, 10)
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(MEASURED_S)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall

    async def delivered() -> bool:
        return len(await fake.sends(http, [WAITING])) >= 5

    await until(delivered, RETRY_AFTER_S + 10)
    return cpu, wall


async def run(fake: Fake, data: Path, args: Any) -> None:
    """Both scenarios, each on its own database and sender."""
    settings = Settings.from_env({})
    bot = make_bot(fake.info["token"], fake.info["base_url"], fake.info["base_file_url"])
    await bot.initialize()
    channels = {"telegram": TelegramChannel(bot, data)}
    try:
        async with aiohttp.ClientSession() as http:
            for name in ("fairness", "waiting"):
                db = await Database.open(data / f"{name}.db")
                limits = SendLimits({"telegram": settings.telegram_rate})
                sender = OutboxSender(db, channels, SystemClock(), limits=limits)
                task = asyncio.create_task(sender.run())
                try:
                    if name == "fairness":
                        latencies = sorted(await fairness(fake, db, sender, http, args))
                        p50 = statistics.median(latencies) * 1000
                        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
                        print(
                            f"reply latency over {len(latencies)} replies (commit -> Bot API):"
                            f" p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f}"
                            " ms"
                        )
                    else:
                        cpu, wall = await waiting(fake, db, sender, http)
                        print(
                            f"while a {RETRY_AFTER_S} s retry_after was pending (4 more queued"
                            f" behind it): {cpu:.3f} s CPU in {wall:.1f} s ({cpu / wall:.1%})"
                        )
                finally:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    await db.close()
    finally:
        await bot.shutdown()


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=100)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--every", type=float, default=0.2, help="seconds between replies")
    args = parser.parse_args()
    fake = Fake()
    try:
        with tempfile.TemporaryDirectory() as data:
            asyncio.run(run(fake, Path(data), args))
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
