"""The Telegram channel on python-telegram-bot: updates become events, replies become calls.

This module is the only one that imports ``telegram``. It uses PTB's ``Bot`` for every call and
``Update.de_json`` for parsing, and polls with its own loop rather than PTB's ``Updater``: an
update's offset is confirmed to Telegram only after the update's effects are committed, so a
crash never loses one (a redelivered update is dropped by the dispatcher's update-id check).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, assert_never

import aiohttp
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

from bot.channels.text import split_text as text_parts
from bot.channels.text import utf16_len
from bot.dispatcher import Outcome
from handlers import events
from handlers.events import (
    MAX_FILE_BYTES,
    AskLocation,
    Blocked,
    ButtonChoice,
    Choices,
    Command,
    CommandMenu,
    Contact,
    Document,
    File,
    Inbound,
    Location,
    Photo,
    RemoveKeyboard,
    Reply,
    Sender,
    Text,
    Unsupported,
    Voice,
)
from handlers.flow import Registry, Role
from handlers.i18n import translator
from handlers.ports import (
    DeliveryError,
    PermanentError,
    RetryAfterError,
    TemporaryError,
    UnreachableError,
)
from storage import exports
from storage.photos import MAX_PHOTO_BYTES
from storage.voices import MAX_VOICE_BYTES

log = logging.getLogger(__name__)
# getUpdates is fetched as raw JSON on purpose (see _get_updates); PTB would rather we did not.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200  # characters of an answerCallbackQuery text
ANSWERED_KEPT = 10_000  # callback query ids remembered (Telegram redelivers within minutes)
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
POLL_TIMEOUT_S = 30
# Requests at once. httpcore scans its whole pool for every queued request, so more requests
# than connections cost more than they bring; 16 keeps a 1,000 messages/s broadcast going.
IN_FLIGHT = 16
UNSUPPORTED_KINDS = (
    "sticker", "video", "video_note", "animation", "poll", "dice", "game",
    "story", "invoice", "paid_media",
)  # fmt: skip

Dispatch = Callable[[Inbound], Awaitable[Outcome]]


def make_bot(token: str, api_url: str, file_url: str) -> Bot:
    """A PTB ``Bot`` for the given Bot API server (Telegram's own or a self-hosted one)."""
    # getUpdates has a request object of its own (PTB's httpx one unless told): ours for both,
    # one connection for the long poll, so that no call goes through another HTTP client.
    return Bot(
        token,
        base_url=api_url,
        base_file_url=file_url,
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connections=1, read_timeout=POLL_TIMEOUT_S + 10),
    )


