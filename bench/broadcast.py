"""Benchmark: a broadcast to 10,000 subscribers at 1,000 messages/s, killed half way and resumed.

One run starts the fake Bot API (tests/fakes/telegram_api.py) in its own process, prepares a
database with N subscribers and one announcement to them (as /announce leaves it: outbox rows),
starts the bot (``python -m bot run``) with TELEGRAM_RATE set, and reads the fake's log of
sendMessage calls. It prints the achieved rate; at about half way it kills the bot with SIGKILL,
starts it again, and when the fake has gone quiet counts from its log how many subscribers got
the message exactly once, more than once (duplicates) or never (lost).

    python bench/broadcast.py [--subscribers 10000] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from handlers.events import Reply  # noqa: E402 - after the path is set
from storage import broadcasts, outbox, users  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.outbox import NewMessage  # noqa: E402

FIRST_CHAT = 800_000


async def prepare(data: Path, subscribers: int) -> None:
    """A database with the subscribers and one announcement queued to each of them."""
    db = await Database.open(data / "bot.db")
    now = datetime.now(UTC)
    async with db.transaction() as conn:
        payload = Reply("📢 Communal announcements\n\nNo water on Monday 8-14.").to_payload()
        messages = []
        broadcast_id = await broadcasts.create(
            conn, "communal", "No water", None, None, None, subscribers, now
        )
        for i in range(subscribers):
            chat = str(FIRST_CHAT + i)
            user = await users.create_user(
                conn, channel="telegram", external_id=chat, chat_id=chat, first_name="R",
                role="resident", now=now,
            )  # fmt: skip
            messages.append(NewMessage("telegram", chat, user.id, payload, broadcast_id))
        await outbox.enqueue(conn, messages, now)
    await db.close()


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Log:
    """The fake's sendMessage calls to subscribers, read incrementally."""

    def __init__(self, control: str) -> None:
        self.control = control
        self.since = 0
        self.sends: list[tuple[int, float]] = []

    async def read(self, http: aiohttp.ClientSession) -> None:
        """Read the calls made since the last read (a call still being answered waits)."""
        # Only sendMessage: a getUpdates long poll stays unanswered for half a minute.
        query = {"since": str(self.since), "method": "sendMessage"}
        async with http.get(f"{self.control}/calls", params=query) as r:
            fresh = (await r.json())["calls"]
        pending = [c["index"] for c in fresh if not c["response"]]
        for call in fresh:
            if pending and call["index"] >= pending[0]:
                break
            self.since = call["index"] + 1
            chat = int(call["params"].get("chat_id", 0))
            if call["status"] == 200 and chat >= FIRST_CHAT:
                self.sends.append((chat, call["time"]))


def start_bot(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start the bot process."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )


async def watch(log: Log, until: int, quiet_s: float, deadline_s: float) -> None:
    """Read the log until ``until`` messages were seen, or nothing came for ``quiet_s``."""
    started = time.monotonic()
    last_count, last_change = -1, time.monotonic()
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < deadline_s:
            await log.read(http)
            if len(log.sends) >= until:
                return
            if len(log.sends) != last_count:
                last_count, last_change = len(log.sends), time.monotonic()
            elif time.monotonic() - last_change > quiet_s and last_count > 0:
                return
            await asyncio.sleep(0.05)


def rate(sends: list[tuple[int, float]]) -> float:
    """Messages per second over a run of sends."""
    if len(sends) < 2:
        return 0.0
    return (len(sends) - 1) / (sends[-1][1] - sends[0][1])


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0", "--no-check-answers"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert fake.stdout is not None
    info: dict[str, Any] = json.loads(fake.stdout.readline())
    try:
        with tempfile.TemporaryDirectory() as data:
            asyncio.run(prepare(Path(data), args.subscribers))
            env = {
                **os.environ, "TELEGRAM_TOKEN": info["token"], "TELEGRAM_API_URL": info["base_url"],
                "TELEGRAM_FILE_URL": info["base_file_url"], "TELEGRAM_RATE": str(args.rate),
                "BOT_DATA_DIR": data, "HTTP_PORT": str(free_port()), "LOG_LEVEL": "WARNING",
            }  # fmt: skip
            log = Log(info["control_url"].rstrip("/"))
            bot = start_bot(env)
            asyncio.run(watch(log, 1, quiet_s=30, deadline_s=120))
            # Reading the fake's log lags behind it: half way is timed from the first send.
            halfway = log.sends[0][1] + args.subscribers / 2 / args.rate
            time.sleep(max(0.0, halfway - time.time()))
            bot.send_signal(signal.SIGKILL)
            bot.wait()
            asyncio.run(watch(log, args.subscribers * 2, quiet_s=3, deadline_s=60))
            killed_at = len(log.sends)
            first = list(log.sends)
            env["HTTP_PORT"] = str(free_port())
            bot = start_bot(env)
            asyncio.run(watch(log, args.subscribers * 2, quiet_s=10, deadline_s=600))
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=30)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    report(args, log, first, killed_at)


def report(
    args: argparse.Namespace, log: Log, first: list[tuple[int, float]], killed_at: int
) -> None:
    """Print the rate and the exactly-once count."""
    counts = Counter(chat for chat, _ in log.sends)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    lost = args.subscribers - len(counts)
    second = log.sends[killed_at:]
    print(f"subscribers={args.subscribers} rate_set={args.rate:.0f}/s")
    print(
        f"before the kill: {len(first)} sent at {rate(first):.0f}/s"
        f" ({rate(first) / args.rate:.0%} of the set rate)"
    )
    print(f"after the restart: {len(second)} sent at {rate(second):.0f}/s")
    print(
        f"exactly once: {sum(1 for n in counts.values() if n == 1)},"
        f" duplicates: {duplicates}, lost: {lost}"
    )


if __name__ == "__main__":
    main()
