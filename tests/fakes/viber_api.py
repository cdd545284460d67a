"""A fake Viber REST bot API for tests, spoken to by the real viberbot SDK.

The fake serves ``/pa/<endpoint>`` on 127.0.0.1 the way ``https://chatapi.viber.com/pa``
does: HTTP 200 with a JSON body whose ``status`` is 0 on success or one of Viber's
error codes (see ``ViberStatus``) with a ``status_message``. It checks the auth token
and the fields that Viber requires, records every call, calls the webhook back with a
signed ``webhook`` event on ``set_webhook`` (so ``set_webhook`` fails while the bot's
server is not listening yet, as with the real Viber), serves media for incoming
picture messages, and posts signed events to a bot's webhook as Viber does.

Pointing viberbot at the fake
-----------------------------
viberbot 1.0.12 has no option for the API address: ``Api.__init__`` builds its
``ApiRequestSender`` with the module constant ``VIBER_BOT_API_URL``
(``"https://chatapi.viber.com/pa"``) and shares that sender with its
``MessageSender``. ``ApiRequestSender(logger, viber_bot_api_url, bot_configuration,
user_agent)`` does take the URL, and posts to ``viber_bot_api_url + "/" + endpoint``,
so the base URL has no trailing slash. The cleanest way is to replace both senders
right after building the ``Api`` (``point_viberbot_at`` below does exactly this)::

    api = Api(BotConfiguration(auth_token=fake.token, name="Moja opština", avatar=None))
    point_viberbot_at(api, fake.base_url)   # fake.base_url == "http://127.0.0.1:PORT/pa"

Patching ``viberbot.api.api.VIBER_BOT_API_URL`` also works but changes every
``Api`` built afterwards in the process. viberbot is synchronous (``requests``) and
the fake runs on the test's event loop, so call it through ``asyncio.to_thread``;
a direct call from the loop would block the fake and hang (requests has no timeout).

What viberbot sends and raises
------------------------------
viberbot sends the token as ``auth_token`` in the JSON body, not in the
``X-Viber-Auth-Token`` header that Viber documents today; the fake accepts either
(the header wins when both are there). Its only header is
``User-Agent: ViberBot-Python/1.0.12``.

* A non-zero ``status`` from ``send_messages``, ``set_webhook``/``unset_webhook``,
  ``get_user_details`` and ``get_online`` raises a plain ``Exception`` whose message
  is ``"failed with status: {status}, message: {status_message}"``; the status is
  only in that text (parse it with ``r"failed with status: (\\d+)"``).
* ``get_account_info`` does not check ``status``: it returns the error body
  (``{"status": 2, "status_message": "invalidAuthToken"}``) without raising.
* An HTTP error (e.g. 500) raises ``requests.exceptions.HTTPError``; a refused
  connection ``requests.exceptions.ConnectionError`` (both ``RequestException``).
  viberbot logs these at ERROR on the ``viber.bot.api`` logger together with the
  payload, which contains the auth token.
* A message that fails viberbot's own ``validate()`` raises
  ``Exception("failed validating message: ...")`` before anything is sent.
* ``Api.verify_signature(body, signature)`` compares the hex HMAC-SHA256 of the raw
  body, keyed with the auth token, to the ``X-Viber-Content-Signature`` header.

Statuses the fake answers on its own: 2 for a wrong or missing token; 4
``missingData`` for a missing required field; 3 ``badData`` for a wrong value
(bad JSON, text over 7000 characters, sender name over 28, a bad keyboard...);
1 ``invalidUrl`` when ``set_webhook``'s callback cannot be delivered; 6
``receiverNotSubscribed`` to a user who unsubscribed (or, with
``strict_subscribers``, who never subscribed); 14 ``incompatibleWithVersion`` when a
keyboard uses ``location-picker``/``share-phone`` (API level 3) without
``min_api_version`` >= 3; 13 ``apiVersionNotSupported`` when ``min_api_version`` is
above the known user's ``api_version``; 12 ``tooManyRequests`` after two
``get_user_details`` for one user (Viber allows two per user per 12 hours). Anything
else comes from ``fail_next``. For 1, 3 and 4 the ``status_message`` has a detail
after the name (``badData: text is longer than 7000 characters (7001)``), as Viber's
own texts for these vary: map errors on the number. The keyboard limit of 24
buttons is a conservative one; limits Viber does not state clearly are not checked.

In a test (same event loop)::

    async with FakeViberApi() as fake:
        api = fake.viberbot_api()
        await asyncio.to_thread(api.send_messages, USER, [TextMessage(text="Zdravo")])
        assert fake.texts_to(USER) == ["Zdravo"]
        status, body = await fake.post_event(bot_url, message_text(USER, "Ćao"))
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import hashlib
import hmac
import ipaddress
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from viberbot import Api
from viberbot.api.api_request_sender import ApiRequestSender
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.consts import VIBER_BOT_USER_AGENT
from viberbot.api.message_sender import MessageSender

JSONDict = dict[str, Any]
T = TypeVar("T")

# Viber tokens are three groups of 16 hex digits.
DEFAULT_TOKEN = "4a1b2c3d4e5f6a7b-8c9d0e1f2a3b4c5d-6e7f8a9b0c1d2e3f"  # noqa: S105 - a fake
SIGNATURE_HEADER = "X-Viber-Content-Signature"
AUTH_HEADER = "X-Viber-Auth-Token"
CHAT_HOSTNAME = "SN-CHAT-05_"

MAX_SENDER_NAME = 28
MAX_TEXT = 7000
MAX_PICTURE_TEXT = 768
MAX_TRACKING_DATA = 4096
MAX_URL = 2000
MAX_FILE_NAME = 256
MAX_CONTACT_NAME = 28
MAX_CONTACT_PHONE = 18
MAX_KEYBOARD_BUTTONS = 24
MAX_BUTTON_TEXT = 250
MAX_BROADCAST_RECEIVERS = 300
MAX_ONLINE_IDS = 100
USER_DETAILS_PER_USER = 2

ENDPOINTS = (
    "set_webhook",
    "send_message",
    "broadcast_message",
    "get_account_info",
    "get_user_details",
    "get_online",
)
# The events a webhook can ask for; ``message``, ``subscribed`` and ``unsubscribed``
# always come (set_webhook's ``event_types`` cannot filter them out).
EVENT_TYPES = ("delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started")
ALWAYS_SENT_EVENTS = frozenset({"webhook", "message", "subscribed", "unsubscribed"})
MESSAGE_TYPES = frozenset(
    {"text", "picture", "video", "file", "location", "contact", "sticker", "url", "rich_media"}
)
ACTION_TYPES = frozenset({"reply", "open-url", "location-picker", "share-phone", "none"})
# Action types that need clients of API level 3 (Viber 7.6+).
LEVEL_3_ACTIONS = frozenset({"location-picker", "share-phone"})
# Each button must show something: at least one of these.
BUTTON_FACE = ("Text", "BgMedia", "Image", "BgColor")


class ViberStatus(enum.IntEnum):
    """Viber's ``status`` codes (``status_message`` is the camel-case name)."""

    OK = 0
    INVALID_URL = 1
    INVALID_AUTH_TOKEN = 2
    BAD_DATA = 3
    MISSING_DATA = 4
    RECEIVER_NOT_REGISTERED = 5
    RECEIVER_NOT_SUBSCRIBED = 6
    PUBLIC_ACCOUNT_BLOCKED = 7
    PUBLIC_ACCOUNT_NOT_FOUND = 8
    PUBLIC_ACCOUNT_SUSPENDED = 9
    WEBHOOK_NOT_SET = 10
    RECEIVER_NO_SUITABLE_DEVICE = 11
    TOO_MANY_REQUESTS = 12
    API_VERSION_NOT_SUPPORTED = 13
    INCOMPATIBLE_WITH_VERSION = 14
    PUBLIC_ACCOUNT_NOT_AUTHORIZED = 15
    INCHAT_REPLY_MESSAGE_NOT_ALLOWED = 16
    PUBLIC_ACCOUNT_IS_NOT_INLINE = 17
    NO_PUBLIC_CHAT = 18
    CANNOT_SEND_BROADCAST = 19
    BROADCAST_NOT_ALLOWED = 20
    UNSUPPORTED_COUNTRY = 21
    PAYMENT_UNSUPPORTED = 22
    FREE_MESSAGES_EXCEEDED = 23
    NO_BALANCE = 24

    @property
    def message(self) -> str:
        """The ``status_message`` Viber sends with this code, e.g. ``receiverNotSubscribed``."""
        first, *rest = self.name.lower().split("_")
        return first + "".join(word.capitalize() for word in rest)


