"""The Telegram channel against the spec-checked fake Bot API: polling, webhook, failures."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import aiohttp
import pytest

import storage.db
from bot.channels.telegram import split_text
from bot.channels.text import utf16_len
from bot.runtime import serve, web_app
from bot.settings import Settings
from handlers.municipality import Municipality
from storage import reports, users
from tests.conftest import Running, eventually, free_port, jpeg, telegram_app
from tests.fakes.ports import FakeGeocoder
from tests.fakes.telegram_api import Call

ANA = 5001


async def test_a_resident_reports_through_telegram(running: Running, settings: Settings) -> None:
    fake = running.fake
    fake.push_command(ANA, "start")
    await running.wait_text(ANA, "Изаберите")
    fake.push_callback(ANA, "lang:en")
    await running.wait_text(ANA, "Welcome")
    fake.push_callback(ANA, "menu:report")
    await running.wait_text(ANA, "What kind of problem")
    fake.push_callback(ANA, "cat:road_damage")
    await running.wait_text(ANA, "Describe the problem")
    fake.push_text(ANA, "Deep pothole <b>in</b> Nemanjina & Karađorđeva")
    await running.wait_text(ANA, "Send up to 3 photos")
    fake.push_photo(ANA, jpeg("red"))
    await running.wait_text(ANA, "Photo 1 of 3")
    fake.push_document(ANA, jpeg("blue"), file_name="pothole.jpg", mime_type="image/jpeg")
    await running.wait_text(ANA, "Photo 2 of 3")
    fake.push_callback(ANA, "photos:done")
    await running.wait_text(ANA, "Where is the problem?")
    keyboard = fake.calls_of("sendMessage")[-1].params["reply_markup"]["keyboard"]
    assert keyboard[0][0] == {"text": "📍 Send my location", "request_location": True}
    fake.push_location(ANA, 42.9661, 22.1290)
    await running.wait_text(ANA, "Please check your report")
    removal = [c for c in fake.calls_of("sendMessage") if "Location received" in c.params["text"]]
    assert removal[0].params["reply_markup"] == {"remove_keyboard": True}
    fake.push_callback(ANA, "sum:confirm")
    await running.wait_text(ANA, "VLA-2026-00001")
    stored = await reports.get_report(running.app.db.conn, 1)
    assert stored is not None
    assert stored.description == "Deep pothole <b>in</b> Nemanjina & Karađorđeva"
    assert len(stored.photo_paths) == 2
    assert all((settings.data_dir / p).is_file() for p in stored.photo_paths)
    # Every button press was answered, so no client is left with a spinner.
    assert len(fake.calls_of("answerCallbackQuery")) == 5


async def test_429_waits_retry_after_then_delivers(running: Running) -> None:
    running.fake.fail_next("sendMessage", 429, retry_after=1)
    running.fake.push_command(ANA, "start")
    await running.wait_text(ANA, "Изаберите", seconds=6)
    failed, delivered = running.fake.calls_of("sendMessage")[:2]
    assert (failed.status, delivered.status) == (429, 200)
    assert delivered.time - failed.time >= 0.9


async def test_server_errors_are_retried(running: Running) -> None:
    running.fake.fail_next("sendMessage", 500)
    running.fake.push_command(ANA, "start")
    await running.wait_text(ANA, "Изаберите", seconds=6)


async def confirmed_past(running: Running, update_id: int) -> None:
    """Wait until the bot confirmed (handled and committed) every update up to ``update_id``."""

    def confirmed(_: list[Call]) -> bool:
        return any(
            int(c.params.get("offset", 0)) > update_id for c in running.fake.calls_of("getUpdates")
        )

    await running.fake.wait_for(confirmed)


async def test_a_user_who_blocked_the_bot_is_marked_unreachable(running: Running) -> None:
    running.fake.block(ANA)
    running.fake.push_command(ANA, "start")
    await running.fake.wait_for_calls("sendMessage")

    async def unreachable() -> bool:
        found = await users.load_conversation(running.app.db.conn, "telegram", str(ANA))
        return found is not None and found.user.unreachable

    await eventually(unreachable, "the resident is marked unreachable")
    assert len(running.fake.calls_of("sendMessage")) == 1  # no retries to a blocked chat


async def test_blocking_the_bot_is_recorded_from_the_membership_update(running: Running) -> None:
    running.fake.push_command(ANA, "start")
    await running.wait_text(ANA, "Изаберите")
    running.fake.push_my_chat_member(ANA, "kicked")
    for _ in range(100):
        conversation = await users.load_conversation(running.app.db.conn, "telegram", str(ANA))
        if conversation and conversation.user.unreachable:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the user was not marked unreachable")


async def test_a_malformed_update_is_skipped_and_the_next_is_handled(running: Running) -> None:
    running.fake.push_update({"message": {"text": "no chat, no date, no id"}})
    running.fake.push_command(ANA, "start")
    await running.wait_text(ANA, "Изаберите")


async def test_the_same_update_twice_in_a_batch_is_handled_once(running: Running) -> None:
    update_id = running.fake.push_command(ANA, "start")
    duplicate = running.fake.update(update_id)
    running.fake.push_update(duplicate)
    await running.wait_text(ANA, "Изаберите")
    await confirmed_past(running, update_id)
    await running.app.sender.drain()
    assert len(running.fake.sent_messages(ANA)) == 1


async def test_stickers_voice_and_groups(running: Running) -> None:
    fake = running.fake
    fake.push_command(ANA, "start")
    fake.push_callback(ANA, "lang:en")
    await running.wait_text(ANA, "Welcome")
    fake.push_sticker(ANA)
    await running.wait_text(ANA, "Please choose one of the options below.")
    count = len(fake.sent_messages(ANA))
    fake.push_voice(ANA)
    await fake.wait_for(lambda _: len(fake.sent_messages(ANA)) > count)
    fake.add_chat(-100777, "Residents of Vlasotince", "supergroup")
    fake.push_text(ANA, "hello group", chat_id=-100777)
    stale = fake.push_callback(ANA, "sum:confirm")  # a stale button: answered and explained
    await fake.wait_for_calls("answerCallbackQuery", 2)
    await confirmed_past(running, stale)
    await running.app.sender.drain()
    assert fake.sent_messages(-100777) == []


async def test_a_long_summary_is_split_under_the_limit(running: Running) -> None:
    fake = running.fake
    for step in ("lang:en", "menu:report", "cat:other"):
        fake.push_callback(ANA, step)
    await running.wait_text(ANA, "Describe the problem")
    fake.push_text(ANA, "Ж" * 3900 + " " + "😀" * 49)  # 3,950 characters, 3,999 UTF-16 units
    fake.push_callback(ANA, "photos:skip")
    fake.push_location(ANA, 42.9661, 22.1290)
    await fake.wait_for(lambda _: "sum:confirm" in running.buttons(ANA))
    assert all(c.ok for c in fake.calls_of("sendMessage")), fake.describe_calls()
    texts = running.texts(ANA)
    first = next(i for i, t in enumerate(texts) if t.startswith("Please check your report"))
    # The summary came in two parts, each within the limit, the choices under the last.
    assert "😀" in texts[first]
    assert texts[first + 1].startswith("Location: ")


def test_split_text_counts_utf16_and_cuts_at_spaces() -> None:
    text = ("word " * 1000) + "😀" * 2100
    parts = split_text(text)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    assert split_text("short") == ["short"]


async def test_webhook_checks_the_secret_and_answers_after_the_commit(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    async with telegram_app(settings, municipality, geocoder) as (fake, app, updates):
        routes = web_app()
        routes.router.add_post("/telegram", updates.webhook_route("s3cret-token"))
        port = free_port()
        runner = await serve(routes, Settings.from_env({"HTTP_PORT": str(port)}))
        update_id = fake.push_command(ANA, "start")
        body = fake.update(update_id)
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as http:
            async with http.post(
                url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            ) as r:
                assert r.status == 403
            async with http.post(url, json=body) as r:
                assert r.status == 403
            assert await users.load_conversation(app.db.conn, "telegram", str(ANA)) is None
            for _ in range(2):  # Telegram redelivers when it got no answer: handled once
                async with http.post(
                    url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
                ) as r:
                    assert r.status == 200
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert (await r.json()) == {"status": "ok"}
        await app.sender.drain()
        assert len(fake.sent_messages(ANA)) == 1
        await runner.cleanup()


async def test_a_retried_reply_does_not_send_its_photo_twice(
    running: Running, settings: Settings
) -> None:
    from datetime import UTC, datetime

    from handlers.events import Reply
    from storage import outbox
    from storage.outbox import NewMessage

    photo = settings.data_dir / "photos" / "ab" / "fix.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(jpeg("green"))
    running.fake.fail_next("sendMessage", 500)
    reply = Reply("The pipe is fixed.", photos=("photos/ab/fix.jpg",))
    async with running.app.db.transaction() as conn:
        await outbox.enqueue(
            conn, [NewMessage("telegram", str(ANA), None, reply.to_payload())], datetime.now(UTC)
        )
    running.app.sender.wake()
    await running.wait_text(ANA, "The pipe is fixed.", seconds=8)
    assert len(running.fake.calls_of("sendPhoto")) == 1
    assert [c.status for c in running.fake.calls_of("sendMessage")] == [500, 200]


# The database busy: another process holds its write lock (an admin's sqlite3 shell, a backup).


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy timeout of 0.3 s, so that holding the lock past it takes little time."""
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 300)