class AiohttpRequest(BaseRequest):
    """PTB's networking on aiohttp, the project's HTTP client.

    PTB's default (httpx) costs about 2 ms of CPU per request on this machine, most of it in
    httpcore's connection pool; aiohttp's costs a fraction of that, which is what lets a
    broadcast reach 1,000 messages/s. PTB documents ``BaseRequest`` for exactly this.
    """

    def __init__(self, connections: int = IN_FLIGHT, read_timeout: float = 10.0) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        """The default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the HTTP session."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one request; map aiohttp's errors to PTB's."""
        await self.initialize()
        assert self._session is not None  # noqa: S101 - initialize opened it
        read = self._read_timeout if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=read)
        try:
            async with self._session.request(
                method, url, data=_form(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as e:
            raise TimedOut from e
        except aiohttp.ClientError as e:
            raise NetworkError(f"aiohttp: {type(e).__name__}") from e


def _form(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """The body PTB would send: form fields, and multipart when there are files."""
    if request_data is None:
        return None
    fields = {k: str(v) for k, v in request_data.json_parameters.items()}
    if not request_data.contains_files:
        return fields
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        filename, content, mime = part
        form.add_field(name, content, filename=filename, content_type=mime)
    return form


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a text into parts Telegram accepts (4,096 UTF-16 units each)."""
    return text_parts(text, limit)


def reply_markup(reply: Reply) -> Any:
    """The markup of a reply: inline choices, a location request, a keyboard taken away, a
    request to answer, or none."""
    match reply.markup:
        case Choices(rows):
            return InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
            )
        case AskLocation(label):
            button = KeyboardButton(label or "📍", request_location=True)
            return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
        case RemoveKeyboard():
            return ReplyKeyboardRemove()
        case events.ForceReply():
            # In a group with privacy mode the bot sees only commands and answers to its messages.
            return ForceReply(selective=True)
        case None:
            return None
        case _:
            assert_never(reply.markup)


@dataclass(slots=True)
class _Progress:
    """How many parts of a reply have gone out (photos count as one part)."""

    done: int


class TelegramChannel:
    """Sends replies with the Bot API, mapping its errors for the outbox (which keeps the rates)."""

    name = CHANNEL

    def __init__(self, bot: Bot, data_dir: Path) -> None:
        self.bot = bot
        self._data_dir = data_dir
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def send(self, chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        """Deliver one reply (or edit an earlier one); raises the outbox's delivery errors."""
        progress = _Progress(reply.done_parts)
        try:
            return await self._deliver(int(chat_id), reply, edit, progress)
        except DeliveryError as e:
            e.done = progress.done
            raise

    async def _deliver(
        self, chat_id: int, reply: Reply, edit: str | None, progress: _Progress
    ) -> str | None:
        try:
            async with self._in_flight:
                if edit is not None and await self._edit(chat_id, int(edit), reply):
                    return edit
                return await self._send(chat_id, reply, progress)
        except RetryAfter as e:
            raise RetryAfterError(_seconds(e.retry_after)) from e
        except Forbidden as e:
            raise UnreachableError(e.message) from e
        except BadRequest as e:
            text = e.message.lower()
            if "not modified" in text:
                return edit
            if _about_the_chat(e):
                raise UnreachableError(e.message) from e
            raise PermanentError(e.message) from e
        except ChatMigrated as e:
            # A staff group became a supergroup: its id in the municipality file must change.
            log.error("chat %s moved to %s; update staff_chat_id", chat_id, e.new_chat_id)  # noqa: TRY400 - no traceback needed
            raise PermanentError("chat migrated") from e
        except (NetworkError, OSError, TelegramError) as e:
            # PTB raises NetworkError for timeouts, broken connections and 5xx answers; any
            # other error (a revoked token...) may pass once someone fixes it: retried.
            raise TemporaryError(type(e).__name__) from e

    async def _edit(self, chat_id: int, message_id: int, reply: Reply) -> bool:
        """Edit a message in place; False when it is gone (deleted), so a new one is sent."""
        # Only inline choices can be edited in place; other keyboards belong to new messages.
        markup = reply_markup(reply) if isinstance(reply.markup, Choices) else None
        try:
            await self.bot.edit_message_text(
                split_text(reply.text)[0], chat_id, message_id, reply_markup=markup
            )
        except BadRequest as e:
            if "not modified" in e.message.lower():
                return True
            if "not found" in e.message.lower():
                return False
            raise
        return True

    async def _send(self, chat_id: int, reply: Reply, progress: _Progress) -> str:
        """Send the photos, then the text in parts, skipping what an earlier attempt sent."""
        markup = reply_markup(reply)
        parts = split_text(reply.text)
        steps: list[Callable[[], Awaitable[Message | None]]] = []
        if reply.photos:
            steps.append(lambda: self._send_photos(chat_id, reply.photos))
        if reply.voice:
            steps.append(lambda: self._send_voice(chat_id, reply.voice))
        if reply.document is not None:
            document = reply.document
            # A short text goes as the file's caption, with the buttons; a long one after it.
            caption = parts[0] if len(parts) == 1 and utf16_len(parts[0]) <= CAPTION_LIMIT else ""
            parts = [] if caption else parts
            steps.append(partial(self._send_document, chat_id, document, caption, markup))
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            steps.append(
                partial(self.bot.send_message, chat_id, part, reply_markup=markup if last else None)
            )
        message_id = ""
        for step in steps[progress.done :]:
            sent = await step()
            progress.done += 1
            if sent is not None:
                message_id = str(sent.message_id)
        return message_id

    async def _send_photos(self, chat_id: int, paths: Sequence[str]) -> None:
        """Send the photos; when a file is missing or Telegram refuses it, the text goes alone."""
        try:
            contents = [await asyncio.to_thread((self._data_dir / p).read_bytes) for p in paths]
            if len(contents) == 1:
                await self.bot.send_photo(chat_id, contents[0])
            elif contents:
                await self.bot.send_media_group(
                    chat_id, [InputMediaPhoto(c) for c in contents[:10]]
                )
        except FileNotFoundError:
            log.warning("a photo file is missing; the message is sent without its photos")
        except BadRequest as e:
            if _about_the_chat(e):
                raise
            log.warning("photos refused (%s); the message is sent without them", e.message)

    async def _send_document(
        self, chat_id: int, document: Document, caption: str, markup: Any
    ) -> Message:
        """Upload a stored file (a data export); one gone already (expired) cannot be sent, nor
        one that is no export (an old row without a path, another file of the data folder)."""
        if not exports.is_export(document.path):
            raise PermanentError("the file to send is not a data export")
        try:
            content = await asyncio.to_thread((self._data_dir / document.path).read_bytes)
        except FileNotFoundError:
            raise PermanentError("the file to send is gone (expired)") from None
        except OSError as e:  # retrying would not make it readable
            raise PermanentError(f"the file to send cannot be read ({type(e).__name__})") from None
        return await self.bot.send_document(
            chat_id,
            InputFile(content, filename=document.name),
            caption=caption or None,
            reply_markup=markup if caption else None,
        )

    async def _send_voice(self, chat_id: int, path: str) -> None:
        """Send a stored voice note; when it is missing or refused, the text goes alone."""
        try:
            content = await asyncio.to_thread((self._data_dir / path).read_bytes)
            await self.bot.send_voice(chat_id, InputFile(content, filename=Path(path).name))
        except FileNotFoundError:
            log.warning("a voice file is missing; the message is sent without it")
        except BadRequest as e:
            if _about_the_chat(e):
                raise
            log.warning("voice note refused (%s); the message is sent without it", e.message)

    async def register_commands(self, languages: Sequence[str], registry: Registry) -> None:
        """Register the listed commands in each offered language: residents' in private chats,
        staff commands in groups (the staff chats)."""
        resident = [c for c in registry.commands if c.listed and c.role is Role.RESIDENT]
        staff = [c for c in registry.commands if c.help and c.role is not Role.RESIDENT]
        scopes = (
            (resident, BotCommandScopeAllPrivateChats()),
            (staff, BotCommandScopeAllGroupChats()),
        )
        # Telegram knows one "sr"; the Cyrillic source serves it, as the default does.
        for language, code in [
            (languages[0], None),
            *((lang, lang.split("-")[0]) for lang in languages),
        ]:
            if code == "sr" and language != "sr-Cyrl":
                continue
            _ = translator(language).gettext
            for listed, scope in scopes:
                commands = [BotCommand(c.name, _(c.help)[:256]) for c in listed]
                await self.bot.set_my_commands(commands, scope=scope, language_code=code)

    async def set_menu(self, chat_id: str, menu: CommandMenu) -> None:
        """Set a private chat's own command menu (a staff member's), or take it away.

        The chat's scope has no language: the menu is rendered in the reader's language and
        script already, and it beats every scope of all private chats, whatever the app's language.
        """
        scope = BotCommandScopeChat(int(chat_id))
        commands = [BotCommand(c.name, c.description[:256]) for c in menu.commands]
        try:
            async with self._in_flight:
                if commands:
                    await self.bot.set_my_commands(commands, scope=scope)
                else:
                    await self.bot.delete_my_commands(scope=scope)
        except RetryAfter as e:
            raise RetryAfterError(_seconds(e.retry_after)) from e
        except (BadRequest, Forbidden) as e:
            # "chat not found": they have not written to the bot yet. Their menu is set when they
            # choose a language; their chat is no less reachable for it.
            raise PermanentError(e.message) from e
        except (NetworkError, OSError, TelegramError) as e:
            raise TemporaryError(type(e).__name__) from e

    async def set_menus(self, menus: Sequence[tuple[str, CommandMenu]]) -> int:
        """Set the menus of these private chats (the staff's, at start-up); return how many were
        set. One that Telegram refuses is logged, without the chat, and the others go on."""
        done = 0
        for chat_id, menu in menus:
            try:
                await self.set_menu(chat_id, menu)
            except DeliveryError as e:
                log.warning("a staff member's command menu was not set: %s", e)
            else:
                done += 1
        log.info("command menus set in %d of %d staff members' chats", done, len(menus))
        return done


def _about_the_chat(e: BadRequest) -> bool:
    """Whether Telegram refused a request because of its chat (gone), not of its content."""
    text = e.message.lower()
    return "chat not found" in text or "user is deactivated" in text


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _with_words(photo: Photo, message: Message) -> Photo:
    """A photo with its caption and its album (each photo of an album is its own update)."""
    return replace(photo, caption=message.caption or "", album=message.media_group_id or "")


class TelegramUpdates:
    """Turns updates into events and hands them to the dispatcher, by polling or by webhook."""

    def __init__(self, bot: Bot, dispatch: Dispatch) -> None:
        self.bot = bot
        self._dispatch = dispatch
        # Callback queries answered lately: a redelivered update (a webhook retry, a batch
        # fetched again) must not answer its query twice (Telegram refuses the second).
        self._answered: OrderedDict[str, None] = OrderedDict()

    async def handle(self, data: dict[str, Any]) -> bool:
        """Handle one raw update; a malformed or unknown one is logged and skipped.

        Returns False when the update's effects could not be committed (the database was
        busy): it must be delivered again.
        """
        try:
            update = Update.de_json(data, self.bot)
        except Exception:
            log.warning("malformed update %s skipped", data.get("update_id"))
            return True
        outcome: Outcome | None = None
        try:
            event = await self.to_event(update)
            if event is not None:
                outcome = await self._dispatch(event)
        finally:
            # Always answered, even for a stale button, or the client shows a spinner; after
            # the dispatch, so that a refusal is said on the button to the presser alone.
            query = update.callback_query
            if query is not None and self._first_answer(query.id):
                await self._answer_callback(query.id, outcome.alert if outcome else None)
        return outcome.committed if outcome else True

    def _first_answer(self, query_id: str) -> bool:
        """Whether this query is yet to be answered; it counts as answered from now on."""
        if query_id in self._answered:
            return False
        self._answered[query_id] = None
        if len(self._answered) > ANSWERED_KEPT:
            self._answered.popitem(last=False)
        return True

    async def _answer_callback(self, query_id: str, alert: str | None) -> None:
        try:
            if alert:
                await self.bot.answer_callback_query(
                    query_id, alert[:CALLBACK_ANSWER_LIMIT], show_alert=True
                )
            else:
                await self.bot.answer_callback_query(query_id)
        except TelegramError as e:
            log.info("answerCallbackQuery failed: %s", e.message)

    async def to_event(self, update: Update) -> Inbound | None:
        """The event of an update, or None for one that is skipped on purpose."""
        uid = str(update.update_id)
        if update.callback_query is not None:
            query = update.callback_query
            message = query.message
            if message is None or not query.data:
                return None
            sender = Sender(
                CHANNEL, str(query.from_user.id), str(message.chat.id), query.from_user.first_name,
                group=message.chat.type != "private",
            )  # fmt: skip
            return ButtonChoice(sender, query.data, update_id=uid)
        if update.my_chat_member is not None:
            member = update.my_chat_member
            if member.chat.type == "private" and member.new_chat_member.status == "kicked":
                user = member.from_user
                return Blocked(
                    Sender(CHANNEL, str(user.id), str(member.chat.id), user.first_name), uid
                )
            return None
        if update.message is not None:
            return await self._message_event(update.message, uid)
        # Edited messages, channel posts, business messages...: skipped on purpose.
        log.debug("update %s of another kind skipped", uid)
        return None

    async def _message_event(self, message: Message, uid: str) -> Inbound | None:
        user = message.from_user
        if user is None:
            return None
        if message.chat.type != "private":
            return await self._group_event(message, uid)
        sender = Sender(CHANNEL, str(user.id), str(message.chat.id), user.first_name)
        if message.text is not None:
            return _text_event(sender, message, uid)
        if message.location is not None:
            title = message.venue.title if message.venue else ""
            return Location(
                sender, message.location.latitude, message.location.longitude, title, uid
            )
        if message.photo:
            largest = max(message.photo, key=lambda p: p.width * p.height)
            photo = await self._photo(sender, largest.file_id, largest.file_size or 0, uid)
            return _with_words(photo, message)
        if message.document is not None:
            doc = message.document
            if (doc.mime_type or "").startswith("image/"):
                photo = await self._photo(sender, doc.file_id, doc.file_size or 0, uid)
                return _with_words(photo, message)
            name = doc.file_name or ""
            return await self._document(sender, doc.file_id, name, doc.file_size, uid)
        if message.voice is not None or message.audio is not None:
            return await self._voice(sender, message, uid)
        if message.contact is not None:
            return Contact(sender, message.contact.phone_number, uid)
        kind = next((k for k in UNSUPPORTED_KINDS if getattr(message, k, None)), "other")
        return Unsupported(sender, kind, uid)

    async def _group_event(self, message: Message, uid: str) -> Inbound | None:
        """In a staff group: commands, and texts that answer the bot; residents' talk is skipped."""
        user = message.from_user
        answers_bot = (
            message.reply_to_message is not None
            and message.reply_to_message.from_user is not None
            and message.reply_to_message.from_user.id == self.bot.id
        )
        if user is None:
            return None
        sender = Sender(CHANNEL, str(user.id), str(message.chat.id), user.first_name, group=True)
        # The handler takes an answer only if it replies to its own question's message.
        answered = str(message.reply_to_message.message_id) if message.reply_to_message else None
        if message.photo and answers_bot:  # the photo of a fix, asked for after /resolve
            largest = max(message.photo, key=lambda p: p.width * p.height)
            photo = await self._photo(sender, largest.file_id, largest.file_size or 0, uid)
            return replace(photo, reply_to=answered)
        if message.voice is not None and answers_bot:  # a staff answer spoken, not typed
            return replace(await self._voice(sender, message, uid), reply_to=answered)
        if message.text is None:
            return None
        event = _text_event(sender, message, uid)
        if isinstance(event, Text):
            event = replace(event, reply_to=answered)
        return event if isinstance(event, Command) or answers_bot else None

    async def _photo(self, sender: Sender, file_id: str, size: int, uid: str) -> Photo:
        if size > MAX_PHOTO_BYTES:
            return Photo(sender, file_id, None, size, uid)
        try:
            telegram_file = await self.bot.get_file(file_id)
            content = bytes(await telegram_file.download_as_bytearray())
        except TelegramError as e:
            log.warning("photo download failed: %s", type(e).__name__)
            return Photo(sender, file_id, None, size, uid)
        return Photo(sender, file_id, content, len(content), uid)

    async def _voice(self, sender: Sender, message: Message, uid: str) -> Voice:
        """A voice note (or an audio file) with its bytes, when small enough to take."""
        note = message.voice or message.audio
        assert note is not None  # noqa: S101 - the caller checked
        size = note.file_size or 0
        event = Voice(sender, note.file_id, None, size, int(_seconds(note.duration)), uid)
        if size > MAX_VOICE_BYTES:
            return event
        try:
            telegram_file = await self.bot.get_file(note.file_id)
            content = bytes(await telegram_file.download_as_bytearray())
        except TelegramError as e:
            log.warning("voice download failed: %s", type(e).__name__)
            return event
        return replace(event, content=content, size=len(content))

    async def _document(
        self, sender: Sender, file_id: str, name: str, size: int | None, uid: str
    ) -> File:
        """A document with its bytes (a budget file an admin sends), when small enough."""
        if size is None or size > MAX_FILE_BYTES:
            return File(sender, "document", uid, name=name, size=size or 0)
        try:
            telegram_file = await self.bot.get_file(file_id)
            content = bytes(await telegram_file.download_as_bytearray())
        except TelegramError as e:
            log.warning("document download failed: %s", type(e).__name__)
            return File(sender, "document", uid, name=name, size=size)
        return File(sender, "document", uid, name=name, content=content, size=len(content))

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll until ``stop`` is set, confirming an offset only after its batch is handled."""
        await self.bot.delete_webhook()
        offset = 0
        failures = 0
        uncommitted = 0
        while not stop.is_set():
            try:
                updates = await self._get_updates(offset)
                failures = 0
            except Conflict:
                log.warning("another process polls this bot or a webhook is set; retrying")
                await _sleep_or_stop(stop, 5)
                continue
            except (NetworkError, OSError) as e:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", type(e).__name__)
                await _sleep_or_stop(stop, min(60, 2**failures))
                continue
            if not updates:
                continue
            # Different residents' updates run together; one resident's run in order.
            left = await asyncio.gather(*(self._handle_in_order(g) for g in by_user(updates)))
            offset = confirmed_offset(updates, {id(u) for group in left for u in group}, offset)
            if any(left):
                # The database is busy: what was not committed comes again after a pause (what
                # was committed after it comes again too, and the dispatcher drops it).
                uncommitted += 1
                log.warning("%s updates not committed; retrying", sum(map(len, left)))
                await _sleep_or_stop(stop, min(30, 2 ** (uncommitted - 1)))
            else:
                uncommitted = 0

    async def _handle_in_order(self, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Handle one user's updates in order; return those left for later (from the first
        that could not be committed on, so that the user's order holds)."""
        for i, update in enumerate(updates):
            try:
                committed = await self.handle(update)
            except Exception:
                # One update must never stop the polling that serves everyone else.
                log.exception("update %s could not be handled", update.get("update_id"))
                committed = True
            if not committed:
                return updates[i:]
        return []

    async def _get_updates(self, offset: int) -> list[dict[str, Any]]:
        """Fetch updates as raw JSON, so that one malformed update cannot stop the others."""
        result = await self.bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": offset,
                "timeout": POLL_TIMEOUT_S,
                "allowed_updates": list(ALLOWED_UPDATES),
            },
            read_timeout=POLL_TIMEOUT_S + 10,
        )
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    def webhook_route(self, secret: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """The aiohttp handler of the webhook: checks the secret, answers after the commit."""

        async def receive(request: web.Request) -> web.StreamResponse:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                log.warning("webhook call with a wrong secret refused")
                return web.Response(status=403, text="forbidden")
            try:
                data = await request.json()
            except ValueError:
                return web.Response(status=400, text="bad request")
            if not isinstance(data, dict):
                return web.Response(status=400, text="bad request")
            if not await self.handle(data):
                # Not committed (the database is busy): Telegram delivers it again.
                return web.Response(status=503, text="busy, try again")
            return web.Response(text="ok")

        return receive


def confirmed_offset(updates: list[dict[str, Any]], left: set[int], offset: int) -> int:
    """The offset that confirms the updates up to the first one left for later (by ``id()``)."""
    confirmed = offset - 1
    for update in sorted(updates, key=_update_id):
        if id(update) in left:
            break
        confirmed = max(confirmed, _update_id(update))
    return confirmed + 1


def _update_id(update: dict[str, Any]) -> int:
    uid = update.get("update_id")
    return uid if isinstance(uid, int) else -1


def by_user(updates: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group raw updates by the user who sent them, keeping their order."""
    groups: dict[object, list[dict[str, Any]]] = {}
    for i, update in enumerate(updates):
        groups.setdefault(_user_key(update) or ("update", i), []).append(update)
    return list(groups.values())


def _user_key(update: dict[str, Any]) -> object:
    for kind in ALLOWED_UPDATES:
        body = update.get(kind)
        if isinstance(body, dict) and isinstance(body.get("from"), dict):
            return body["from"].get("id")
    return None


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that lands with the stop.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


def _text_event(sender: Sender, message: Message, uid: str) -> Inbound:
    text = message.text or ""
    entity = message.entities[0] if message.entities else None
    if entity is not None and entity.type == "bot_command" and entity.offset == 0:
        name = text[1 : entity.length].split("@")[0].lower()
        return Command(sender, name, text[entity.length :].strip(), uid)
    return Text(sender, text, uid)
