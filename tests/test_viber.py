"""The Viber channel: the real viberbot through the adapter, against the fake Viber REST API."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from bot.channels.text import split_text, utf16_len
from bot.channels.viber import (
    BUTTON_PREFIX,
    TEXT_LIMIT,
    ViberAccount,
    ViberChannel,
    ViberSetupError,
    ViberUpdates,
    delivery_error,
    render,
)
from bot.dispatcher import Outcome
from bot.runtime import run_messengers, serve, web_app
from bot.settings import Settings
from handlers.events import (
    MAX_FILE_BYTES,
    AskLocation,
    Blocked,
    Button,
    ButtonChoice,
    Choices,
    Command,
    Contact,
    File,
    Location,
    Photo,
    Reply,
    Sender,
    Text,
)
from handlers.municipality import Municipality, load_municipality
from handlers.ports import PermanentError, RetryAfterError, TemporaryError, UnreachableError
from storage import reports, users
from storage.outbox import NewMessage, enqueue
from storage.photos import MAX_PHOTO_BYTES
from tests.conftest import ROOT, VLASOTINCE, eventually, free_port, jpeg
from tests.dialogs import ANA, MARKO, Running, actions, viber_app
from tests.fakes.ports import FakeGeocoder
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.viber_api import (
    SIGNATURE_HEADER,
    FakeViberApi,
    ViberStatus,
    ViberUser,
    conversation_started,
    delivered,
    failed,
    message,
    message_contact,
    message_file,
    message_location,
    message_picture,
    message_sticker,
    message_text,
    seen,
    subscribed,
    unsubscribed,
)

JSONDict = dict[str, Any]


@pytest.fixture
async def running(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[Running]:
    async with viber_app(settings, municipality, geocoder) as app:
        yield app


async def start_in_english(running: Running, user: str = ANA) -> None:
    """Open the chat and pick English: the resident is at the main menu."""
    status, body = await running.post(conversation_started(user))
    assert status == 200
    running.welcome = json.loads(body)
    await running.say(running.press("lang:en", user), "Welcome", user)
    # The topics offered once to a new resident: not now.
    await running.say(running.press("menu:main", user), "What would you like to do?", user)


# ------------------------------------------------------------------ a whole report


async def test_a_resident_reports_through_viber(
    running: Running, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = running.fake
    status, body = await running.post(conversation_started(ViberUser(ANA, name="Ана")))
    assert status == 200
    welcome = json.loads(body)
    running.welcome = welcome
    # The welcome is the answer to the callback (Viber refuses send_message to her yet).
    fake._check_message(welcome)  # the fields Viber requires, or ViberError
    assert "receiver" not in welcome
    assert "Изаберите" in welcome["text"]
    assert BUTTON_PREFIX + "lang:en" in actions(welcome["keyboard"])
    assert fake.calls_of("send_message") == []

    await running.say(running.press("lang:en"), "Welcome")
    await running.say(running.press("menu:main"), "What would you like to do?")
    await running.say(running.press("menu:report"), "What kind of problem")
    described = await running.say(running.press("cat:road_damage"), "Describe the problem")
    # Typing: only the way out (on Viber there is no other than /cancel, which few know).
    assert actions(described[-1].get("keyboard")) == [
        BUTTON_PREFIX + "step:cancel:report:description"
    ]
    description = "Deep pothole <b>in</b> Nemanjina & Karađorđeva"
    await running.say(message_text(ANA, description), "Send up to 3 photos")

    media = fake.add_media(jpeg("red"))
    await running.say(message_picture(ANA, media, size=len(jpeg("red"))), "Photo 1 of 3")
    assert fake.media_downloads(media) == 1
    expired = fake.add_media(jpeg("blue"))
    fake.expire_media(expired)
    await running.say(message_picture(ANA, expired), "not a picture I can read")

    asked = await running.say(running.press("photos:done"), "Where is the problem?")
    picker = asked[-1]["keyboard"]["Buttons"]
    assert [(b["ActionType"], b["Text"]) for b in picker] == [
        ("location-picker", "📍 Send my location")
    ]
    assert asked[-1]["min_api_version"] >= 3
    location = message_location(ANA, 42.9661, 22.1290, address="Немањина 12, Власотинце")
    await running.say(location, "Please check your report")
    done = await running.say(running.press("sum:confirm"), f"VLA-{datetime.now(UTC).year}-00001")

    assert all(c.ok for c in fake.calls_of("send_message")), fake.describe_calls()
    assert BUTTON_PREFIX + "menu:report" in actions(done[-1]["keyboard"])
    stored = await reports.get_report(running.app.db.conn, 1)
    assert stored is not None
    assert stored.description == description
    assert (stored.latitude, stored.longitude) == (42.9661, 22.1290)
    assert len(stored.photo_paths) == 1
    assert (settings.data_dir / stored.photo_paths[0]).is_file()
    # The token reaches no log at any level; what residents write none at INFO and above
    # (aiosqlite's own DEBUG lines show SQL parameters).
    assert fake.token not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and "Nemanjina" in r.message]


async def test_an_operators_status_change_reaches_the_viber_resident(running: Running) -> None:
    await start_in_english(running)
    await running.say(running.press("menu:report"), "What kind of problem")
    await running.say(running.press("cat:road_damage"), "Describe the problem")
    await running.say(message_text(ANA, "A sign is knocked down"), "Send up to 3 photos")
    await running.say(running.press("photos:skip"), "Where is the problem?")
    await running.say(message_location(ANA, 42.9661, 22.1290), "Please check your report")
    ref = f"VLA-{datetime.now(UTC).year}-00001"
    await running.say(running.press("sum:confirm"), ref)
    # The roads operator of the municipality file acts from Telegram.
    operator = Sender("telegram", "100000102", "100000102", "Оператер")
    await running.app.dispatcher.dispatch(Command(operator, "progress", f"{ref} Crew sent"))
    await running.app.sender.drain()
    await running.wait_text("is now: in progress")
    await running.wait_text("Crew sent")


# ------------------------------------------------------------------------ webhook


async def test_a_bad_or_missing_signature_is_refused_and_changes_nothing(
    running: Running,
) -> None:
    event = message_text(ANA, "/start")
    status, _ = await running.post(event, signature="0" * 64)
    assert status == 403
    async with aiohttp.ClientSession() as http:
        async with http.post(running.url, json=event) as response:
            assert response.status == 403
        headers = {SIGNATURE_HEADER: running.fake.sign(b"{}")}  # signed, but another body
        async with http.post(running.url, json=event, headers=headers) as response:
            assert response.status == 403
    # Refused before any dispatch: nothing was committed, so nothing can follow.
    await running.app.sender.drain()
    assert await users.load_conversation(running.app.db.conn, "viber", ANA) is None
    assert running.fake.calls_of("send_message") == []


async def test_a_redelivered_callback_is_handled_once(running: Running) -> None:
    await start_in_english(running)
    event = running.press("menu:help")
    for _ in range(2):  # Viber redelivers a callback that got no answer in time
        assert (await running.post(event))[0] == 200
    await running.wait_text("This bot lets you report")
    await running.app.sender.drain()  # both posts returned after their commit
    assert sum("This bot lets you report" in t for t in running.texts()) == 1


async def test_a_callback_that_meets_a_busy_database_is_answered_503_then_handled(
    running: Running, settings: Settings
) -> None:
    await start_in_english(running)
    event = running.press("menu:help")
    await running.app.db.conn.execute("PRAGMA busy_timeout=300")  # the test need not wait 5 s
    holder = sqlite3.connect(settings.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the database
    try:
        assert (await running.post(event))[0] == 503
    finally:
        holder.rollback()
        holder.close()
    await running.say(event, "This bot lets you report")  # Viber sends it again
    assert sum("This bot lets you report" in t for t in running.texts()) == 1


async def test_a_refused_card_button_is_said_to_the_presser_in_private(running: Running) -> None:
    await start_in_english(running)
    made_up = message_text(ANA, BUTTON_PREFIX + "st:ack:1")  # a resident presses a staff button
    replies = await running.say(made_up, "for municipal staff only")
    assert len(replies) == 1


async def test_receipts_are_recorded_and_never_answered(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.channels.viber")
    await start_in_english(running)
    sent = len(running.fake.calls_of("send_message"))
    token = running.fake.sent_to(ANA)[-1]["message_token"]
    for event in (delivered(ANA, token), seen(ANA, token), failed(ANA, token, "no device")):
        assert (await running.post(event))[0] == 200
    await running.app.sender.drain()  # each post returned after its (empty) commit
    assert len(running.fake.calls_of("send_message")) == sent
    logged = [r.getMessage() for r in caplog.records if str(token) in r.getMessage()]
    assert [m.split()[-1] for m in logged[:2]] == ["delivered", "seen"]
    assert "could not deliver" in logged[2]


async def test_unsubscribing_marks_the_user_unreachable_and_sending_stops(
    running: Running,
) -> None:
    await start_in_english(running)
    assert (await running.post(unsubscribed(ANA)))[0] == 200
    conversation = await users.load_conversation(running.app.db.conn, "viber", ANA)
    assert conversation is not None
    assert conversation.user.unreachable
    # A later notice (a status change, say) meets Viber's refusal once and nothing more.
    calls = len(running.fake.calls_of("send_message"))
    async with running.app.db.transaction() as conn:
        notice = NewMessage("viber", ANA, conversation.user.id, {"text": "Your report changed."})
        await enqueue(conn, [notice, notice], datetime.now(UTC))
    running.app.sender.wake()
    await running.fake.wait_for(lambda c: len(running.fake.calls_of("send_message")) > calls)
    await running.app.sender.drain()  # the second notice is settled too (given up)
    [refused] = running.fake.calls_of("send_message")[calls:]
    assert refused.status == ViberStatus.RECEIVER_NOT_SUBSCRIBED


async def test_subscribing_again_greets_the_resident(running: Running) -> None:
    await start_in_english(running)
    await running.post(unsubscribed(ANA))
    await running.say(subscribed(ANA), "Welcome")
    conversation = await users.load_conversation(running.app.db.conn, "viber", ANA)
    assert conversation is not None
    assert not conversation.user.unreachable


async def test_stickers_and_other_kinds_get_the_steps_explanation(running: Running) -> None:
    await start_in_english(running)
    hint = "Please choose one of the options below."
    explained = await running.say(message_sticker(ANA), hint)
    assert BUTTON_PREFIX + "menu:report" in actions(explained[-1]["keyboard"])
    await running.say(message(ANA, {"type": "video", "media": "http://x/v.mp4", "size": 9}), hint)
    await running.say(message(ANA, {"type": "gif", "media": "http://x/a.gif"}), hint)
    await running.say(message_contact(ANA, "+381641234567"), hint)
    await running.say(message_text(ANA, BUTTON_PREFIX + "sum:confirm"), hint)  # made up


async def test_a_deep_link_conversation_from_a_subscriber_is_answered_by_send_message(
    running: Running,
) -> None:
    await start_in_english(running)
    status, body = await running.post(conversation_started(ANA, subscribed=True, context="qr"))
    assert (status, body) == (200, "")
    await running.wait_text("Welcome to Moja opština")


# ------------------------------------------------------------------------ sending


async def test_a_long_text_is_split_under_vibers_limit(running: Running) -> None:
    await start_in_english(running)
    text = ("Ж" * 50 + " ") * 300 + "😀" * 10
    menu = Choices(((Button("Back", "menu:main"),),))
    await running.channel.send(ANA, Reply(text, menu))
    sent = running.fake.sent_to(ANA)[-3:]
    assert [utf16_len(m["text"]) <= TEXT_LIMIT for m in sent] == [True] * 3
    assert "".join(m["text"] for m in sent).replace(" ", "") == text.replace(" ", "")
    assert [("keyboard" in m) for m in sent] == [False, False, True]


async def test_photos_are_sent_as_pictures_that_viber_can_fetch(
    running: Running, settings: Settings
) -> None:
    await start_in_english(running)
    stored = running.app.deps.photos.save(jpeg("green"))
    await running.channel.send(ANA, Reply("Your report", photos=(stored.path,)))
    picture, text = running.fake.sent_to(ANA)[-2:]
    assert (picture["type"], text["text"]) == ("picture", "Your report")
    async with aiohttp.ClientSession() as http:
        async with http.get(picture["media"]) as response:
            assert response.status == 200
            assert await response.read() == (settings.data_dir / stored.path).read_bytes()
        forged = picture["media"].replace(stored.sha256[:8], "00000000")
        async with http.get(forged) as response:
            assert response.status == 404
    signature = running.channel.media_url("bot.db").split("/")[-2]
    assert running.channel.media_file(signature, "bot.db") is None  # only photos are served


async def test_a_retried_reply_does_not_send_again_what_went_out(running: Running) -> None:
    await start_in_english(running)
    stored = running.app.deps.photos.save(jpeg("green"))
    before = len(running.fake.sent_to(ANA))
    # The picture went out before the text failed: the retry sends the text only.
    await running.channel.send(
        ANA, Reply("The pipe is fixed.", photos=(stored.path,), done_parts=1)
    )
    sent = running.fake.sent_to(ANA)[before:]
    assert [(m["type"], m.get("text")) for m in sent] == [("text", "The pipe is fixed.")]
    running.fake.http_error_next("send_message", 500)
    with pytest.raises(TemporaryError) as failed:
        await running.channel.send(ANA, Reply("Again", photos=(stored.path,), done_parts=1))
    assert failed.value.done == 1  # what the outbox keeps on the row for the next attempt


async def test_send_errors_are_mapped_for_the_outbox(running: Running) -> None:
    await start_in_english(running)
    fake = running.fake
    fake.fail_next("send_message", ViberStatus.TOO_MANY_REQUESTS, user_id=ANA)
    await running.say(running.press("menu:help"), "This bot lets you report")
    calls = fake.calls_of("send_message")
    limited = next(c for c in calls if c.status == ViberStatus.TOO_MANY_REQUESTS)
    retried = next(c for c in calls if c.index > limited.index and c.ok)
    assert retried.time - limited.time >= 0.25  # waited as told (0.3 s in this channel)

    fake.fail_next("send_message", ViberStatus.RECEIVER_NOT_SUBSCRIBED, user_id=ANA)
    await running.post(running.press("menu:help"))
    await fake.wait_for(lambda c: c[-1].status == ViberStatus.RECEIVER_NOT_SUBSCRIBED)

    async def unreachable() -> bool:
        found = await users.load_conversation(running.app.db.conn, "viber", ANA)
        return found is not None and found.user.unreachable

    await eventually(unreachable, "the resident is marked unreachable")


async def test_server_errors_are_retried_and_the_token_never_logged(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await start_in_english(running)
    running.fake.http_error_next("send_message", 500)
    await running.say(running.press("menu:help"), "This bot lets you report")
    running.fake.subscribe(MARKO)
    running.fake.fail_next("send_message", ViberStatus.BAD_DATA, "badData: made up", user_id=MARKO)
    with pytest.raises(PermanentError, match="status 3 badData"):
        await running.channel.send(MARKO, Reply("Refused"))
    assert running.fake.token not in caplog.text


async def test_an_old_client_gets_the_location_question_without_the_picker(
    running: Running,
) -> None:
    old = ViberUser(MARKO, api_version=2)
    await running.say(message_text(old, "/start"), "Изаберите", MARKO)
    await running.channel.send(MARKO, Reply("Where?", AskLocation("📍")))
    refused, plain = running.fake.calls_of("send_message")[-2:]
    assert refused.status == ViberStatus.API_VERSION_NOT_SUPPORTED
    assert plain.ok
    assert "keyboard" not in plain.params


def test_render_lays_out_keyboards_in_six_columns() -> None:
    row = tuple(Button(str(i), f"d:{i}") for i in range(4))
    [message] = render(Reply("Pick", Choices((row, (Button("Alone", "d:x"),)))), str)
    buttons = message.to_dict()["keyboard"]["Buttons"]
    assert [b["Columns"] for b in buttons] == [2, 2, 1, 1, 6]
    assert all(b["Silent"] and b["ActionType"] == "reply" for b in buttons)
    assert buttons[-1]["ActionBody"] == BUTTON_PREFIX + "d:x"
    assert render(Reply("Typed"), str)[0].to_dict().get("keyboard") is None


def test_split_text_counts_utf16_and_cuts_at_spaces() -> None:
    text = ("word " * 2000) + "😀" * 4000
    parts = split_text(text, TEXT_LIMIT)
    assert all(utf16_len(p) <= TEXT_LIMIT for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (Exception("failed with status: 5, message: receiverNotRegistered"), UnreachableError),
        (Exception("failed with status: 6, message: receiverNotSubscribed"), UnreachableError),
        (Exception("failed with status: 7, message: publicAccountBlocked"), UnreachableError),
        (Exception("failed with status: 12, message: tooManyRequests"), RetryAfterError),
        (Exception("failed with status: 3, message: badData: text"), PermanentError),
        (Exception("failed validating message: TextMessage [text=secret]"), PermanentError),
        (requests.ConnectionError("refused"), TemporaryError),
        (requests.Timeout("slow"), TemporaryError),
        (TimeoutError(), TemporaryError),
    ],
)
def test_delivery_errors(error: Exception, expected: type[Exception]) -> None:
    mapped = delivery_error(error, 30)
    assert type(mapped) is expected
    assert "secret" not in str(mapped)
    if isinstance(mapped, RetryAfterError):
        assert mapped.seconds == 30


@pytest.mark.parametrize(("code", "expected"), [(500, TemporaryError), (404, PermanentError)])
def test_http_errors(code: int, expected: type[Exception]) -> None:
    response = requests.Response()
    response.status_code = code
    assert type(delivery_error(requests.HTTPError(response=response), 30)) is expected


# ---------------------------------------------------------------------- callbacks


async def test_callbacks_become_events(running: Running) -> None:
    to_event: Callable[[JSONDict], Awaitable[object]] = running.updates.to_event
    assert isinstance(await to_event(message_text(ANA, "Рупа")), Text)
    press = await to_event(message_text(ANA, BUTTON_PREFIX + "lang:en"))
    assert isinstance(press, ButtonChoice)
    assert press.data == "lang:en"
    command = await to_event(message_text(ANA, "/Cancel  now"))
    assert isinstance(command, Command)
    assert (command.name, command.args) == ("cancel", "now")
    pin = await to_event(message_location(ANA, 42.9, 22.1, address="Трг"))
    assert isinstance(pin, Location)
    assert (pin.latitude, pin.longitude, pin.title) == (42.9, 22.1, "Трг")
    contact = await to_event(message_contact(ANA, "+381641234567"))
    assert isinstance(contact, Contact)
    assert contact.phone == "+381641234567"
    pdf = {"type": "file", "media": "http://127.0.0.1:9/a.pdf", "size": 9, "file_name": "a.pdf"}
    assert isinstance(await to_event(message(ANA, pdf)), File)
    media = running.fake.add_media(jpeg("gray"))
    image = {"type": "file", "media": media, "size": 900, "file_name": "Scan.JPG"}
    photo = await to_event(message(ANA, image))
    assert isinstance(photo, Photo)
    assert photo.content == jpeg("gray")
    started = await to_event(conversation_started(ANA, "Ана", context="qr-kod"))
    assert isinstance(started, Command)
    assert (started.name, started.args, started.sender.first_name) == ("start", "qr-kod", "Ана")
    blocked = await to_event(unsubscribed(ANA))
    assert isinstance(blocked, Blocked)
    assert blocked.sender.chat_id == ANA
    assert await to_event({"event": "message", "timestamp": 1}) is None  # malformed
    assert await to_event({"event": "client_status", "timestamp": 1}) is None


async def test_pictures_over_10_mb_are_not_downloaded(running: Running) -> None:
    big = running.fake.add_media(b"x" * (MAX_PHOTO_BYTES + 1))
    declared = await running.updates.to_event(message_picture(ANA, big, size=MAX_PHOTO_BYTES + 1))
    assert isinstance(declared, Photo)
    assert declared.content is None
    assert running.fake.media_downloads(big) == 0
    undeclared = await running.updates.to_event(message_picture(ANA, big))
    assert isinstance(undeclared, Photo)
    assert undeclared.content is None
    assert undeclared.size > MAX_PHOTO_BYTES


async def test_documents_are_downloaded_with_their_name_up_to_the_limit(running: Running) -> None:
    fake, to_event = running.fake, running.updates.to_event
    sheet = "naslov;autor\nRani jadi;Kiš\n".encode("cp1250")
    media = fake.add_media(sheet, content_type="text/csv", file_name="nove.csv")
    document = await to_event(message_file(ANA, media, "nove.csv", size=len(sheet)))
    assert isinstance(document, File)
    assert (document.name, document.content, document.size) == ("nove.csv", sheet, len(sheet))
    assert fake.media_downloads(media) == 1

    big = fake.add_media(b"x" * (MAX_FILE_BYTES + 1), content_type="application/pdf")
    declared = await to_event(message_file(ANA, big, "plan.pdf", size=MAX_FILE_BYTES + 1))
    assert isinstance(declared, File)
    assert (declared.content, declared.size) == (None, MAX_FILE_BYTES + 1)
    assert fake.media_downloads(big) == 0  # never fetched: Viber said how big it is
    undeclared = await to_event(message_file(ANA, big, "plan.pdf"))
    assert isinstance(undeclared, File)
    assert undeclared.content is None
    assert undeclared.size > MAX_FILE_BYTES

    fake.expire_media(media)  # Viber's media links expire: the file did not come through
    expired = await to_event(message_file(ANA, media, "nove.csv", size=len(sheet)))
    assert isinstance(expired, File)
    assert (expired.name, expired.content, expired.size) == ("nove.csv", None, 0)


# ------------------------------------------------------------- blocking and start-up


async def test_a_slow_viber_does_not_block_the_event_loop(settings: Settings) -> None:
    async with FakeViberApi(latency=1.0) as fake:
        account = ViberAccount(fake.token, "http://127.0.0.1:9/viber", api_url=fake.base_url)
        channel = ViberChannel(account, settings.data_dir, timeout=0.3)
        gaps: list[float] = []

        async def tick() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        with pytest.raises(TemporaryError):
            await channel.send(ANA, Reply("Zdravo"))
        elapsed = time.monotonic() - started
        ticker.cancel()
        assert 0.25 <= elapsed < 0.9
        assert max(gaps) < 0.2  # the loop kept turning while Viber was slow
        await asyncio.sleep(0.8)  # let the abandoned request finish before the fake stops


async def test_set_webhook_fails_until_the_server_listens(settings: Settings) -> None:
    async with FakeViberApi() as fake:
        port = free_port()
        account = ViberAccount(fake.token, f"http://127.0.0.1:{port}/viber", api_url=fake.base_url)
        channel = ViberChannel(account, settings.data_dir)
        with pytest.raises(ViberSetupError, match="status 1 invalidUrl"):
            await channel.set_webhook()
        routes = web_app()
        updates = ViberUpdates(channel, _ignore)
        updates.add_routes(routes.router)
        runner = await serve(routes, Settings.from_env({"HTTP_PORT": str(port)}))
        await channel.set_webhook()
        assert fake.webhook == account.webhook_url
        assert fake.deliveries[-1].status == 200
        await runner.cleanup()


async def _ignore(_: object) -> Outcome:
    return Outcome(committed=True)


async def test_telegram_and_viber_run_together_in_one_process(tmp_path: Path) -> None:
    async with FakeTelegramApi() as telegram, FakeViberApi(strict_subscribers=True) as viber:
        port = free_port()
        webhook = f"http://127.0.0.1:{port}/viber"
        settings = Settings.from_env(
            {
                "BOT_DATA_DIR": str(tmp_path / "data"),
                "BOT_CONFIG": str(VLASOTINCE),
                "GEOCODER_URL": "http://127.0.0.1:9",
                "HTTP_PORT": str(port),
                "TELEGRAM_TOKEN": telegram.token,
                "TELEGRAM_API_URL": telegram.base_url,
                "TELEGRAM_FILE_URL": telegram.base_file_url,
                "VIBER_TOKEN": viber.token,
                "VIBER_WEBHOOK_URL": webhook,
                "VIBER_API_URL": viber.base_url,
            }
        )
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_messengers(settings, load_municipality(VLASOTINCE), stop=stop)
        )
        await viber.wait_for(lambda c: viber.webhook == webhook, 10)
        # set_webhook came after the server listened: Viber's check reached it.
        assert [d.status for d in viber.deliveries] == [200]
        status, body = await viber.post_event(webhook, conversation_started(ANA))
        assert status == 200
        assert "Изаберите" in body
        telegram.push_command(5001, "start")
        await telegram.wait_for(lambda c: telegram.sent_messages(5001), 10)
        stop.set()
        assert await asyncio.wait_for(task, 15) == 0


async def test_a_refused_token_stops_the_bot_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeViberApi() as fake:
        settings = Settings.from_env(
            {
                "BOT_DATA_DIR": str(tmp_path / "data"),
                "GEOCODER_URL": "http://127.0.0.1:9",
                "HTTP_PORT": str(free_port()),
                "VIBER_TOKEN": "0123456789abcdef-0123456789abcdef-0123456789abcdef",
                "VIBER_WEBHOOK_URL": "http://127.0.0.1:9/viber",
                "VIBER_API_URL": fake.base_url,
            }
        )
        code = await run_messengers(settings, load_municipality(VLASOTINCE), stop=asyncio.Event())
    assert code == 1
    assert "Viber refused the token (status 2)" in caplog.text
    assert "0123456789abcdef" not in caplog.text
    assert fake.calls_of("set_webhook") == []


async def test_the_bot_process_serves_viber_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeViberApi(strict_subscribers=True) as fake:
        port = free_port()
        webhook = f"http://127.0.0.1:{port}/viber"
        env = {
            **os.environ,
            "VIBER_TOKEN": fake.token,
            "VIBER_WEBHOOK_URL": webhook,
            "VIBER_API_URL": fake.base_url,
            "BOT_DATA_DIR": str(data),
            "BOT_CONFIG": str(ROOT / "config" / "vlasotince.toml"),
            "GEOCODER_URL": "http://127.0.0.1:9",
            "HTTP_PORT": str(port),
        }
        env.pop("TELEGRAM_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            await fake.wait_for(lambda c: fake.webhook == webhook, 20)
            status, body = await fake.post_event(webhook, conversation_started(ANA, "Мила"))
            assert (status, "Изаберите" in body) == (200, True)
            await fake.post_event(webhook, message_text(ANA, BUTTON_PREFIX + "lang:sr-Latn"))
            await fake.post_event(webhook, message_text(ANA, "Kontejner nije odnet"))
            await fake.wait_for(lambda c: len(fake.texts_to(ANA)) >= 3, 10)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, stderr.decode()
        assert fake.token not in stderr.decode()
        assert "Kontejner" not in stderr.decode()
        assert any("Dobro došli" in t for t in fake.texts_to(ANA))
    with sqlite3.connect(data / "bot.db") as db:
        [(language,)] = db.execute("SELECT language FROM users WHERE channel = 'viber'")
    assert language == "sr-Latn"


# ------------------------------------------------------------------------ settings


def test_viber_settings() -> None:
    env = {"VIBER_TOKEN": "t"}
    assert Settings.from_env(env).has_messenger
    assert Settings.from_env(env).viber_api_url == "https://chatapi.viber.com/pa"
    assert Settings.from_env(env).problems() == [
        "VIBER_TOKEN is set but VIBER_WEBHOOK_URL is not (Viber calls a webhook)"
    ]
    long_name = {**env, "VIBER_WEBHOOK_URL": "https://b.example/v", "VIBER_BOT_NAME": "x" * 29}
    assert Settings.from_env(long_name).problems() == [
        "VIBER_BOT_NAME must be at most 28 characters"
    ]
    clash = {
        "VIBER_WEBHOOK_URL": "https://b.example/hook",
        "TELEGRAM_WEBHOOK_URL": "https://b.example/hook",
        "TELEGRAM_WEBHOOK_SECRET": "s",
    }
    assert Settings.from_env(clash).problems() == [
        "TELEGRAM_WEBHOOK_URL and VIBER_WEBHOOK_URL need different paths"
    ]
    assert not Settings.from_env({}).has_messenger
