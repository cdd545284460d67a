"""Tests of the fake Telegram Bot API, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import (
    NOT_MODIFIED,
    BotApiSpec,
    Call,
    FakeTelegramApi,
    parse_html,
    parse_markdown_v2,
)

ROOT = Path(__file__).resolve().parents[1]
USER = 4242


@pytest.fixture(autouse=True)
def _timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without it PTB 22 warns (an error here) when it builds RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramApi]:
    async with FakeTelegramApi() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegramApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
    ) as client:
        yield client


async def test_get_me_describes_the_bot(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.id == fake.bot_id
    assert me.is_bot
    assert me.username == "moja_opstina_test_bot"


async def test_send_message_is_answered_and_recorded(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    first = await bot.send_message(USER, "Zdravo!")
    second = await bot.send_message(
        USER,
        "Izaberite:",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Da", callback_data="yes")]]),
    )

    assert first.text == "Zdravo!"
    assert first.chat.id == USER
    assert second.message_id == first.message_id + 1
    assert second.reply_markup is not None
    assert second.reply_markup.inline_keyboard[0][0].callback_data == "yes"
    (call, other) = fake.calls_of("sendMessage")
    assert call.params == {"chat_id": USER, "text": "Zdravo!"}
    assert other.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Da", "callback_data": "yes"}]]
    }
    assert [m["text"] for m in fake.sent_messages(USER)] == ["Zdravo!", "Izaberite:"]


async def test_reply_keyboard_is_accepted_but_not_kept_on_the_message(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("Pošalji lokaciju", request_location=True)]], resize_keyboard=True
    )
    message = await bot.send_message(USER, "Gde je problem?", reply_markup=markup)

    assert message.reply_markup is None
    assert fake.calls_of("sendMessage")[0].params["reply_markup"]["keyboard"][0][0] == {
        "text": "Pošalji lokaciju",
        "request_location": True,
    }


async def test_unknown_parameter_is_refused(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter 'colour'"):
        await bot.send_message(USER, "x", api_kwargs={"colour": "red"})
    assert fake.calls_of("sendMessage")[0].status == 400
    assert fake.sent_messages(USER) == []


async def raw_call(fake: FakeTelegramApi, method: str, **params: Any) -> dict[str, Any]:
    """Call the fake like PTB does (a form with JSON-encoded values), bypassing PTB."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{fake.token}/{method}", data=form) as response,
    ):
        body: dict[str, Any] = await response.json()
    assert response.status == body.get("error_code", 200)
    return body


async def test_missing_and_mistyped_parameters_are_refused(fake: FakeTelegramApi) -> None:
    body = await raw_call(fake, "sendMessage", text="x")
    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}
    body = await raw_call(fake, "sendMessage", chat_id=USER, text="   ")
    assert body["description"] == "Bad Request: message text is empty"
    body = await raw_call(fake, "sendMessage", chat_id=USER, text="x", message_thread_id="a")
    assert body["description"].startswith("Bad Request: invalid parameter 'message_thread_id'")
    body = await raw_call(
        fake,
        "sendMessage",
        chat_id=USER,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "a", "colour": "red"}]]},
    )
    assert "reply_markup.inline_keyboard[0][0].colour" in body["description"]
    body = await raw_call(fake, "answerCallbackQuery")
    assert body["description"] == "Bad Request: parameter 'callback_query_id' is required"
    body = await raw_call(fake, "sendMessage", chat_id="kanal", text="x")
    assert body["description"] == "Bad Request: chat not found"
    assert [c.status for c in fake.calls] == [400] * 6


async def test_text_over_4096_characters_is_refused(bot: telegram.Bot) -> None:
    await bot.send_message(USER, "ш" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "ш" * 4097)
    # The limit is on the text after entities parsing.
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")


async def test_caption_over_1024_characters_is_refused(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(USER, b"\xff\xd8 photo", caption="x" * 1025)


async def test_callback_data_over_64_bytes_is_refused(bot: telegram.Bot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="č" * 32)]])
    await bot.send_message(USER, "x", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="č" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=too_long)


async def test_html_is_parsed_into_entities(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    message = await bot.send_message(
        USER, "<b>Prijava</b> #12 &lt;primljena&gt;", parse_mode="HTML"
    )
    assert message.text == "Prijava #12 <primljena>"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 7)]
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: Unsupported start tag"):
        await bot.send_message(USER, "a < b, <opis>", parse_mode="HTML")