def status_name(status: int) -> str:
    """Return Viber's ``status_message`` for a code (``generalError`` for unknown ones)."""
    try:
        return ViberStatus(status).message
    except ValueError:
        return "generalError"


class ViberError(Exception):
    """An error answer: HTTP 200 with a non-zero ``status``."""

    def __init__(self, status: int, detail: str | None = None) -> None:
        """Make an error; ``detail`` is appended to the status message for the test's reader."""
        name = status_name(status)
        super().__init__(f"{name}: {detail}" if detail else name)
        self.status = status
        self.status_message = str(self)

    def to_json(self) -> JSONDict:
        """Return the body that Viber sends with this error."""
        return {"status": self.status, "status_message": self.status_message}


def _missing(path: str) -> ViberError:
    return ViberError(ViberStatus.MISSING_DATA, f"{path} is required")


def _bad(path: str, problem: str) -> ViberError:
    return ViberError(ViberStatus.BAD_DATA, f"{path} {problem}")


# ------------------------------------------------------------------ signing and events


def sign(body: bytes, token: str) -> str:
    """Return the ``X-Viber-Content-Signature`` of ``body``: hex HMAC-SHA256 keyed by ``token``."""
    return hmac.new(token.encode("ascii"), body, hashlib.sha256).hexdigest()


def encode_event(event: Mapping[str, Any]) -> bytes:
    """Serialize a callback as Viber does: compact UTF-8 JSON (Cyrillic stays unescaped)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_tokens = itertools.count(5_741_311_803_571_721_087 + secrets.randbelow(10**12))


def new_message_token() -> int:
    """Return a fresh 64-bit message token, as Viber gives each message and event."""
    return next(_tokens)


def now_ms() -> int:
    """Return the current time in epoch milliseconds, as in Viber's ``timestamp``."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class ViberUser:
    """A Viber user as the callbacks describe them (``user``/``sender``)."""

    id: str
    name: str = "Petar Petrović"
    avatar: str | None = None
    language: str = "sr"
    country: str = "RS"
    api_version: int = 10

    def to_json(self) -> JSONDict:
        """Return the ``user`` object of a callback (no ``avatar`` when there is none)."""
        data: JSONDict = {"id": self.id, "name": self.name}
        if self.avatar is not None:
            data["avatar"] = self.avatar
        data.update(language=self.language, country=self.country, api_version=self.api_version)
        return data


def _user(user: str | ViberUser, name: str | None = None) -> ViberUser:
    found = user if isinstance(user, ViberUser) else ViberUser(user)
    return found if name is None else dataclasses.replace(found, name=name)


def _event(kind: str, **fields: Any) -> JSONDict:
    return {
        "event": kind,
        "timestamp": now_ms(),
        "chat_hostname": CHAT_HOSTNAME,
        "message_token": new_message_token(),
        **fields,
    }


def conversation_started(
    user: str | ViberUser,
    name: str | None = None,
    *,
    subscribed: bool = False,
    context: str | None = None,
    kind: str = "open",
) -> JSONDict:
    """A user opened the chat (``kind`` is Viber's ``type``: ``open``)."""
    extra: JSONDict = {"context": context} if context is not None else {}
    return _event(
        "conversation_started",
        type=kind,
        **extra,
        user=_user(user, name).to_json(),
        subscribed=subscribed,
    )


