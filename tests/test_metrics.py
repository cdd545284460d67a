"""/metrics and /healthz of the running bot (the real python-telegram-bot on the fake Bot API)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from bot.runtime import run_messengers
from bot.settings import Settings
from handlers.events import Reply
from handlers.municipality import load_municipality
from storage import outbox
from storage.db import Database
from storage.outbox import NewMessage
from tests.conftest import VLASOTINCE, free_port
from tests.fakes.telegram_api import Call, FakeTelegramApi

MILA = 7002
METRICS_TOKEN = "metrics-token-for-the-tests"  # noqa: S105 - a test value


@asynccontextmanager
async def running_bot(tmp_path: Path, fake: FakeTelegramApi, **env: str) -> AsyncIterator[str]:
    """The whole bot (long polling) in this event loop; yields its web server's address."""
    port = free_port()
    settings = Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "BOT_CONFIG": str(VLASOTINCE),
            "TELEGRAM_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.base_url,
            "TELEGRAM_FILE_URL": fake.base_file_url,
            "GEOCODER_URL": f"http://127.0.0.1:{free_port()}",
            "HTTP_PORT": str(port),
            **env,
        }
    )
    stop = asyncio.Event()
    bot = asyncio.create_task(run_messengers(settings, load_municipality(VLASOTINCE), stop=stop))
    try:
        await fake.wait_for_calls("getUpdates", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        assert await asyncio.wait_for(bot, 20) == 0


async def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, await response.text()


async def until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Wait until ``check()`` returns something truthy (at most 20 s); return it."""
    try:
        async with asyncio.timeout(20):
            while True:
                result = await check()
                if result:
                    return result
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise TimeoutError(f"still not {what} after 20 s") from None


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of an exposition, by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


async def greet(fake: FakeTelegramApi) -> None:
    def answered(_: list[Call]) -> bool:
        return any("Изаберите језик" in str(m.get("text")) for m in fake.sent_messages(MILA))

    fake.push_command(MILA, "start", first_name="Мила")
    await fake.wait_for(answered, 20)


async def test_metrics_count_updates_sends_jobs_and_the_outbox(tmp_path: Path) -> None:
    async with FakeTelegramApi() as fake, running_bot(tmp_path, fake) as url:
        await greet(fake)

        async def scraped() -> dict[Any, float] | None:
            status, body = await get(f"{url}/metrics")
            assert status == 200
            assert "Мила" not in body
            # The chat id as a value of its own (the digits also occur inside timestamps).
            assert not re.search(rf"(?<![\d.]){MILA}(?![\d.])", body)
            found = samples(body)
            sent = found.get(
                ("moja_opstina_outbox_messages", (("channel", "telegram"), ("status", "sent")))
            )
            jobs = found.get(("moja_opstina_job_runs_total", (("job", "sla"),)))
            # A row enqueued meanwhile (a job's) may be due for a moment: wait until it is not.
            idle = found.get(("moja_opstina_outbox_oldest_due_seconds", (("channel", "telegram"),)))
            return found if sent and jobs and idle == 0 else None

        found = await until(scraped, "scraped with the reply sent, the jobs run, nothing due")

    telegram = (("channel", "telegram"),)
    assert found[("moja_opstina_updates_handled_total", telegram)] == 1
    assert found.get(("moja_opstina_handler_failures_total", telegram), 0) == 0
    ok = found[("moja_opstina_sends_total", (("channel", "telegram"), ("result", "ok")))]
    assert ok >= 1
    assert found[("moja_opstina_send_seconds_count", telegram)] == ok
    assert found[("moja_opstina_send_seconds_sum", telegram)] > 0
    assert found[("moja_opstina_outbox_oldest_due_seconds", telegram)] == 0
    assert found[("moja_opstina_broadcasts_in_progress", ())] == 0
    assert found[("moja_opstina_job_runs_total", (("job", "outbox-sweep"),))] >= 1
    assert found.get(("moja_opstina_job_failures_total", (("job", "sla"),)), 0) == 0


async def test_metrics_with_a_token_ask_for_it(tmp_path: Path) -> None:
    async with (
        FakeTelegramApi() as fake,
        running_bot(tmp_path, fake, METRICS_TOKEN=METRICS_TOKEN) as url,
    ):
        without = await get(f"{url}/metrics")
        wrong = await get(f"{url}/metrics", {"Authorization": "Bearer guess"})
        right = await get(f"{url}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert without[0] == wrong[0] == 401
    assert right[0] == 200
    assert "moja_opstina_outbox_messages" in right[1]


def test_metrics_are_off_on_a_public_address_without_a_token() -> None:
    assert Settings.from_env({}).metrics_on  # HTTP_HOST is 127.0.0.1 by default
    assert not Settings.from_env({"HTTP_HOST": "0.0.0.0"}).metrics_on  # noqa: S104
    assert not Settings.from_env({"HTTP_HOST": "192.168.1.10"}).metrics_on
    assert Settings.from_env({"HTTP_HOST": "0.0.0.0", "METRICS_TOKEN": "x"}).metrics_on  # noqa: S104


async def test_healthz_is_503_while_due_messages_wait_too_long(tmp_path: Path) -> None:
    async with (
        FakeTelegramApi() as fake,
        running_bot(tmp_path, fake, HEALTH_OUTBOX_MAX_AGE="1") as url,
    ):
        await greet(fake)
        assert await get(f"{url}/healthz") == (200, '{"status": "ok"}')
        # Eight messages to one chat: at one a second per chat, the last waits for seconds.
        db = await Database.open(tmp_path / "data" / "bot.db")
        async with db.transaction() as conn:
            messages = [
                NewMessage("telegram", str(MILA), None, Reply(f"Обавештење {i}").to_payload())
                for i in range(8)
            ]
            await outbox.enqueue(conn, messages, datetime.now(UTC))
        await db.close()
        fake.push_command(MILA, "help")  # wakes the sender

        async def unhealthy() -> tuple[int, str] | None:
            status, body = await get(f"{url}/healthz")
            return (status, body) if status == 503 else None

        _, body = await until(unhealthy, "unhealthy")
        assert "outbox: the oldest due telegram message has waited" in body
        assert "(limit 1 s)" in body
        assert "Обавештење" not in body
        assert str(MILA) not in body

        async def healthy() -> bool:
            return (await get(f"{url}/healthz"))[0] == 200

        await until(healthy, "healthy again once the messages went out")


async def test_healthz_is_503_while_the_database_cannot_be_written(tmp_path: Path) -> None:
    async with FakeTelegramApi() as fake, running_bot(tmp_path, fake) as url:
        other = sqlite3.connect(
            tmp_path / "data" / "bot.db", isolation_level=None, check_same_thread=False
        )
        with closing(other):
            # Another process takes the write lock (waiting, off the loop, for the bot's own
            # transactions to end first).
            await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
            locked = await get(f"{url}/healthz")
            other.execute("ROLLBACK")
        after = await get(f"{url}/healthz")

    assert locked[0] == 503
    assert "database: cannot be written (database is locked)" in locked[1]
    assert after == (200, '{"status": "ok"}')


async def test_job_runs_and_failures_are_counted_from_the_scheduler() -> None:
    metrics = Metrics()
    scheduler = AsyncIOScheduler(timezone="Europe/Belgrade")
    done = asyncio.Event()

    async def failing() -> bool:
        done.set()
        return False  # what the scheduler's guarded jobs return when the job failed

    scheduler.add_job(failing, id="digest")
    metrics.watch_scheduler(scheduler)
    scheduler.start()
    try:
        await done.wait()

        async def counted() -> dict[Any, float] | None:
            found = samples(metrics.render().decode())
            return found if ("moja_opstina_job_runs_total", (("job", "digest"),)) in found else None

        found = await until(counted, "counted")
    finally:
        scheduler.shutdown(wait=False)
    assert found[("moja_opstina_job_failures_total", (("job", "digest"),))] == 1
