"""The Viber channel on viberbot: signed callbacks become events, replies become messages.

This module is the only one that imports ``viberbot``. viberbot 1.0.12 is synchronous
(``requests``), has no timeout and no setting for the API address, and logs whole payloads with
the auth token in them. So its HTTP sender is replaced by ``_RequestSender`` (our base URL, a
timeout, no logging), its logger is silenced, and every call runs in a thread
(``asyncio.to_thread``) under a timeout of ours: a slow Viber never blocks the event loop.

Button presses: Viber sends a pressed ``reply`` button as an ordinary text message whose text is
the button's ActionBody. Our ActionBody is the button's data behind ``BUTTON_PREFIX`` and the
buttons are ``Silent`` (the body is not shown in the chat): a text with the prefix is a
``ButtonChoice``, any other text is ``Text``. This keeps no state, so it survives restarts and
works for keyboards sent long ago; a resident who types the prefix only makes a ``ButtonChoice``,
whose data the handlers check like any typed text. Matching texts against the last keyboard sent
would need per-user state, and would take a typed word that equals a label for a press.

The welcome: Viber lets a bot write to a user who has not subscribed only once, in the HTTP answer
to ``conversation_started``. That callback becomes a ``/start`` command like any other event; the
channel holds a slot for the chat, and the first reply the outbox sends there fills the slot
instead of calling ``send_message``, so that the webhook can answer with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard, TypeVar
from urllib.parse import urlsplit

import aiohttp
import requests
from aiohttp import web
from viberbot import Api
from viberbot.api.api_request_sender import ApiRequestSender
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.consts import VIBER_BOT_API_URL, VIBER_BOT_USER_AGENT
from viberbot.api.message_sender import MessageSender
from viberbot.api.messages import (
    MESSAGE_TYPE_TO_CLASS,
    ContactMessage,
    FileMessage,
    KeyboardMessage,
    LocationMessage,
    PictureMessage,
    TextMessage,
    URLMessage,
)
from viberbot.api.user_profile import UserProfile
from viberbot.api.viber_requests import create_request

from bot.dispatcher import Outcome
from handlers.events import (
    MAX_FILE_BYTES,
    AskLocation,
    Blocked,
    Button,
    ButtonChoice,
    Command,
    Contact,
    File,
    Inbound,
    Location,
    Photo,
    Reply,
    Sender,
    Text,
    Unsupported,
    Voice,
)
from handlers.ports import (
    DeliveryError,
    PermanentError,
    RetryAfterError,
    Screens,
    TemporaryError,
    UnreachableError,
)
from storage import exports, voices
from storage.photos import MAX_PHOTO_BYTES

from .text import split_text, utf16_len

log = logging.getLogger(__name__)

T = TypeVar("T")
Dispatch = Callable[[Inbound], Awaitable[Outcome]]


class NotCommittedError(Exception):
    """A callback's effects could not be committed (the database was busy): Viber retries."""


JSONDict = dict[str, Any]