def subscribed(user: str | ViberUser, name: str | None = None) -> JSONDict:
    """A user subscribed to the bot."""
    return _event("subscribed", user=_user(user, name).to_json())


def unsubscribed(user_id: str) -> JSONDict:
    """A user unsubscribed (or blocked the bot)."""
    return _event("unsubscribed", user_id=user_id)


def message(
    user: str | ViberUser,
    content: Mapping[str, Any],
    *,
    name: str | None = None,
    tracking_data: str | None = None,
) -> JSONDict:
    """A ``message`` event with any ``message`` object (``content`` has its ``type``)."""
    body = dict(content)
    if tracking_data is not None:
        body["tracking_data"] = tracking_data
    return _event("message", sender=_user(user, name).to_json(), message=body, silent=False)


def message_text(
    user: str | ViberUser,
    text: str,
    tracking_data: str | None = None,
    *,
    name: str | None = None,
) -> JSONDict:
    """A text message; a pressed ``reply`` button arrives like this with its ActionBody."""
    return message(user, {"type": "text", "text": text}, name=name, tracking_data=tracking_data)


def message_picture(
    user: str | ViberUser,
    media_url: str,
    *,
    text: str | None = None,
    thumbnail: str | None = None,
    file_name: str | None = None,
    size: int | None = None,
    tracking_data: str | None = None,
    name: str | None = None,
) -> JSONDict:
    """A photo; ``media_url`` is where the bot downloads it (see ``FakeViberApi.add_media``)."""
    content: JSONDict = {"type": "picture", "media": media_url}
    optional = {"text": text, "thumbnail": thumbnail, "file_name": file_name, "size": size}
    content.update({k: v for k, v in optional.items() if v is not None})
    return message(user, content, name=name, tracking_data=tracking_data)


def message_file(
    user: str | ViberUser,
    media_url: str,
    file_name: str,
    *,
    size: int | None = None,
    tracking_data: str | None = None,
    name: str | None = None,
) -> JSONDict:
    """A document (a spreadsheet, a PDF); Viber always names the file and says its size."""
    content: JSONDict = {"type": "file", "media": media_url, "file_name": file_name}
    if size is not None:
        content["size"] = size
    return message(user, content, name=name, tracking_data=tracking_data)


def message_location(
    user: str | ViberUser,
    lat: float,
    lon: float,
    *,
    address: str | None = None,
    tracking_data: str | None = None,
    name: str | None = None,
) -> JSONDict:
    """A shared location, e.g. from a ``location-picker`` button."""
    location: JSONDict = {"lat": lat, "lon": lon}
    if address is not None:
        location["address"] = address
    content = {"type": "location", "location": location}
    return message(user, content, name=name, tracking_data=tracking_data)


def message_contact(
    user: str | ViberUser,
    phone: str,
    *,
    contact_name: str | None = None,
    tracking_data: str | None = None,
    name: str | None = None,
) -> JSONDict:
    """A contact, e.g. the user's own number from a ``share-phone`` button."""
    who = _user(user, name)
    contact = {"name": contact_name or who.name, "phone_number": phone}
    return message(who, {"type": "contact", "contact": contact}, tracking_data=tracking_data)


def message_sticker(
    user: str | ViberUser,
    sticker_id: int = 40133,
    *,
    tracking_data: str | None = None,
    name: str | None = None,
) -> JSONDict:
    """A sticker."""
    content = {"type": "sticker", "sticker_id": sticker_id}
    return message(user, content, name=name, tracking_data=tracking_data)


def delivered(user_id: str, token: int) -> JSONDict:
    """The message ``token`` reached the user's device."""
    return {**_event("delivered", user_id=user_id), "message_token": token}


def seen(user_id: str, token: int) -> JSONDict:
    """The user saw the message ``token``."""
    return {**_event("seen", user_id=user_id), "message_token": token}


def failed(user_id: str, token: int, desc: str = "failure description") -> JSONDict:
    """The message ``token`` could not be delivered."""
    return {**_event("failed", user_id=user_id, desc=desc), "message_token": token}


# ----------------------------------------------------------------------------- records


@dataclass
class Call:
    """One request that the fake received."""

    index: int
    endpoint: str
    params: JSONDict
    time: float
    token: str | None = None
    http_status: int = 200
    response: JSONDict = field(default_factory=dict)

    @property
    def status(self) -> int | None:
        """Viber's ``status`` in the answer (None for an HTTP error)."""
        value = self.response.get("status")
        return value if isinstance(value, int) else None

    @property
    def ok(self) -> bool:
        """Whether the fake answered HTTP 200 with status 0."""
        return self.http_status == 200 and self.status == 0


@dataclass
class Delivery:
    """One callback the fake posted to a webhook (``set_webhook``'s or ``post_event``'s)."""

    url: str
    event: JSONDict
    body: bytes
    signature: str
    status: int | None = None
    response: str = ""
    error: str | None = None


@dataclass
class Failure:
    """A status to answer instead of serving the next matching calls."""

    endpoint: str
    status: int
    status_message: str
    count: int
    user_id: str | None = None

    def matches(self, endpoint: str, params: Mapping[str, Any]) -> bool:
        """Whether a call of ``endpoint`` with ``params`` should get this status."""
        if self.endpoint not in ("*", endpoint):
            return False
        return self.user_id is None or self.user_id in (params.get("receiver"), params.get("id"))


@dataclass
class HttpFailure:
    """An HTTP error to answer instead of serving the next matching calls."""

    endpoint: str
    http_status: int
    count: int
    body: str


@dataclass
class _Media:
    content: bytes
    content_type: str
    expires_at: float | None
    downloads: int = 0


# -------------------------------------------------------------------------------- fake

Handler = Callable[[JSONDict], Awaitable[JSONDict]]