def hold_write_lock(database: Path) -> sqlite3.Connection:
    """A second connection that holds the database's write lock until it is closed."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def wait_for_log(caplog: pytest.LogCaptureFixture, logger: str, seconds: float = 10) -> None:
    """Wait until ``logger`` has logged a warning or worse."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not any(r.name == logger and r.levelno >= logging.WARNING for r in caplog.records):
        assert asyncio.get_running_loop().time() < deadline, f"{logger} logged no warning"
        await asyncio.sleep(0.05)


@pytest.mark.usefixtures("short_busy_timeout")
async def test_an_update_that_meets_a_busy_database_is_handled_after_it_is_free(
    settings: Settings,
    municipality: Municipality,
    geocoder: FakeGeocoder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with telegram_app(settings, municipality, geocoder) as (fake, app, updates):
        stop = asyncio.Event()
        holder = hold_write_lock(settings.database)
        tasks = [asyncio.create_task(updates.poll(stop))]
        try:
            update_id = fake.push_command(ANA, "start")
            await wait_for_log(caplog, "bot.dispatcher")  # the update met the lock
        finally:
            holder.rollback()
            holder.close()
        # The sender starts now: its own start-up write would meet the lock too (not this test's).
        tasks.append(asyncio.create_task(app.sender.run()))
        try:
            running = Running(fake, app, updates, stop)
            await running.wait_text(ANA, "Изаберите језик", seconds=15)

            def confirmed(calls: list[Call]) -> bool:
                return any(c.params.get("offset") == update_id + 1 for c in calls)

            await fake.wait_for(confirmed, 5)
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        # Fetched again until it was committed, and only then confirmed; answered once.
        offsets = [c.params.get("offset", 0) for c in fake.calls_of("getUpdates")]
        assert offsets[:2] == [0, 0]
        assert running.texts(ANA) == [running.texts(ANA)[0]]
        assert "Sorry" not in running.texts(ANA)[0]


@pytest.mark.usefixtures("short_busy_timeout")
async def test_the_webhook_answers_503_while_the_database_is_busy(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    async with telegram_app(settings, municipality, geocoder) as (fake, app, updates):
        routes = web_app()
        routes.router.add_post("/telegram", updates.webhook_route("s3cret-token"))
        port = free_port()
        runner = await serve(routes, Settings.from_env({"HTTP_PORT": str(port)}))
        body = fake.update(fake.push_command(ANA, "start"))
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
        url = f"http://127.0.0.1:{port}/telegram"
        try:
            async with aiohttp.ClientSession() as http:
                holder = hold_write_lock(settings.database)
                try:
                    async with http.post(url, json=body, headers=headers) as r:
                        assert r.status == 503
                finally:
                    holder.rollback()
                    holder.close()
                async with http.post(url, json=body, headers=headers) as r:  # Telegram again
                    assert r.status == 200
            await app.sender.drain()
            assert ["Изаберите језик" in m["text"] for m in fake.sent_messages(ANA)] == [True]
        finally:
            await runner.cleanup()


async def test_a_redelivered_callback_query_is_answered_once(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    async with telegram_app(settings, municipality, geocoder) as (fake, _app, updates):
        routes = web_app()
        routes.router.add_post("/telegram", updates.webhook_route("s3cret-token"))
        port = free_port()
        runner = await serve(routes, Settings.from_env({"HTTP_PORT": str(port)}))
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
        url = f"http://127.0.0.1:{port}/telegram"
        try:
            async with aiohttp.ClientSession() as http:
                start = fake.update(fake.push_command(ANA, "start"))
                async with http.post(url, json=start, headers=headers) as r:
                    assert r.status == 200
                press = fake.update(fake.push_callback(ANA, "lang:en"))
                for _ in range(2):  # Telegram sends it again when our answer was late
                    async with http.post(url, json=press, headers=headers) as r:
                        assert r.status == 200
        finally:
            await runner.cleanup()
        query_id = press["callback_query"]["id"]
        answers = [
            c
            for c in fake.calls_of("answerCallbackQuery")
            if c.params["callback_query_id"] == query_id
        ]
        assert [c.status for c in answers] == [200]