async def test_markdown_v2_reserved_characters_must_be_escaped(bot: telegram.Bot) -> None:
    message = await bot.send_message(USER, r"*Hvala\.* Broj prijave\: 12", parse_mode="MarkdownV2")
    assert message.text == "Hvala. Broj prijave: 12"
    with pytest.raises(BadRequest, match=r"(?i)Character '.' is reserved"):
        await bot.send_message(USER, "Hvala.", parse_mode="MarkdownV2")


def test_parsers_count_utf16_offsets() -> None:
    text, entities = parse_html("😀 <i>ćao</i>")
    assert text == "😀 ćao"
    assert entities == [{"type": "italic", "offset": 3, "length": 3}]
    text, entities = parse_markdown_v2("[sajt](https://example.org/a\\)b) __u__")
    assert text == "sajt u"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.org/a)b"},
        {"type": "underline", "offset": 5, "length": 1},
    ]


async def test_429_surfaces_as_retry_after(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert fake.calls_of("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    await bot.send_message(USER, "x")  # only the next call failed


async def test_403_surfaces_as_forbidden(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    fake.fail_next("sendMessage", 403, count=2, chat_id=USER)
    await bot.send_message(USER + 1, "another chat is fine")
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "x")


async def test_blocking_update_makes_later_sends_forbidden(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    update_id = fake.push_my_chat_member(USER, "kicked")
    (update,) = await bot.get_updates()
    assert update.update_id == update_id
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "x")


async def test_500_surfaces_as_network_error(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    fake.fail_next("sendMessage", 500)
    with pytest.raises(telegram.error.NetworkError, match=r"(?i)Internal Server Error"):
        await bot.send_message(USER, "x")


async def test_unknown_method_is_not_found(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelegram", api_kwargs={"chat_id": USER})
    call = fake.calls[-1]
    assert call.status == 404
    assert call.response == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


async def test_wrong_token_is_unauthorized(fake: FakeTelegramApi) -> None:
    other = telegram.Bot("123:wrong", base_url=fake.base_url, base_file_url=fake.base_file_url)
    with pytest.raises(InvalidToken):
        await other.initialize()
    await other.shutdown()


async def test_long_polling_returns_a_pushed_update(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    started = time.monotonic()
    polling = asyncio.create_task(bot.get_updates(timeout=dtm.timedelta(seconds=5)))
    await fake.wait_for_calls("getUpdates")
    update_id = fake.push_text(USER, "Rupa na putu", first_name="Jelena")
    (update,) = await polling
    assert time.monotonic() - started < 2
    assert update.update_id == update_id
    assert update.message is not None
    assert update.message.text == "Rupa na putu"
    assert update.message.from_user is not None
    assert update.message.from_user.first_name == "Jelena"

    # Unconfirmed updates come again; an offset above them confirms them.
    assert [u.update_id for u in await bot.get_updates()] == [update_id]
    assert await bot.get_updates(offset=update_id + 1) == ()
    assert fake.pending_updates == []


async def test_long_polling_times_out_empty(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=1)) == ()
    assert 0.9 < time.monotonic() - started < 3


async def test_allowed_updates_filter_what_is_delivered(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    fake.push_text(USER, "text")
    callback = fake.push_callback(USER, "menu:1")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.update_id for u in updates] == [callback]


async def test_get_file_downloads_the_registered_bytes(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    content = b"\x89PNG fake image bytes"
    file_id = fake.add_file(content)
    tg_file = await bot.get_file(file_id)
    assert tg_file.file_size == len(content)
    assert bytes(await tg_file.download_as_bytearray()) == content
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_pushed_photo_downloads_its_largest_size(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    fake.push_photo(USER, b"\xff\xd8 the resident's photo", caption="Kontejner")
    (update,) = await bot.get_updates()
    assert update.message is not None
    photo = update.message.photo
    assert len(photo) == 4
    assert photo[-1].width > photo[0].width
    largest = await (await bot.get_file(photo[-1].file_id)).download_as_bytearray()
    assert bytes(largest) == b"\xff\xd8 the resident's photo"


async def test_send_photo_by_upload_and_by_file_id(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    sent = await bot.send_photo(
        USER, b"\xff\xd8 new photo", caption="<i>Prijava</i>", parse_mode="HTML"
    )
    assert sent.caption == "Prijava"
    call = fake.calls_of("sendPhoto")[0]
    assert call.params["photo"] == "attach://photo"
    assert call.files["photo"].content == b"\xff\xd8 new photo"

    again = await bot.send_photo(USER + 1, sent.photo[-1].file_id)
    assert [p.file_id for p in again.photo] == [p.file_id for p in sent.photo]
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(USER, "not-a-file-id")
    document = fake.add_file(b"%PDF", kind="document")
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type Document as Photo"):
        await bot.send_photo(USER, document)


async def test_send_media_group(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    known = fake.add_file(b"\xff\xd8 known", kind="photo")
    messages = await bot.send_media_group(
        USER,
        [InputMediaPhoto(b"\xff\xd8 one", caption="Prva"), InputMediaPhoto(known)],
    )
    assert len(messages) == 2
    assert messages[0].media_group_id == messages[1].media_group_id is not None
    assert messages[0].caption == "Prva"
    assert messages[1].message_id == messages[0].message_id + 1
    with pytest.raises(BadRequest, match=r"(?i)2-10 items"):
        await bot.send_media_group(USER, [InputMediaPhoto(known)])
    mixed = await bot.send_media_group(USER, [InputMediaPhoto(known), InputMediaVideo(b"mp4")])
    assert mixed[1].video is not None
    with pytest.raises(BadRequest, match=r"(?i)document can't be mixed"):
        await bot.send_media_group(USER, [InputMediaPhoto(known), InputMediaDocument(b"%PDF")])


async def test_forward_and_copy_to_a_staff_group(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    staff = -1009876543210
    update_id = fake.push_photo(USER, b"\xff\xd8 pothole", caption="Rupa")
    photo_message_id = fake.update(update_id)["message"]["message_id"]
    forwarded = await bot.forward_message(staff, USER, photo_message_id)
    assert forwarded.forward_origin is not None
    assert forwarded.caption == "Rupa"
    copied = await bot.copy_message(staff, USER, photo_message_id, caption="Prijava #7")
    assert fake.last_sent(staff)["message_id"] == copied.message_id
    assert fake.last_sent(staff)["caption"] == "Prijava #7"
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(staff, USER, 999)


async def test_edit_with_the_same_content_is_not_modified(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Prihvati", callback_data="ack:1")]])
    sent = await bot.send_message(USER, "Prijava #1", reply_markup=keyboard)

    with pytest.raises(BadRequest, match=r"(?i)message is not modified") as caught:
        await bot.edit_message_text("Prijava #1", USER, sent.message_id, reply_markup=keyboard)
    assert caught.value.message.startswith("Message is not modified")
    assert fake.calls_of("editMessageText")[0].response["description"] == NOT_MODIFIED

    # Without reply_markup, Telegram drops the keyboard: that is a change.
    edited = await bot.edit_message_text("Prijava #1", USER, sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.reply_markup is None
    assert fake.last_sent(USER)["text"] == "Prijava #1"
    assert "reply_markup" not in fake.last_sent(USER)

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id)
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 999)


async def test_edit_caption(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    sent = await bot.send_photo(USER, b"\xff\xd8", caption="Stara")
    edited = await bot.edit_message_caption(USER, sent.message_id, caption="Nova")
    assert isinstance(edited, telegram.Message)
    assert edited.caption == "Nova"
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_caption(USER, sent.message_id, caption="Nova")
    text = await bot.send_message(USER, "tekst")
    with pytest.raises(BadRequest, match=r"(?i)no caption"):
        await bot.edit_message_caption(USER, text.message_id, caption="x")


async def test_callback_query_can_be_answered_once(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Da", callback_data="yes")]])
    sent = await bot.send_message(USER, "Potvrdi?", reply_markup=keyboard)
    fake.push_callback(USER, "yes")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.data == "yes"
    assert isinstance(query.message, telegram.Message)
    assert query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Hvala")
    assert fake.callback_answers[query.id]["text"] == "Hvala"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)


async def test_chat_action(bot: telegram.Bot) -> None:
    assert await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")


async def test_command_scopes_are_checked_and_a_chat_sees_its_own_menu_first(
    fake: FakeTelegramApi, bot: telegram.Bot
) -> None:
    private = telegram.BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands([("start", "Почни")], scope=private)
    assert await bot.set_my_commands([("start", "Start")], scope=private, language_code="en")
    # A chat's scope needs the chat, one that Telegram knows (its user has written).
    with pytest.raises(BadRequest, match=r"(?i)chat_id: required field of BotCommandScopeChat"):
        await bot.set_my_commands([("inbox", "x")], api_kwargs={"scope": {"type": "chat"}})
    with pytest.raises(BadRequest, match=r"(?i)unsupported BotCommandScope type 'room'"):
        await bot.set_my_commands([("inbox", "x")], api_kwargs={"scope": {"type": "room"}})
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands([("inbox", "x")], scope=telegram.BotCommandScopeChat(USER))
    assert fake.menu_of(USER, "en") == ["/start - Start"]
    fake.push_text(USER, "zdravo")
    assert await bot.set_my_commands(
        [("inbox", "Prijave")], scope=telegram.BotCommandScopeChat(USER)
    )
    assert fake.menu_of(USER, "en") == fake.menu_of(USER, "hu") == ["/inbox - Prijave"]
    assert fake.menu_of(USER + 1, "hu") == ["/start - Почни"]
    assert await bot.delete_my_commands(scope=telegram.BotCommandScopeChat(str(USER)))
    assert fake.menu_of(USER, "en") == ["/start - Start"]


async def test_commands_and_webhook(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    assert await bot.set_my_commands([("start", "Počni"), ("prijava", "Nova prijava")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "prijava"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start", "x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    secret = "webhook-secret_1"  # noqa: S105 - made up for the fake
    assert await bot.set_webhook("https://bot.example.org/tg", secret_token=secret)
    assert fake.webhook["secret_token"] == secret
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.org/tg"
    with pytest.raises(telegram.error.Conflict):
        await bot.get_updates()
    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL"):
        await bot.set_webhook("http://bot.example.org/tg")
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_pushed_updates_follow_the_spec(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    await bot.send_message(USER, "menu")
    ids = [
        fake.push_text(USER, "tekst"),
        fake.push_command(USER, "start", "ref42"),
        fake.push_callback(USER, "menu:report"),
        fake.push_location(USER, 45.7733, 19.1151),
        fake.push_venue(USER, 45.77, 19.11, "Opština", "Trg cara Uroša 1"),
        fake.push_photo(USER),
        fake.push_document(USER),
        fake.push_sticker(USER),
        fake.push_voice(USER),
        fake.push_contact(USER, "+381641234567"),
        fake.push_text(USER, "u grupi", chat_id=-1001234567890),
        fake.push_my_chat_member(USER, "member"),
    ]
    message_id = fake.update(ids[0])["message"]["message_id"]
    ids.append(fake.push_edited_text(USER, message_id, "ispravljen tekst"))
    for update_id in ids:
        fake.spec.check(fake.update(update_id), "Update")

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == ids
    assert all(u.effective_message is not None for u in updates[:-2])
    assert updates[-2].my_chat_member is not None
    command = updates[1].message
    assert command is not None
    assert command.text == "/start ref42"
    assert command.entities[0].type == "bot_command"
    location = updates[3].message
    assert location is not None
    assert location.location is not None
    assert location.location.latitude == pytest.approx(45.7733)
    venue = updates[4].message
    assert venue is not None
    assert venue.venue is not None
    assert venue.location is not None
    contact = updates[9].message
    assert contact is not None
    assert contact.contact is not None
    assert contact.contact.user_id == USER
    group = updates[10].message
    assert group is not None
    assert group.chat.type == "supergroup"
    edited = updates[12].edited_message
    assert edited is not None
    assert edited.text == "ispravljen tekst"


async def test_answers_follow_the_spec(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    await bot.send_message(USER, "a", reply_parameters=None)
    await bot.send_photo(USER, b"\xff\xd8")
    await bot.send_location(USER, 45.0, 19.0)
    await bot.send_document(USER, b"%PDF", filename="izvestaj.pdf")
    sent = await bot.send_message(USER, "b", reply_to_message_id=1)
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "a"
    returns = {"sendMessage": "Message", "sendPhoto": "Message", "sendLocation": "Message"}
    for call in fake.calls:
        if call.method in returns:
            fake.spec.check(call.result, returns[call.method])
    fake.spec.check(fake.calls_of("sendDocument")[0].result, "Message")
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(USER, "c", reply_to_message_id=999)


async def test_wait_for_explains_a_timeout(fake: FakeTelegramApi, bot: telegram.Bot) -> None:
    await bot.send_message(USER, "x")

    def two_messages(calls: list[Call]) -> bool:
        return len([c for c in calls if c.method == "sendMessage"]) >= 2

    with pytest.raises(TimeoutError, match=r"(?s)two_messages.*sendMessage -> 200"):
        await fake.wait_for(two_messages, timeout=0.05)
    found = await fake.wait_for(lambda calls: [c for c in calls if c.method == "sendMessage"])
    assert found[0].params["text"] == "x"


async def test_json_and_get_requests(fake: FakeTelegramApi) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}"
        async with session.post(
            f"{url}/sendMessage",
            json={"chat_id": USER, "text": 123, "reply_markup": {"inline_keyboard": []}},
        ) as response:
            body = await response.json()
            assert response.status == 200, body
            assert body["result"]["text"] == "123"
        async with session.get(f"{url}/getMe") as response:
            assert (await response.json())["result"]["is_bot"] is True
        async with session.get(
            f"{url}/sendMessage", params={"chat_id": "@kanal", "text": "x"}
        ) as response:
            assert (await response.json())["result"]["chat"]["type"] == "channel"
        async with session.post(
            f"{url}/sendMessage", json={"chat_id": True, "text": "x"}
        ) as response:
            assert response.status == 400
            assert "chat_id" in (await response.json())["description"]


async def test_application_polling_end_to_end(fake: FakeTelegramApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Primljeno: {update.effective_message.text}")

    app = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
        fake.push_text(USER, "Ulica bez svetla")
        (call,) = await fake.wait_for_calls("sendMessage")
        await app.updater.stop()
        await app.stop()
    assert call.params["text"] == "Primljeno: Ulica bez svetla"
    assert fake.calls_of("deleteWebhook")


async def test_standalone_server_and_control_api(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.telegram_api",
        "--port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        info: dict[str, Any] = json.loads(await asyncio.wait_for(process.stdout.readline(), 20))
        control = info["control_url"]
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{control}/files", data=b"bytes of a photo") as response:
                file_id = (await response.json())["file_id"]
            async with session.post(
                f"{control}/updates",
                json={
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "chat": {"id": 5, "type": "private"},
                        "text": "hi",
                    }
                },
            ) as response:
                update_id = (await response.json())["update_id"]
            async with session.post(
                f"{control}/push/photo", json={"user_id": 5, "file_ids": [file_id]}
            ) as response:
                photo_update_id = (await response.json())["update_id"]
            async with session.post(
                f"{control}/fail", json={"method": "sendMessage", "status": 429, "retry_after": 3}
            ) as response:
                assert response.status == 200

            async with telegram.Bot(
                info["token"], base_url=info["base_url"], base_file_url=info["base_file_url"]
            ) as client:
                updates = await client.get_updates()
                assert [u.update_id for u in updates] == [update_id, photo_update_id]
                photo = updates[1].message.photo if updates[1].message else ()
                downloaded = await (
                    await client.get_file(photo[-1].file_id)
                ).download_as_bytearray()
                assert bytes(downloaded) == b"bytes of a photo"
                with pytest.raises(RetryAfter):
                    await client.send_message(5, "x")
                await client.send_message(5, "y")

            async with session.get(
                f"{control}/calls", params={"method": "sendMessage"}
            ) as response:
                calls = (await response.json())["calls"]
            assert [(c["status"], c["params"]["text"]) for c in calls] == [(429, "x"), (200, "y")]
            async with session.get(f"{control}/sent", params={"chat_id": "5"}) as response:
                assert [m["text"] for m in (await response.json())["messages"]] == ["y"]
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


def test_spec_copy_is_the_shared_spec() -> None:
    spec = BotApiSpec.load()
    assert spec.version == "Bot API 10.1"
    shared = ROOT.parent / "shared" / "specs" / "telegram-bot-api.json"
    if shared.exists():
        assert (
            ROOT / "tests" / "data" / "telegram-bot-api.json"
        ).read_bytes() == shared.read_bytes()