CHANNEL = "viber"
DEFAULT_API_URL = VIBER_BOT_API_URL
SIGNATURE_HEADER = "X-Viber-Content-Signature"
AUTH_HEADER = "X-Viber-Auth-Token"
TEXT_LIMIT = 7000
# Viber refuses a whole message whose keyboard has a button text over 250 characters.
BUTTON_TEXT_LIMIT = 250
KEYBOARD_COLUMNS = 6
BUTTON_PREFIX = "btn:"
# location-picker buttons need Viber 7.6 or later (API level 3); older clients refuse them.
LOCATION_PICKER_LEVEL = 3
EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]
RECEIPTS = frozenset({"delivered", "seen", "failed"})
CALL_TIMEOUT_S = 10.0
DOWNLOAD_TIMEOUT_S = 20.0
WELCOME_WAIT_S = 3.0
# tooManyRequests names no wait; this lets a burst pass without holding a resident long.
TOO_MANY_REQUESTS_WAIT_S = 30.0
# receiverNotRegistered, receiverNotSubscribed, publicAccountBlocked.
UNREACHABLE_STATUSES = frozenset({5, 6, 7})
TOO_MANY_REQUESTS = 12
# apiVersionNotSupported, incompatibleWithVersion: the client is too old for the keyboard.
OLD_CLIENT_STATUSES = frozenset({13, 14})
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
# Viber has no voice messages for bots: a resident can send a recording as a file only.
AUDIO_SUFFIXES = (".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".mp4a")
# Media a signed URL may name: photos and voice notes, and exports until they expire.
SERVED_FOLDERS = ("photos", voices.FOLDER, exports.FOLDER)
_STATUS = re.compile(r"failed with status: (\d+), message: (\w*)")
_COMMAND = re.compile(r"/(\w{1,32})(?:\s+(.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ViberAccount:
    """The bot's Viber account as the channel needs it."""

    token: str
    webhook_url: str
    name: str = "Moja opština"
    avatar: str | None = None
    api_url: str = DEFAULT_API_URL


class ViberSetupError(Exception):
    """Viber refused the account's token or its webhook."""


def _silenced_logger() -> logging.Logger:
    """viberbot's logger: it is handed payloads with the auth token and residents' texts."""
    logger = logging.getLogger("viber.bot.api")
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    return logger


class _RequestSender(ApiRequestSender):  # type: ignore[misc]  # viberbot has no types
    """viberbot's HTTP sender with our base URL and a timeout, logging nothing."""

    def __init__(self, api_url: str, config: Any, timeout: float) -> None:
        super().__init__(_silenced_logger(), api_url.rstrip("/"), config, VIBER_BOT_USER_AGENT)
        self._timeout = timeout

    def post_request(self, endpoint: str, payload: str) -> Any:
        """Post one request and return Viber's JSON answer; raises requests' errors."""
        headers = {
            "User-Agent": self._user_agent,
            "Content-Type": "application/json",
            # Viber documents the header today; viberbot also puts the token in the body.
            AUTH_HEADER: self._bot_configuration.auth_token,
        }
        response = requests.post(
            f"{self._viber_bot_api_url}/{endpoint}",
            data=payload.encode(),
            headers=headers,
            timeout=self._timeout,
        )
        response.raise_for_status()
        return response.json()


def make_api(account: ViberAccount, timeout: float = CALL_TIMEOUT_S) -> Any:
    """A viberbot ``Api`` for ``account``, talking to its ``api_url`` with a timeout."""
    config = BotConfiguration(auth_token=account.token, name=account.name, avatar=account.avatar)
    api = Api(config)
    # viberbot 1.0.12 hard-codes Viber's address: rebuild its two senders around ours.
    sender = _RequestSender(account.api_url, config, timeout)
    api._request_sender = sender
    api._message_sender = MessageSender(_silenced_logger(), sender, config)
    return api


def viber_status(error: BaseException) -> int | None:
    """Viber's status in viberbot's ``failed with status: N, message: ...`` exception."""
    found = _STATUS.search(str(error))
    return int(found.group(1)) if found else None


def delivery_error(error: BaseException, retry_wait: float) -> DeliveryError:
    """The outbox's error for what a send raised (never with the message's text in it)."""
    if isinstance(error, requests.HTTPError):
        code = error.response.status_code if error.response is not None else 0
        if code == 429:
            return RetryAfterError(retry_wait)
        return TemporaryError(f"HTTP {code}") if code >= 500 else PermanentError(f"HTTP {code}")
    if isinstance(error, requests.RequestException | OSError | TimeoutError):
        return TemporaryError(type(error).__name__)
    found = _STATUS.search(str(error))
    if found is None:
        return PermanentError("refused by viberbot")  # "failed validating message: ..."
    status, name = int(found.group(1)), found.group(2)
    if status in UNREACHABLE_STATUSES:
        return UnreachableError(f"status {status} {name}")
    if status == TOO_MANY_REQUESTS:
        return RetryAfterError(retry_wait)
    return PermanentError(f"status {status} {name}")


def keyboard_of(reply: Reply) -> JSONDict | None:
    """The Viber keyboard of a reply; None hides the keyboard shown before."""
    if reply.buttons:
        buttons = [
            _button(b, width)
            for row in reply.buttons
            for b, width in zip(row, _widths(len(row)), strict=True)
        ]
        return {"Type": "keyboard", "DefaultHeight": False, "Buttons": buttons}
    if isinstance(reply.markup, AskLocation):
        picker = {
            "Columns": KEYBOARD_COLUMNS,
            "Rows": 1,
            "ActionType": "location-picker",
            "ActionBody": "location",
            "Text": _label(reply.markup.label or "📍"),
        }
        return {"Type": "keyboard", "DefaultHeight": False, "Buttons": [picker]}
    return None


def _button(button: Button, width: int) -> JSONDict:
    return {
        "Columns": width,
        "Rows": 1,
        "ActionType": "reply",
        "ActionBody": BUTTON_PREFIX + button.data,
        "Text": _label(button.label),
        "Silent": True,
    }


def _label(text: str) -> str:
    """A button's text within Viber's limit: a longer one is cut at a space, with an ellipsis."""
    if utf16_len(text) <= BUTTON_TEXT_LIMIT:
        return text
    return split_text(text, BUTTON_TEXT_LIMIT - 1)[0] + "…"


def _widths(count: int) -> list[int]:
    """Widths of ``count`` buttons that share one 6-column row (more than 6 wrap)."""
    base, extra = divmod(KEYBOARD_COLUMNS, count)
    return [max(1, base + (1 if i < extra else 0)) for i in range(count)]


@dataclass(frozen=True, slots=True)
class ViberFile:
    """A file message's media: its URL, the name shown and its size in bytes."""

    url: str
    name: str
    size: int


def render(
    reply: Reply, media_url: Callable[[str], str], files: tuple[ViberFile, ...] = ()
) -> list[Any]:
    """The viberbot messages of a reply: its photos, its files (a voice note, a document), then
    its text; the keyboard goes last.

    Every message carries its own keyboard or none, because a message without one hides the
    keyboard on screen: the choices go with the last message, where the resident reads them.
    """
    parts: list[tuple[str | None, str] | ViberFile] = [
        (media_url(path), "") for path in reply.photos
    ]
    parts += files
    if reply.text:
        parts += [(None, part) for part in split_text(reply.text, TEXT_LIMIT)]
    keyboard = keyboard_of(reply)
    level = LOCATION_PICKER_LEVEL if keyboard and isinstance(reply.markup, AskLocation) else None
    if not parts:
        return [KeyboardMessage(keyboard=keyboard, min_api_version=level)] if keyboard else []
    messages = [_message(part) for part in parts[:-1]]
    return [*messages, _message(parts[-1], keyboard=keyboard, level=level)]


def _message(
    part: tuple[str | None, str] | ViberFile,
    keyboard: JSONDict | None = None,
    level: int | None = None,
) -> Any:
    if isinstance(part, ViberFile):
        return FileMessage(
            media=part.url, size=part.size, file_name=part.name, keyboard=keyboard,
            min_api_version=level,
        )  # fmt: skip
    media, text = part
    if media is not None:
        return PictureMessage(media=media, text=text, keyboard=keyboard, min_api_version=level)
    return TextMessage(text=text, keyboard=keyboard, min_api_version=level)


def _without_keyboard(message: Any) -> Any | None:
    """The same message for an old client, without the keyboard it cannot show."""
    if isinstance(message, PictureMessage):
        return PictureMessage(media=message.media, text=message.text)
    if isinstance(message, TextMessage):
        return TextMessage(text=message.text)
    if isinstance(message, FileMessage):
        return FileMessage(media=message.media, size=message.size, file_name=message.file_name)
    return None


class ViberChannel:
    """Sends replies with viberbot in threads under a timeout, mapping errors for the outbox.

    The outbox keeps the rates (``bot.outbox.SendLimits``), as for Telegram. A reply without
    markup of its own (a notice) goes with the buttons of the user's current state, from
    ``screens`` (set by the wiring): on Viber a message without a keyboard hides the one shown.
    """

    name = CHANNEL

    def __init__(
        self,
        account: ViberAccount,
        data_dir: Path,
        *,
        timeout: float = CALL_TIMEOUT_S,
        retry_wait_s: float = TOO_MANY_REQUESTS_WAIT_S,
        max_calls: int = 8,
    ) -> None:
        self.account = account
        self.api = make_api(account, timeout)
        self._data_dir = data_dir
        self._timeout = timeout
        self._retry_wait = retry_wait_s
        # Calls past the timeout keep their thread until requests gives up: cap them.
        self._calls = asyncio.Semaphore(max_calls)
        self._welcomes: dict[str, asyncio.Future[JSONDict]] = {}
        self.screens: Screens | None = None
        base = urlsplit(account.webhook_url)
        self._media_base = f"{base.scheme}://{base.netloc}{base.path.rstrip('/')}/media"

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a viberbot call in a thread under our timeout (viberbot blocks and has none)."""
        # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that lands as the
        # thread ends, and the outbox sender would go on after the bot stopped it.
        async with self._calls, asyncio.timeout(self._timeout):
            return await asyncio.to_thread(function, *args)

    async def send(self, chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        """Deliver one reply; return the token of its last message, or None for a welcome.

        Viber cannot edit a sent message, so a reply that should replace one (``edit``) is
        sent anew. Raises the outbox's delivery errors.
        """
        # Messages an earlier attempt delivered (photos, the first parts of a long text) are
        # not sent again; a failure says how many have gone out, for the outbox to keep.
        if reply.markup is None and self.screens is not None:
            reply = replace(reply, markup=await self.screens.markup(CHANNEL, chat_id))
        done = reply.done_parts
        messages = render(reply, self.media_url, await self._files(reply))[done:]
        welcome = self._welcomes.pop(chat_id, None)
        if welcome is not None and not welcome.done() and messages:
            welcome.set_result(self._welcome_body(messages.pop(0)))
            done += 1
        token = None
        for message in messages:
            try:
                token = await self._send_one(chat_id, message)
            except DeliveryError as e:
                e.done = done
                raise
            done += 1
        return token

    async def _files(self, reply: Reply) -> tuple[ViberFile, ...]:
        """The file messages of a reply: its voice note, and its document (a data export, which
        Viber fetches by its signed URL until the export expires)."""
        files = []
        if reply.voice:
            voice = self._data_dir / reply.voice
            if voice.is_file():
                files.append(
                    ViberFile(self.media_url(reply.voice), voice.name, voice.stat().st_size)
                )
            else:
                log.warning("a voice file is missing; the message is sent without it")
        if reply.document is not None:
            document = reply.document
            file = self._data_dir / document.path
            if exports.expired(document.path, datetime.now(UTC)) or not file.is_file():
                raise PermanentError("the file to send is gone (expired)")
            size = file.stat().st_size
            files.append(ViberFile(self.media_url(document.path), document.name, size))
        return tuple(files)

    async def _send_one(self, chat_id: str, message: Any) -> str:
        try:
            tokens = await self._post(chat_id, message)
        except Exception as e:
            raise delivery_error(e, self._retry_wait) from e
        return str(tokens[-1]) if tokens else ""

    async def _post(self, chat_id: str, message: Any) -> list[Any]:
        """send_message; a client too old for the keyboard gets the message without it."""
        try:
            return await self.call(self.api.send_messages, chat_id, [message])
        except Exception as e:
            plain = _without_keyboard(message) if message.min_api_version else None
            if viber_status(e) not in OLD_CLIENT_STATUSES or plain is None:
                raise
        log.info("client too old for the keyboard; the message goes without it")
        return await self.call(self.api.send_messages, chat_id, [plain])

    def _welcome_body(self, message: Any) -> JSONDict:
        """A message as the answer to ``conversation_started``: send_message's, but no receiver."""
        sender = {"name": self.account.name, "avatar": self.account.avatar}
        return {**message.to_dict(), "sender": {k: v for k, v in sender.items() if v is not None}}

    def hold_welcome(self, chat_id: str) -> asyncio.Future[JSONDict]:
        """Keep the next message to ``chat_id`` for the answer to ``conversation_started``."""
        slot: asyncio.Future[JSONDict] = asyncio.get_running_loop().create_future()
        self._welcomes[chat_id] = slot
        return slot

    def drop_welcome(self, chat_id: str, slot: asyncio.Future[JSONDict]) -> None:
        """Stop keeping a message for ``slot`` (nothing was committed to fill it)."""
        if self._welcomes.get(chat_id) is slot:
            del self._welcomes[chat_id]

    async def take_welcome(self, chat_id: str, slot: asyncio.Future[JSONDict]) -> JSONDict | None:
        """The held message once the outbox has it; None if it does not come in time."""
        try:
            async with asyncio.timeout(WELCOME_WAIT_S):  # not wait_for: see ``call``
                return await slot
        except TimeoutError:
            # A duplicate callback dispatches nothing; a late reply goes out by send_message.
            return None
        finally:
            if self._welcomes.get(chat_id) is slot:
                del self._welcomes[chat_id]

    async def check_account(self) -> None:
        """Check the token with get_account_info (which answers errors instead of raising)."""
        info = await self.call(self.api.get_account_info)
        if not isinstance(info, dict) or info.get("status") != 0:
            status = info.get("status") if isinstance(info, dict) else None
            raise ViberSetupError(f"Viber refused the token (status {status})")
        log.info("Viber account %r (uri %s)", info.get("name"), info.get("uri"))

    async def set_webhook(self) -> None:
        """Register the webhook; the server must listen already, as Viber calls it back at once."""
        try:
            await self.call(self.api.set_webhook, self.account.webhook_url, EVENT_TYPES)
        except Exception as e:
            found = _STATUS.search(str(e))
            reason = f"status {found.group(1)} {found.group(2)}" if found else type(e).__name__
            raise ViberSetupError(f"Viber refused the webhook: {reason}") from None
        log.info("Viber webhook set")

    def signature_ok(self, body: bytes, signature: str) -> bool:
        """Whether ``signature`` is the HMAC-SHA256 of ``body`` keyed by the token."""
        expected = hmac.new(self.account.token.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.strip().encode())

    def media_url(self, path: str) -> str:
        """The public URL of a stored file, signed so that only files we send can be fetched."""
        return f"{self._media_base}/{self._media_signature(path)}/{path}"

    def media_file(self, signature: str, path: str) -> Path | None:
        """The stored photo, voice note or (unexpired) export a media URL names, or None for a
        wrong signature or path."""
        expected = self._media_signature(path)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return None
        file = (self._data_dir / path).resolve()
        folder = next(
            (f for f in SERVED_FOLDERS if file.is_relative_to((self._data_dir / f).resolve())), None
        )
        if folder == exports.FOLDER and exports.expired(path, datetime.now(UTC)):
            return None
        return file if folder is not None and file.is_file() else None

    def _media_signature(self, path: str) -> str:
        key = self.account.token.encode()
        return hmac.new(key, b"media\0" + path.encode(), hashlib.sha256).hexdigest()[:32]


class ViberUpdates:
    """Turns Viber's signed callbacks into events and hands them to the dispatcher."""

    def __init__(
        self,
        channel: ViberChannel,
        dispatch: Dispatch,
        *,
        download_timeout: float = DOWNLOAD_TIMEOUT_S,
    ) -> None:
        self._channel = channel
        self._dispatch = dispatch
        self._download_timeout = download_timeout
        self._http: aiohttp.ClientSession | None = None

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Add the webhook and the media URLs of sent photos, under the webhook's path."""
        path = urlsplit(self._channel.account.webhook_url).path or "/"
        router.add_post(path, self.receive)
        router.add_get(path.rstrip("/") + "/media/{signature}/{path:.+}", self._serve_media)

    async def receive(self, request: web.Request) -> web.StreamResponse:
        """The webhook: checks the signature of the raw body before anything is parsed."""
        body = await request.read()
        if not self._channel.signature_ok(body, request.headers.get(SIGNATURE_HEADER, "")):
            log.warning("Viber callback with a missing or wrong signature refused")
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(body)
        except ValueError:
            return web.Response(status=400, text="bad request")
        if not isinstance(data, dict):
            return web.Response(status=400, text="bad request")
        try:
            welcome = await self.handle(data)
        except NotCommittedError:
            # The database is busy: Viber sends a callback again when it is not answered 200.
            return web.Response(status=503, text="busy, try again")
        if welcome is None:
            return web.Response()
        return web.json_response(welcome, dumps=lambda d: json.dumps(d, ensure_ascii=False))

    async def handle(self, data: JSONDict) -> JSONDict | None:
        """Handle one callback; return the welcome message to answer with, if there is one."""
        kind = data.get("event")
        if kind in RECEIPTS:
            _record_receipt(data)
            return None
        event = await self.to_event(data)
        if event is None:
            return None
        chat_id = event.sender.chat_id
        wants_welcome = kind == "conversation_started" and data.get("subscribed") is not True
        slot = self._channel.hold_welcome(chat_id) if wants_welcome else None
        outcome = await self._dispatch(event)
        if not outcome.committed:
            if slot is not None:
                self._channel.drop_welcome(chat_id, slot)
            raise NotCommittedError
        return await self._channel.take_welcome(chat_id, slot) if slot is not None else None

    async def to_event(self, data: JSONDict) -> Inbound | None:
        """The event of a callback, or None for one that is skipped on purpose."""
        uid = _message_token(data)
        unknown = _unknown_message(data, uid)
        if unknown is not None:
            return unknown
        try:
            request = create_request(data)
        except Exception:
            log.warning("malformed Viber callback %r skipped", str(data.get("event"))[:40])
            return None
        match request.event_type:
            case "conversation_started" | "subscribed":
                sender = _sender(request.user)
                context = getattr(request, "context", None)
                args = context if isinstance(context, str) else ""
                return Command(sender, "start", args, uid) if sender else None
            case "unsubscribed":
                user_id = request.user_id
                if not isinstance(user_id, str) or not user_id:
                    return None
                return Blocked(Sender(CHANNEL, user_id, user_id), uid)
            case "message":
                sender = _sender(request.sender)
                return await self._message_event(sender, request.message, data, uid)
        log.debug("Viber callback %r needs no answer", request.event_type)
        return None

    async def _message_event(
        self, sender: Sender | None, message: Any, data: JSONDict, uid: str | None
    ) -> Inbound | None:
        if sender is None:
            return None
        raw: JSONDict = data["message"]
        match message:
            case TextMessage():
                return text_event(sender, message.text or "", uid)
            case PictureMessage():
                photo = await self._photo(sender, message.media, raw.get("size"), uid)
                return replace(photo, caption=str(message.text or ""))
            case FileMessage() if str(message.file_name or "").lower().endswith(IMAGE_SUFFIXES):
                return await self._photo(sender, message.media, message.size, uid)
            case FileMessage() if str(message.file_name or "").lower().endswith(AUDIO_SUFFIXES):
                return await self._voice(sender, message.media, message.size, uid)
            case FileMessage():
                return await self._document(
                    sender, message.media, message.file_name, message.size, uid
                )
            case LocationMessage():
                return _location_event(sender, raw.get("location"), uid)
            case ContactMessage() if message.contact is not None:
                return Contact(sender, str(message.contact.phone_number or ""), uid)
            case URLMessage():
                return Text(sender, str(message.media or ""), uid)
        return Unsupported(sender, str(raw.get("type", "other"))[:32], uid)

    async def _photo(self, sender: Sender, url: object, declared: object, uid: str | None) -> Photo:
        """Download a picture at once: Viber's media links expire."""
        file_id = uid or ""
        if isinstance(declared, int) and declared > MAX_PHOTO_BYTES:
            return Photo(sender, file_id, None, declared, uid)
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            return Photo(sender, file_id, None, 0, uid)
        content, size = await self._download(url, MAX_PHOTO_BYTES)
        return Photo(sender, file_id, content, size, uid)

    async def _voice(self, sender: Sender, url: object, declared: object, uid: str | None) -> Voice:
        """Download a recording sent as a file at once (Viber says nothing of its length)."""
        file_id = uid or ""
        if isinstance(declared, int) and declared > voices.MAX_VOICE_BYTES:
            return Voice(sender, file_id, None, declared, update_id=uid)
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            return Voice(sender, file_id, None, 0, update_id=uid)
        content, size = await self._download(url, voices.MAX_VOICE_BYTES)
        return Voice(sender, file_id, content, size, update_id=uid)

    async def _document(
        self, sender: Sender, url: object, name: object, declared: object, uid: str | None
    ) -> File:
        """Download a document at once (a staff import), as Viber's media links expire.

        Too large: no content and its size over MAX_FILE_BYTES; not downloaded: no content.
        """
        file_name = name if isinstance(name, str) else ""
        if isinstance(declared, int) and declared > MAX_FILE_BYTES:
            return File(sender, "document", uid, name=file_name, size=declared)
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            return File(sender, "document", uid, name=file_name)
        content, size = await self._download(url, MAX_FILE_BYTES)
        return File(sender, "document", uid, name=file_name, content=content, size=size)

    async def _download(self, url: str, limit: int) -> tuple[bytes | None, int]:
        """The content of a URL and its size; None when it failed or is over ``limit`` bytes."""
        try:
            async with self._session().get(url) as response:
                if response.status != 200:
                    log.warning("media download failed: HTTP %s", response.status)
                    return None, 0
                if (response.content_length or 0) > limit:
                    return None, response.content_length or 0
                content = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    content += chunk
                    if len(content) > limit:
                        return None, len(content)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            log.warning("media download failed: %s", type(e).__name__)
            return None, 0
        return bytes(content), len(content)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            timeout = aiohttp.ClientTimeout(total=self._download_timeout)
            self._http = aiohttp.ClientSession(timeout=timeout)
        return self._http

    async def close(self) -> None:
        """Close the client that downloads pictures."""
        if self._http is not None:
            http, self._http = self._http, None
            await http.close()

    async def _serve_media(self, request: web.Request) -> web.StreamResponse:
        """Serve a file we send: Viber fetches a picture or file message's media from its URL."""
        file = self._channel.media_file(request.match_info["signature"], request.match_info["path"])
        if file is None:
            raise web.HTTPNotFound
        return web.FileResponse(file)


def text_event(sender: Sender, text: str, uid: str | None) -> Inbound:
    """A text: a button press (our prefix), a command (``/name args``) or typed text."""
    if text.startswith(BUTTON_PREFIX):
        return ButtonChoice(sender, text.removeprefix(BUTTON_PREFIX), uid)
    command = _COMMAND.fullmatch(text.strip())
    if command is not None:
        return Command(sender, command.group(1).lower(), (command.group(2) or "").strip(), uid)
    return Text(sender, text, uid)


def _location_event(sender: Sender, location: object, uid: str | None) -> Inbound:
    if not isinstance(location, dict):
        return Unsupported(sender, "location", uid)
    lat, lon, address = location.get("lat"), location.get("lon"), location.get("address")
    if not (_is_number(lat) and _is_number(lon)):
        return Unsupported(sender, "location", uid)
    title = address if isinstance(address, str) else ""
    return Location(sender, float(lat), float(lon), title, uid)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sender(profile: Any) -> Sender | None:
    user_id = getattr(profile, "id", None)
    if not isinstance(user_id, str) or not user_id:
        return None
    name = profile.name if isinstance(profile.name, str) else ""
    return Sender(CHANNEL, user_id, user_id, name)


def _message_token(data: JSONDict) -> str | None:
    token = data.get("message_token")
    return str(token) if isinstance(token, int | str) and not isinstance(token, bool) else None


def _unknown_message(data: JSONDict, uid: str | None) -> Unsupported | None:
    """A message of a type viberbot cannot parse (a newer one) is still answered."""
    message, profile = data.get("message"), data.get("sender")
    if data.get("event") != "message" or not isinstance(message, dict):
        return None
    if message.get("type") in MESSAGE_TYPE_TO_CLASS or not isinstance(profile, dict):
        return None
    sender = _sender(UserProfile().from_dict(profile))
    return Unsupported(sender, str(message.get("type"))[:32], uid) if sender else None


def _record_receipt(data: JSONDict) -> None:
    """Delivery receipts are recorded in the log and never answered."""
    token, kind = _message_token(data), data.get("event")
    if kind == "failed":
        log.warning("Viber could not deliver message %s: %s", token, str(data.get("desc"))[:200])
    else:
        log.debug("Viber message %s %s", token, kind)