class FakeViberApi:
    """The Viber REST bot API on 127.0.0.1, checking requests like Viber does.

    Tests see what the bot did through ``calls``, ``sent_to`` and ``texts_to``,
    inject errors with ``fail_next`` and ``http_error_next``, drive the bot's webhook
    with ``post_event``/``deliver`` and the event builders of this module, and serve
    downloadable media with ``add_media``.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        allow_http: bool = True,
        strict_subscribers: bool = False,
        check_api_levels: bool = True,
        user_details_limit: int | None = USER_DETAILS_PER_USER,
        webhook_timeout: float = 10.0,
        account_name: str = "Moja opština",
    ) -> None:
        """Configure the fake; nothing listens until ``start()``.

        Args:
            token: the auth token that requests must carry.
            host: the address to listen on.
            port: the port to listen on; 0 picks a free one.
            latency: seconds to wait before answering each API request.
            allow_http: accept ``http://`` webhooks (Viber takes only https).
            strict_subscribers: refuse sending to users who never subscribed
                (status 6), as Viber does; users subscribe through the events
                posted with ``post_event`` or ``subscribe()``.
            check_api_levels: refuse API-level-3 keyboard actions without
                ``min_api_version`` >= 3 (status 14).
            user_details_limit: ``get_user_details`` calls allowed per user before
                status 12 (Viber: 2 per 12 hours); None for no limit.
            webhook_timeout: seconds to wait for a webhook to answer a callback.
            account_name: the bot's name in ``get_account_info``.
        """
        self.token = token
        self.host = host
        self.port = port
        self.latency = latency
        self.allow_http = allow_http
        self.strict_subscribers = strict_subscribers
        self.check_api_levels = check_api_levels
        self.user_details_limit = user_details_limit
        self.webhook_timeout = webhook_timeout
        self.account_name = account_name
        self.account_id = "pa:5326457287542487245"
        self.webhook: str | None = None
        self.event_types: list[str] = []
        self.deliveries: list[Delivery] = []
        self._calls: list[Call] = []
        self._sent: list[JSONDict] = []
        self._failures: list[Failure] = []
        self._http_failures: list[HttpFailure] = []
        self._users: dict[str, ViberUser] = {}
        self._subscribed: set[str] = set()
        self._unsubscribed: set[str] = set()
        self._online: dict[str, tuple[int, int | None]] = {}
        self._details_asked: dict[str, int] = {}
        self._media: dict[str, _Media] = {}
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._handlers: dict[str, Handler] = {
            "set_webhook": self._set_webhook,
            "send_message": self._send_message,
            "broadcast_message": self._broadcast_message,
            "get_account_info": self._get_account_info,
            "get_user_details": self._get_user_details,
            "get_online": self._get_online,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """The root URL of the server, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The Viber API base for viberbot, ``http://127.0.0.1:PORT/pa`` (no trailing slash)."""
        return f"{self.url}/pa"

    def make_app(self) -> web.Application:
        """Return the aiohttp application (the API and media downloads)."""
        app = web.Application()
        app.router.add_post("/pa/{endpoint}", self._handle_api)
        app.router.add_get("/media/{key}/{name}", self._handle_media)
        return app

    async def start(self) -> None:
        """Start listening; ``port`` 0 becomes the free port that was picked."""
        if self._runner is not None:
            raise RuntimeError("the fake Viber API is already running")
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.webhook_timeout)
        )

    async def stop(self) -> None:
        """Stop listening and close the client that posts callbacks."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeViberApi:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()

    def viberbot_api(self, name: str = "Moja opština", avatar: str | None = None) -> Any:
        """Return a real ``viberbot.Api`` with this fake's token, pointed at this fake."""
        api = Api(BotConfiguration(auth_token=self.token, name=name, avatar=avatar))
        point_viberbot_at(api, self.base_url)
        return api

    # ------------------------------------------------------------- test control

    @property
    def calls(self) -> list[Call]:
        """All API requests received so far, oldest first (a copy)."""
        return list(self._calls)

    def calls_of(self, endpoint: str) -> list[Call]:
        """The requests to one endpoint, e.g. ``send_message``."""
        return [c for c in self._calls if c.endpoint == endpoint]

    def clear_calls(self) -> None:
        """Forget the calls and sent messages so far."""
        self._calls.clear()
        self._sent.clear()

    def sent_to(self, user_id: str) -> list[JSONDict]:
        """Messages accepted for ``user_id``, as sent (no ``auth_token``) plus ``message_token``."""
        return [m for m in self._sent if m.get("receiver") == user_id]

    def texts_to(self, user_id: str) -> list[str]:
        """The texts of the text messages accepted for ``user_id``."""
        return [m["text"] for m in self.sent_to(user_id) if m.get("type") == "text"]

    def keyboard_of(self, user_id: str) -> JSONDict | None:
        """The keyboard the user sees: the last message's (one without a keyboard hides it)."""
        sent = self.sent_to(user_id)
        keyboard: JSONDict | None = sent[-1].get("keyboard") if sent else None
        return keyboard

    def fail_next(
        self,
        endpoint: str,
        status: int,
        status_message: str | None = None,
        count: int = 1,
        *,
        user_id: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``endpoint`` (``*`` for any) with ``status``.

        Args:
            endpoint: e.g. ``send_message``; ``*`` matches every endpoint.
            status: a Viber status, e.g. ``ViberStatus.RECEIVER_NOT_SUBSCRIBED``.
            status_message: the message; Viber's name for ``status`` by default.
            count: how many calls fail.
            user_id: fail only calls for this receiver (or user ``id``).
        """
        text = status_message if status_message is not None else status_name(status)
        self._failures.append(Failure(endpoint, status, text, count, user_id))

    def http_error_next(
        self, endpoint: str, http_status: int = 500, count: int = 1, *, body: str = ""
    ) -> None:
        """Answer the next ``count`` calls of ``endpoint`` (``*`` for any) with an HTTP error."""
        self._http_failures.append(HttpFailure(endpoint, http_status, count, body))

    def add_user(self, user: ViberUser) -> None:
        """Make a user known (for ``get_user_details`` and API-level checks)."""
        self._users[user.id] = user

    def user(self, user_id: str) -> ViberUser:
        """The profile known for ``user_id``, or a default one."""
        return self._users.get(user_id) or ViberUser(user_id)

    def subscribe(self, user: str | ViberUser) -> None:
        """Mark a user as subscribed, as a ``subscribed`` event or their first message does."""
        found = _user(user)
        if isinstance(user, ViberUser):
            self.add_user(found)
        self._subscribed.add(found.id)
        self._unsubscribed.discard(found.id)

    def unsubscribe(self, user_id: str) -> None:
        """Mark a user as unsubscribed: sending to them fails with status 6 from now on."""
        self._subscribed.discard(user_id)
        self._unsubscribed.add(user_id)

    def is_subscribed(self, user_id: str) -> bool:
        """Whether the fake would deliver to ``user_id``."""
        if user_id in self._unsubscribed:
            return False
        return user_id in self._subscribed or not self.strict_subscribers

    def set_online(self, user_id: str, online_status: int, last_online: int | None = None) -> None:
        """Set what ``get_online`` says (0 online, 1 offline, 2 undisclosed, 3 tryLater)."""
        self._online[user_id] = (online_status, last_online)

    def add_media(
        self,
        content: bytes,
        *,
        content_type: str = "image/jpeg",
        file_name: str = "image.jpg",
        ttl: float | None = None,
    ) -> str:
        """Serve ``content`` for download; return its URL (404 after ``ttl`` seconds)."""
        key = secrets.token_hex(12)
        expires_at = time.monotonic() + ttl if ttl is not None else None
        self._media[key] = _Media(content, content_type, expires_at)
        return f"{self.url}/media/{key}/{file_name}"

    def expire_media(self, url: str) -> None:
        """Make a media URL answer 404 from now on, as Viber's media links do after a while."""
        self._media_at(url).expires_at = 0.0

    def media_downloads(self, url: str) -> int:
        """How many times a media URL was downloaded successfully."""
        return self._media_at(url).downloads

    def sign(self, body: bytes) -> str:
        """Return the ``X-Viber-Content-Signature`` of ``body`` for this fake's token."""
        return sign(body, self.token)

    async def post_event(
        self, webhook_url: str, event: Mapping[str, Any], *, signature: str | None = None
    ) -> tuple[int, str]:
        """Post a signed callback to a bot's webhook as Viber does; return (HTTP status, body).

        The fake also learns from the event: a ``message`` or ``subscribed`` event
        subscribes its user, ``unsubscribed`` unsubscribes them.

        Args:
            webhook_url: the bot's webhook; only loopback addresses are allowed.
            event: a callback, e.g. from ``message_text``.
            signature: send this signature instead of the right one.

        Raises:
            ValueError: if the URL is not on a loopback address.
            aiohttp.ClientError: if the webhook cannot be reached.
        """
        problem = _not_loopback(webhook_url)
        if problem:
            raise ValueError(problem)
        self._learn(event)
        delivery = await self._post_signed(webhook_url, dict(event), signature)
        return delivery.status or 0, delivery.response

    async def deliver(self, event: Mapping[str, Any]) -> tuple[int, str] | None:
        """Post an event to the webhook set with ``set_webhook``, if it asked for the event.

        Returns:
            (HTTP status, body), or None if the webhook's ``event_types`` leave it out.

        Raises:
            RuntimeError: if no webhook is set.
        """
        if not self.webhook:
            raise RuntimeError("no webhook is set; the bot has to call set_webhook first")
        kind = event.get("event")
        if kind not in ALWAYS_SENT_EVENTS and kind not in self.event_types:
            return None
        return await self.post_event(self.webhook, event)

    async def wait_for(
        self,
        predicate: Callable[[list[Call]], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - the tests' own deadline, with a message
    ) -> T:
        """Wait until ``predicate(calls)`` is truthy; return what it returned.

        Raises:
            TimeoutError: after ``timeout`` seconds, naming the last calls.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self.calls)
            if result:
                return result
            if time.monotonic() >= deadline:
                name = getattr(predicate, "__qualname__", repr(predicate))
                raise TimeoutError(
                    f"{name} was still false after {timeout} s; "
                    f"the last calls were:\n{self.describe_calls()}"
                )
            await asyncio.sleep(0.01)

    async def wait_for_sent(
        self,
        user_id: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - as in wait_for
    ) -> list[JSONDict]:
        """Wait until at least ``count`` messages were sent to ``user_id``; return them all."""

        def enough(_: list[Call]) -> list[JSONDict]:
            found = self.sent_to(user_id)
            return found if len(found) >= count else []

        enough.__qualname__ = f"{count} message(s) to {user_id}"
        return await self.wait_for(enough, timeout)

    def describe_calls(self, last: int = 10) -> str:
        """A short list of the last calls, for failure messages."""
        lines = []
        for call in self._calls[-last:]:
            params = json.dumps(call.params, ensure_ascii=False)
            params = params if len(params) <= 200 else params[:200] + "..."
            answer = call.response.get("status_message", call.http_status)
            lines.append(f"  #{call.index} {call.endpoint} -> {answer} {params}")
        return "\n".join(lines) or "  (no calls)"

    # ------------------------------------------------------------------ serving

    async def _handle_api(self, request: web.Request) -> web.Response:
        endpoint = request.match_info["endpoint"]
        call = Call(len(self._calls) + 1, endpoint, {}, time.time())
        self._calls.append(call)
        params: JSONDict | ViberError
        try:
            params = _parse(await request.read())
        except ViberError as error:
            params = error
        body_token = None
        if isinstance(params, dict):
            call.params = {k: v for k, v in params.items() if k != "auth_token"}
            body_token = _str_or_none(params.get("auth_token"))
        call.token = request.headers.get(AUTH_HEADER) or body_token
        if self.latency:
            await asyncio.sleep(self.latency)
        http_failure = self._take_http_failure(endpoint)
        if endpoint not in self._handlers or http_failure is not None:
            call.http_status = http_failure.http_status if http_failure else 404
            text = http_failure.body if http_failure else f"no such endpoint: {endpoint}"
            return web.Response(status=call.http_status, text=text)
        try:
            call.response = await self._answer(endpoint, params, call.token)
        except ViberError as error:
            call.response = error.to_json()
        return web.json_response(call.response)

    async def _answer(
        self, endpoint: str, params: JSONDict | ViberError, token: str | None
    ) -> JSONDict:
        if token is None or not hmac.compare_digest(token.encode(), self.token.encode()):
            raise ViberError(ViberStatus.INVALID_AUTH_TOKEN)
        if isinstance(params, ViberError):
            raise params
        failure = self._take_failure(endpoint, params)
        if failure is not None:
            return {"status": failure.status, "status_message": failure.status_message}
        return await self._handlers[endpoint](params)

    async def _handle_media(self, request: web.Request) -> web.Response:
        media = self._media.get(request.match_info["key"])
        if media is None or (media.expires_at is not None and time.monotonic() >= media.expires_at):
            return web.Response(status=404, text="Not Found")
        media.downloads += 1
        return web.Response(body=media.content, content_type=media.content_type)

    def _take_failure(self, endpoint: str, params: Mapping[str, Any]) -> Failure | None:
        for failure in self._failures:
            if failure.matches(endpoint, params):
                failure.count -= 1
                if failure.count <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _take_http_failure(self, endpoint: str) -> HttpFailure | None:
        for failure in self._http_failures:
            if failure.endpoint in ("*", endpoint):
                failure.count -= 1
                if failure.count <= 0:
                    self._http_failures.remove(failure)
                return failure
        return None

    def _media_at(self, url: str) -> _Media:
        parts = urlsplit(url).path.split("/")
        media = self._media.get(parts[2]) if len(parts) > 3 and parts[1] == "media" else None
        if media is None:
            raise KeyError(f"not a media URL of this fake: {url}")
        return media

    def _learn(self, event: Mapping[str, Any]) -> None:
        profile = event.get("user") or event.get("sender")
        if isinstance(profile, Mapping) and isinstance(profile.get("id"), str):
            known = {k: profile[k] for k in ViberUser.__dataclass_fields__ if k in profile}
            self.add_user(ViberUser(**known))
        kind = event.get("event")
        user_id = profile.get("id") if isinstance(profile, Mapping) else event.get("user_id")
        if not isinstance(user_id, str):
            return
        if kind in ("message", "subscribed") or (
            kind == "conversation_started" and event.get("subscribed") is True
        ):
            self.subscribe(user_id)
        elif kind == "unsubscribed":
            self.unsubscribe(user_id)

    async def _post_signed(
        self, url: str, event: JSONDict, signature: str | None = None
    ) -> Delivery:
        if self._session is None:
            raise RuntimeError("the fake Viber API is not running; call start() first")
        body = encode_event(event)
        delivery = Delivery(url, event, body, signature or self.sign(body))
        self.deliveries.append(delivery)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: delivery.signature}
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                delivery.status = response.status
                delivery.response = await response.text()
        except (aiohttp.ClientError, TimeoutError) as error:
            delivery.error = repr(error)
            raise
        return delivery

    # ---------------------------------------------------------------- endpoints

    async def _set_webhook(self, params: JSONDict) -> JSONDict:
        url = params.get("url")
        if url is None:
            raise _missing("url")
        if not isinstance(url, str):
            raise _bad("url", "must be a string")
        event_types = params.get("event_types", list(EVENT_TYPES))
        if not isinstance(event_types, list) or not all(e in EVENT_TYPES for e in event_types):
            raise _bad("event_types", f"must be a list of {', '.join(EVENT_TYPES)}")
        if url == "":
            self.webhook, self.event_types = None, []
            return {"status": 0, "status_message": "ok", "event_types": []}
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (self.allow_http and scheme == "http"):
            raise ViberError(ViberStatus.INVALID_URL, f"{url} is not an https URL")
        problem = _not_loopback(url)
        if problem:
            raise ViberError(ViberStatus.INVALID_URL, problem)
        event = {
            "event": "webhook",
            "timestamp": now_ms(),
            "chat_hostname": CHAT_HOSTNAME,
            "message_token": new_message_token(),
        }
        try:
            delivery = await self._post_signed(url, event)
        except (aiohttp.ClientError, TimeoutError) as error:
            detail = f"failed to connect to {url}: {error!r}"
            raise ViberError(ViberStatus.INVALID_URL, detail) from error
        if delivery.status != 200:
            raise ViberError(ViberStatus.INVALID_URL, f"{url} answered HTTP {delivery.status}")
        chosen = list(dict.fromkeys(event_types))
        self.webhook, self.event_types = url, chosen
        return {"status": 0, "status_message": "ok", "event_types": chosen}

    async def _send_message(self, params: JSONDict) -> JSONDict:
        receiver = params.get("receiver")
        if receiver is None or receiver == "":
            raise _missing("receiver")
        if not isinstance(receiver, str):
            raise _bad("receiver", "must be a string")
        self._check_message(params)
        self._check_receiver(receiver, params)
        token = new_message_token()
        self._record_sent(params, receiver, token)
        return {
            "status": 0,
            "status_message": "ok",
            "message_token": token,
            "chat_hostname": CHAT_HOSTNAME,
            "billing_status": 1,
        }

    async def _broadcast_message(self, params: JSONDict) -> JSONDict:
        receivers = params.get("broadcast_list")
        if receivers is None:
            raise _missing("broadcast_list")
        if not isinstance(receivers, list) or not all(isinstance(r, str) for r in receivers):
            raise _bad("broadcast_list", "must be a list of user ids")
        if not 1 <= len(receivers) <= MAX_BROADCAST_RECEIVERS:
            raise _bad("broadcast_list", f"must have 1 to {MAX_BROADCAST_RECEIVERS} receivers")
        self._check_message(params)
        token = new_message_token()
        failed_list = []
        for receiver in receivers:
            try:
                self._check_receiver(receiver, params)
            except ViberError as error:
                reason = "Not subscribed" if error.status == 6 else error.status_message
                failed_list.append(
                    {"receiver": receiver, "status": error.status, "status_message": reason}
                )
            else:
                self._record_sent(params, receiver, token)
        return {
            "status": 0,
            "status_message": "ok",
            "message_token": token,
            "failed_list": failed_list,
        }

    async def _get_account_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "status": 0,
            "status_message": "ok",
            "id": self.account_id,
            "chat_hostname": CHAT_HOSTNAME,
            "name": self.account_name,
            "uri": "mojaopstina",
            "icon": f"{self.url}/media/icon/icon.jpg",
            "background": f"{self.url}/media/background/background.jpg",
            "category": "Local Services",
            "subcategory": "Government",
            "location": {"lon": 22.1290, "lat": 42.9660},
            "country": "RS",
            "subscribers_count": len(self._subscribed),
            "members": [
                {"id": "A1b2C3d4E5f6G7h8I9j0Kg==", "name": "Administrator", "role": "admin"}
            ],
        }
        if self.webhook:
            info["webhook"] = self.webhook
            info["event_types"] = list(self.event_types)
        return info

    async def _get_user_details(self, params: JSONDict) -> JSONDict:
        user_id = params.get("id")
        if user_id is None or user_id == "":
            raise _missing("id")
        if not isinstance(user_id, str):
            raise _bad("id", "must be a string")
        asked = self._details_asked.get(user_id, 0) + 1
        self._details_asked[user_id] = asked
        if self.user_details_limit is not None and asked > self.user_details_limit:
            raise ViberError(ViberStatus.TOO_MANY_REQUESTS)
        user = self.user(user_id)
        details = user.to_json() | {
            "primary_device_os": "Android 14",
            "viber_version": "24.8.0.0",
            "mcc": 220,
            "mnc": 1,
            "device_type": "SM-A546B",
        }
        return {
            "status": 0,
            "status_message": "ok",
            "message_token": new_message_token(),
            "user": details,
        }

    async def _get_online(self, params: JSONDict) -> JSONDict:
        ids = params.get("ids")
        if ids is None:
            raise _missing("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise _bad("ids", "must be a list of user ids")
        if not 1 <= len(ids) <= MAX_ONLINE_IDS:
            raise _bad("ids", f"must have 1 to {MAX_ONLINE_IDS} ids")
        names = {0: "online", 1: "offline", 2: "undisclosed", 3: "tryLater", 4: "unavailable"}
        users = []
        for user_id in ids:
            online, last = self._online.get(user_id, (1, now_ms() - 3_600_000))
            entry: JSONDict = {
                "id": user_id,
                "online_status": online,
                "online_status_message": names.get(online, "unavailable"),
            }
            if online == 1 and last is not None:
                entry["last_online"] = last
            users.append(entry)
        return {"status": 0, "status_message": "ok", "users": users}

    # --------------------------------------------------------------- validation

    def _check_receiver(self, receiver: str, params: Mapping[str, Any]) -> None:
        if not self.is_subscribed(receiver):
            raise ViberError(ViberStatus.RECEIVER_NOT_SUBSCRIBED)
        wanted = params.get("min_api_version", 1)
        known = self._users.get(receiver)
        if known is not None and wanted > known.api_version:
            raise ViberError(
                ViberStatus.API_VERSION_NOT_SUPPORTED,
                f"min_api_version {wanted} > the user's api_version {known.api_version}",
            )

    def _record_sent(self, params: Mapping[str, Any], receiver: str, token: int) -> None:
        sent = {k: v for k, v in params.items() if k not in ("auth_token", "broadcast_list")}
        sent.update(receiver=receiver, message_token=token)
        self._sent.append(sent)

    def _check_message(self, params: Mapping[str, Any]) -> None:
        sender = params.get("sender")
        if not isinstance(sender, Mapping) or sender.get("name") in (None, ""):
            raise _missing("sender.name")
        _check_str(sender, "name", "sender.name", MAX_SENDER_NAME)
        _check_optional_str(sender, "avatar", "sender.avatar", MAX_URL)
        _check_optional_str(params, "tracking_data", "tracking_data", MAX_TRACKING_DATA)
        min_api_version = params.get("min_api_version", 1)
        if not _is_int(min_api_version) or min_api_version < 1:
            raise _bad("min_api_version", "must be a positive integer")
        kind = params.get("type")
        keyboard = params.get("keyboard")
        if kind is None and keyboard is None:
            raise _missing("type")
        if kind not in (None, "keyboard"):
            if kind not in MESSAGE_TYPES:
                raise _bad("type", f"{kind!r} is not a Viber message type")
            _check_content(kind, params)
        if keyboard is not None:
            level = _check_keyboard(keyboard)
            if self.check_api_levels and level > min_api_version:
                raise ViberError(
                    ViberStatus.INCOMPATIBLE_WITH_VERSION,
                    f"the keyboard needs min_api_version >= {level}",
                )


def point_viberbot_at(api: Any, base_url: str) -> None:
    """Make a ``viberbot.Api`` send its requests to ``base_url`` instead of Viber.

    viberbot 1.0.12 hard-codes ``VIBER_BOT_API_URL`` in ``Api.__init__``; this
    rebuilds the ``ApiRequestSender`` (which takes the URL) and the ``MessageSender``
    that shares it, from viberbot's own classes.
    """
    config = api._bot_configuration
    logger = api._logger
    request_sender = ApiRequestSender(logger, base_url.rstrip("/"), config, VIBER_BOT_USER_AGENT)
    api._request_sender = request_sender
    api._message_sender = MessageSender(logger, request_sender, config)


# ------------------------------------------------------------------- field checks


def _parse(raw: bytes) -> JSONDict:
    try:
        params = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ViberError(ViberStatus.BAD_DATA, f"the body is not JSON: {error}") from None
    if not isinstance(params, dict):
        raise ViberError(ViberStatus.BAD_DATA, "the body is not a JSON object")
    return params


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _not_loopback(url: str) -> str | None:
    """Say why the fake will not post to ``url``, or None for a loopback address."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return f"the fake posts only to loopback addresses, not to {host or url!r}"


def _check_str(obj: Mapping[str, Any], key: str, path: str, limit: int, empty: bool = True) -> str:
    value = obj.get(key)
    if value is None:
        raise _missing(path)
    if not isinstance(value, str):
        raise _bad(path, "must be a string")
    if not empty and not value:
        raise _bad(path, "must not be empty")
    if len(value) > limit:
        raise _bad(path, f"is longer than {limit} characters ({len(value)})")
    return value


def _check_optional_str(obj: Mapping[str, Any], key: str, path: str, limit: int) -> None:
    if obj.get(key) is not None:
        _check_str(obj, key, path, limit)


def _check_url(obj: Mapping[str, Any], key: str, path: str) -> None:
    value = _check_str(obj, key, path, MAX_URL, empty=False)
    if urlsplit(value).scheme not in ("http", "https"):
        raise _bad(path, "must be an http(s) URL")


def _check_size(obj: Mapping[str, Any], key: str, path: str) -> None:
    value = obj.get(key)
    if value is None:
        raise _missing(path)
    if not _is_int(value) or value < 0:
        raise _bad(path, "must be a size in bytes")


def _check_content(kind: str, params: Mapping[str, Any]) -> None:
    """Check the fields of one message type."""
    if kind == "text":
        _check_str(params, "text", "text", MAX_TEXT, empty=False)
    elif kind == "picture":
        _check_url(params, "media", "media")
        _check_optional_str(params, "text", "text", MAX_PICTURE_TEXT)
        if params.get("thumbnail") is not None:
            _check_url(params, "thumbnail", "thumbnail")
    elif kind == "video":
        _check_url(params, "media", "media")
        _check_size(params, "size", "size")
    elif kind == "file":
        _check_url(params, "media", "media")
        _check_size(params, "size", "size")
        _check_str(params, "file_name", "file_name", MAX_FILE_NAME, empty=False)
    elif kind == "url":
        _check_url(params, "media", "media")
    elif kind == "location":
        _check_location(params.get("location"))
    elif kind == "contact":
        contact = params.get("contact")
        if not isinstance(contact, Mapping):
            raise _missing("contact")
        _check_str(contact, "name", "contact.name", MAX_CONTACT_NAME, empty=False)
        _check_str(contact, "phone_number", "contact.phone_number", MAX_CONTACT_PHONE, False)
    elif kind == "sticker":
        if params.get("sticker_id") is None:
            raise _missing("sticker_id")
        if not _is_int(params["sticker_id"]):
            raise _bad("sticker_id", "must be an integer")
    elif kind == "rich_media":
        _check_rich_media(params.get("rich_media"))


def _check_location(location: object) -> None:
    if not isinstance(location, Mapping):
        raise _missing("location")
    for key, limit in (("lat", 90), ("lon", 180)):
        value = location.get(key)
        if value is None:
            raise _missing(f"location.{key}")
        if not _is_number(value) or not -limit <= value <= limit:
            raise _bad(f"location.{key}", f"must be a number from -{limit} to {limit}")


def _check_keyboard(keyboard: object) -> int:
    """Check a keyboard; return the API level its buttons need."""
    if not isinstance(keyboard, Mapping):
        raise _bad("keyboard", "must be an object")
    if keyboard.get("Type") is None:
        raise _missing("keyboard.Type")
    if keyboard["Type"] != "keyboard":
        raise _bad("keyboard.Type", 'must be "keyboard"')
    buttons = _check_buttons(keyboard, "keyboard", max_rows=2)
    if len(buttons) > MAX_KEYBOARD_BUTTONS:
        raise _bad("keyboard.Buttons", f"has more than {MAX_KEYBOARD_BUTTONS} buttons")
    actions = {b.get("ActionType", "reply") for b in buttons}
    return 3 if actions & LEVEL_3_ACTIONS else 1


def _check_rich_media(rich_media: object) -> None:
    if not isinstance(rich_media, Mapping):
        raise _missing("rich_media")
    for key, top in (("ButtonsGroupColumns", 6), ("ButtonsGroupRows", 7)):
        value = rich_media.get(key)
        if value is not None and (not _is_int(value) or not 1 <= value <= top):
            raise _bad(f"rich_media.{key}", f"must be 1 to {top}")
    _check_buttons(rich_media, "rich_media", max_rows=7)


def _check_buttons(container: Mapping[str, Any], path: str, max_rows: int) -> list[JSONDict]:
    buttons = container.get("Buttons")
    if buttons is None:
        raise _missing(f"{path}.Buttons")
    if not isinstance(buttons, list) or not all(isinstance(b, dict) for b in buttons):
        raise _bad(f"{path}.Buttons", "must be a list of buttons")
    for i, button in enumerate(buttons):
        where = f"{path}.Buttons[{i}]"
        for key, top in (("Columns", 6), ("Rows", max_rows)):
            value = button.get(key)
            if value is not None and (not _is_int(value) or not 1 <= value <= top):
                raise _bad(f"{where}.{key}", f"must be 1 to {top}, not {value!r}")
        action = button.get("ActionType", "reply")
        if action not in ACTION_TYPES:
            raise _bad(f"{where}.ActionType", f"{action!r} is not one of {sorted(ACTION_TYPES)}")
        body = button.get("ActionBody")
        if body is None:
            raise _missing(f"{where}.ActionBody")
        if not isinstance(body, str):
            raise _bad(f"{where}.ActionBody", "must be a string")
        if not body and action in LEVEL_3_ACTIONS | {"open-url"}:
            raise _bad(f"{where}.ActionBody", f"must not be empty for {action}")
        _check_optional_str(button, "Text", f"{where}.Text", MAX_BUTTON_TEXT)
        if not any(button.get(key) for key in BUTTON_FACE):
            raise _bad(where, f"needs one of {', '.join(BUTTON_FACE)}")
    return buttons
