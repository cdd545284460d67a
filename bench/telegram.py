"""Benchmark: our bot against a bare python-telegram-bot echo bot, on the same fake Bot API.

One run starts the fake Bot API (tests/fakes/telegram_api.py) in a process of its own, then runs
each bot in a process of its own against it, one after the other, and feeds each the same 2,000
text messages from 200 residents (10 each), offered at once. For each update it takes the time
from the moment it was offered to the moment its reply reached the fake, and prints each bot's
updates/s, the p50/p99 of that time, and the ratio of the two rates.

The residents have not chosen a language yet, so our bot answers every message with exactly one
message (the language choice), as the echo bot does; it still stores every step: the user, the
conversation, the update id and the outbox row, in one transaction per message. Our bot's global
send rate (TELEGRAM_RATE) is set above the load, since the echo bot has none.

    python bench/telegram.py [--residents 200] [--messages 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path and its name hides the real
# ``telegram`` package; the echo bot needs that package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def echo_bot(token: str, base_url: str) -> None:
    """The bare echo bot of python-telegram-bot's examples, updates handled concurrently."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message and update.message.text:
            await update.message.reply_text(update.message.text)

    app = Application.builder().token(token).base_url(base_url).concurrent_updates(True).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(poll_interval=0, timeout=10)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_fake() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start the fake Bot API and read where it listens."""
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0", "--no-check-answers"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert fake.stdout is not None
    return fake, json.loads(fake.stdout.readline())


def updates(residents: int, messages: int, first_id: int) -> list[dict[str, Any]]:
    """The messages, as raw updates: resident by resident, interleaved as they would arrive."""
    out: list[dict[str, Any]] = []
    for m in range(messages):
        for r in range(residents):
            user = {"id": 900000 + r, "is_bot": False, "first_name": f"Resident{r}"}
            out.append(
                {
                    "update_id": first_id + len(out),
                    "message": {
                        "message_id": m + 1,
                        "from": user,
                        "chat": {
                            "id": 900000 + r,
                            "type": "private",
                            "first_name": user["first_name"],
                        },
                        "date": int(time.time()),
                        "text": f"Kontejner kod broja {r} je pun ({m})",
                    },
                }
            )
    return out


async def measure(control: str, batch: list[dict[str, Any]], seconds: float) -> list[float]:
    """Offer the updates and return, per update, the seconds until its reply arrived."""
    async with aiohttp.ClientSession() as http:
        async with http.delete(f"{control}/calls"):
            pass
        offered = time.time()
        async with http.post(f"{control}/updates", json=batch) as r:
            assert r.status == 200, await r.text()
        deadline = time.monotonic() + seconds
        calls: list[dict[str, Any]] = []
        since = 0
        while time.monotonic() < deadline:
            # Only the calls not read yet, so that reading them loads the fake little.
            async with http.get(f"{control}/calls", params={"since": str(since)}) as r:
                fresh = (await r.json())["calls"]
            # A call still being answered has no response yet: read it again next time.
            pending = [c["index"] for c in fresh if not c["response"]]
            done = [c for c in fresh if c["response"] and (not pending or c["index"] < pending[0])]
            since = pending[0] if pending else max([c["index"] + 1 for c in fresh], default=since)
            calls += [c for c in done if c["method"] == "sendMessage"]
            if len(calls) >= len(batch):
                break
            await asyncio.sleep(0.5)
        else:
            raise TimeoutError(f"only {len(calls)} replies of {len(batch)} arrived")
    # The k-th reply to a chat answers the k-th update of that chat.
    replies: dict[int, list[float]] = defaultdict(list)
    for call in sorted(calls, key=lambda c: c["index"]):
        if call["status"] == 200:
            replies[int(call["params"]["chat_id"])].append(call["time"])
    seen: dict[int, int] = defaultdict(int)
    latencies = []
    for update in batch:
        chat = update["message"]["chat"]["id"]
        latencies.append(replies[chat][seen[chat]] - offered)
        seen[chat] += 1
    return latencies


def run_bot(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a bot process."""
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a bot process."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


async def wait_polling(control: str, since: int) -> None:
    """Wait until a freshly started bot polls getUpdates."""
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            async with http.get(f"{control}/calls", params={"method": "getUpdates"}) as r:
                if len((await r.json())["calls"]) > since:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError("the bot never polled")


def figures(name: str, latencies: list[float]) -> float:
    """Print one bot's figures; return its updates/s."""
    ordered = sorted(latencies)
    rate = len(ordered) / ordered[-1]
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"{name:<10} updates={len(ordered)} updates/s={rate:.0f}"
        f" p50={statistics.median(ordered) * 1000:.0f}ms p99={p99 * 1000:.0f}ms"
    )
    return rate


def main() -> None:
    """Run both bots and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument(
        "--echo-bot", nargs=2, metavar=("TOKEN", "BASE_URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.echo_bot:
        echo_bot(*args.echo_bot)
        return
    fake, info = start_fake()
    control = info["control_url"].rstrip("/")
    rates = {}
    try:
        echo = run_bot(
            [sys.executable, __file__, "--echo-bot", info["token"], info["base_url"]],
            dict(os.environ),
        )
        asyncio.run(wait_polling(control, 0))
        batch = updates(args.residents, args.messages, 1)
        rates["echo"] = figures("echo bot", asyncio.run(measure(control, batch, 120)))
        stop(echo)
        with tempfile.TemporaryDirectory() as data:
            env = {
                **os.environ,
                "TELEGRAM_TOKEN": info["token"],
                "TELEGRAM_API_URL": info["base_url"],
                "TELEGRAM_FILE_URL": info["base_file_url"],
                "TELEGRAM_RATE": "100000",
                "BOT_DATA_DIR": data,
                "HTTP_PORT": str(free_port()),
                "LOG_LEVEL": "WARNING",
            }
            ours = run_bot([sys.executable, "-m", "bot", "run"], env)
            asyncio.run(wait_polling(control, 0))
            batch = updates(args.residents, args.messages, len(batch) + 1)
            rates["ours"] = figures("our bot", asyncio.run(measure(control, batch, 300)))
            stop(ours)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    print(f"ratio our/echo = {rates['ours'] / rates['echo']:.2f} (target >= 0.50)")


if __name__ == "__main__":
    main()
