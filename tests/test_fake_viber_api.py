"""Tests of the fake Viber REST API, driven by the real viberbot SDK over loopback HTTP."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import requests
from aiohttp import web
from viberbot import Api
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.messages import (
    KeyboardMessage,
    LocationMessage,
    PictureMessage,
    TextMessage,
)
from viberbot.api.messages.data_types.location import Location
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberDeliveredRequest,
    ViberFailedRequest,
    ViberMessageRequest,
    ViberSeenRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
)

from tests.conftest import eventually
from tests.fakes.viber_api import (
    AUTH_HEADER,
    MAX_TEXT,
    SIGNATURE_HEADER,
    FakeViberApi,
    ViberStatus,
    ViberUser,
    conversation_started,
    delivered,
    encode_event,
    failed,
    message_contact,
    message_location,
    message_picture,
    message_sticker,
    message_text,
    point_viberbot_at,
    seen,
    sign,
    subscribed,
    unsubscribed,
)

USER = "pttm25kSGUo1919sBORWyA=="
OTHER = "EGAZ3SZRi6zW1D0uNYhQHg=="
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9"


def button(body: str, text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A keyboard button that replies ``body``."""
    return {"ActionType": "reply", "ActionBody": body, "Text": text or body, **extra}


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    """A keyboard with ``buttons``."""
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": list(buttons)}


def viber_status(error: BaseException) -> int:
    """The status in viberbot's ``failed with status: N, message: ...`` exception."""
    found = re.search(r"failed with status: (\d+), message: ", str(error))
    assert found, f"not a viberbot status error: {error!r}"
    return int(found.group(1))


def closed_port() -> int:
    """A loopback port that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class BotWebhook:
    """A bot's webhook: checks the signature with viberbot and parses each callback."""

    def __init__(self, api: Any, status: int = 200) -> None:
        self.api = api
        self.status = status
        self.received: list[Any] = []
        self.rejected = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/viber"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/viber", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not self.api.verify_signature(raw, request.headers.get(SIGNATURE_HEADER, "")):
            self.rejected += 1
            return web.Response(status=403, text="bad signature")
        self.received.append(self.api.parse_request(raw))
        if self.status != 200:
            return web.Response(status=self.status)
        return web.json_response({"received": True})


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests honours proxy variables; everything here stays on 127.0.0.1.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
async def fake() -> AsyncIterator[FakeViberApi]:
    async with FakeViberApi() as server:
        yield server


@pytest.fixture
def api(fake: FakeViberApi) -> Any:
    return fake.viberbot_api()


@pytest.fixture
async def webhook(api: Any) -> AsyncIterator[BotWebhook]:
    hook = BotWebhook(api)
    await hook.start()
    yield hook
    await hook.stop()


async def send(api: Any, *messages: Any, to: str = USER) -> list[int]:
    """Send with viberbot in a thread (it is synchronous); return the message tokens."""
    tokens: list[int] = await asyncio.to_thread(api.send_messages, to, list(messages))
    return tokens


# ------------------------------------------------------------------------ sending


async def test_text_with_keyboard_is_sent_and_recorded(fake: FakeViberApi, api: Any) -> None:
    kb = keyboard(button("yes", "Da", Columns=3), button("no", "Ne", Columns=3))
    tokens = await send(api, TextMessage(text="Пријава примљена.", keyboard=kb, tracking_data="s1"))

    assert len(tokens) == 1
    assert isinstance(tokens[0], int)
    [sent] = fake.sent_to(USER)
    assert sent["type"] == "text"
    assert sent["text"] == "Пријава примљена."
    assert sent["sender"] == {"name": "Moja opština", "avatar": None}
    assert sent["tracking_data"] == "s1"
    assert sent["message_token"] == tokens[0]
    assert "auth_token" not in sent
    assert fake.keyboard_of(USER) == kb
    assert fake.texts_to(USER) == ["Пријава примљена."]
    [call] = fake.calls_of("send_message")
    assert call.ok
    assert call.token == fake.token
    assert fake.sent_to(OTHER) == []


async def test_a_keyboard_alone_is_accepted(fake: FakeViberApi, api: Any) -> None:
    kb = keyboard(button("menu", "Meni"))
    await send(api, KeyboardMessage(keyboard=kb))

    [sent] = fake.sent_to(USER)
    assert "type" not in sent
    assert fake.keyboard_of(USER) == kb
    # Viber shows the last message's keyboard: one sent without it hides it.
    await send(api, TextMessage(text="Hvala"))
    assert fake.keyboard_of(USER) is None


async def test_picture_is_sent_and_its_media_can_be_downloaded_until_it_expires(
    fake: FakeViberApi, api: Any
) -> None:
    url = fake.add_media(JPEG, file_name="photo.jpg")
    await send(api, PictureMessage(media=url, text="Рупа на путу", thumbnail=url))

    [sent] = fake.sent_to(USER)
    assert (sent["type"], sent["media"], sent["text"]) == ("picture", url, "Рупа на путу")
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 200
            assert response.content_type == "image/jpeg"
            assert await response.read() == JPEG
        fake.expire_media(url)
        async with http.get(url) as response:
            assert response.status == 404
    assert fake.media_downloads(url) == 1


async def test_media_expires_after_its_ttl(fake: FakeViberApi) -> None:
    url = fake.add_media(JPEG, ttl=0.05)

    async def expired() -> bool:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status == 404

    await eventually(expired, "the media is gone after its time to live", seconds=2)


async def test_location_keyboard_needs_api_level_3(fake: FakeViberApi, api: Any) -> None:
    kb = keyboard(button("loc", "Lokacija", ActionType="location-picker"))

    with pytest.raises(Exception, match="failed with status: 14") as error:
        await send(api, TextMessage(text="Gde je problem?", keyboard=kb))
    assert viber_status(error.value) == ViberStatus.INCOMPATIBLE_WITH_VERSION
    assert fake.sent_to(USER) == []

    await send(api, TextMessage(text="Gde je problem?", keyboard=kb, min_api_version=3))
    assert len(fake.sent_to(USER)) == 1


@pytest.mark.parametrize(
    ("make", "status", "detail"),
    [
        pytest.param(lambda: TextMessage(text="x" * (MAX_TEXT + 1)), 3, "text", id="text-long"),
        pytest.param(lambda: TextMessage(text=""), 3, "text", id="text-empty"),
        pytest.param(
            lambda: TextMessage(text="a", keyboard=keyboard(*[button(str(i)) for i in range(25)])),
            3,
            "24 buttons",
            id="25-buttons",
        ),
        pytest.param(
            lambda: TextMessage(text="a", keyboard={"Buttons": [button("x")]}),
            4,
            "keyboard.Type",
            id="no-keyboard-type",
        ),
        pytest.param(
            lambda: TextMessage(text="a", keyboard=keyboard(button("x", Columns=7))),
            3,
            "Columns",
            id="columns-7",
        ),
        pytest.param(
            lambda: TextMessage(text="a", keyboard=keyboard(button("x", Rows=3))),
            3,
            "Rows",
            id="rows-3",
        ),
        pytest.param(
            lambda: TextMessage(text="a", keyboard=keyboard({"ActionType": "reply", "Text": "x"})),
            4,
            "ActionBody",
            id="no-action-body",
        ),
        pytest.param(
            lambda: TextMessage(text="a", keyboard=keyboard(button("x", ActionType="call"))),
            3,
            "ActionType",
            id="bad-action-type",
        ),
        pytest.param(
            lambda: TextMessage(text="a", keyboard=keyboard({"ActionBody": "x"})),
            3,
            "needs one of Text",
            id="faceless-button",
        ),
        pytest.param(lambda: PictureMessage(media="photo.jpg"), 3, "media", id="picture-not-a-url"),
        pytest.param(
            lambda: PictureMessage(media="http://127.0.0.1/p.jpg", text="x" * 769),
            3,
            "text",
            id="picture-text-long",
        ),
        pytest.param(
            lambda: TextMessage(text="a", tracking_data="t" * 4097),
            3,
            "tracking_data",
            id="tracking-data-long",
        ),
    ],
)
async def test_messages_that_viber_refuses(
    fake: FakeViberApi, api: Any, make: Callable[[], Any], status: int, detail: str
) -> None:
    with pytest.raises(Exception, match=f"failed with status: {status}, message: .*{detail}"):
        await send(api, make())
    assert fake.sent_to(USER) == []
    [call] = fake.calls_of("send_message")
    assert call.status == status


async def test_a_sender_name_over_28_characters_is_refused(fake: FakeViberApi) -> None:
    api = fake.viberbot_api(name="Opštinska služba Vlasotince 24h")

    with pytest.raises(Exception, match=r"failed with status: 3, message: .*sender\.name"):
        await send(api, TextMessage(text="Zdravo"))


async def test_viberbot_checks_some_messages_itself(fake: FakeViberApi, api: Any) -> None:
    with pytest.raises(Exception, match="failed validating message"):
        await send(api, LocationMessage(location=Location(91, 0)))
    assert fake.calls == []


# ------------------------------------------------------------------- other calls


async def test_account_info_has_vibers_shape(
    fake: FakeViberApi, api: Any, webhook: BotWebhook
) -> None:
    info = await asyncio.to_thread(api.get_account_info)
    assert info["status"] == 0
    assert info["status_message"] == "ok"
    assert info["name"] == "Moja opština"
    assert info["id"].startswith("pa:")
    assert "webhook" not in info
    assert {"uri", "icon", "category", "country", "subscribers_count", "members"} <= info.keys()

    await asyncio.to_thread(api.set_webhook, webhook.url, ["delivered", "seen"])
    info = await asyncio.to_thread(api.get_account_info)
    assert info["webhook"] == webhook.url
    assert info["event_types"] == ["delivered", "seen"]


async def test_user_details_come_from_events_and_are_limited_per_user(
    fake: FakeViberApi, api: Any, webhook: BotWebhook
) -> None:
    ana = ViberUser(USER, name="Ана Јовановић", language="sr", api_version=8)
    await fake.post_event(webhook.url, subscribed(ana))

    user = await asyncio.to_thread(api.get_user_details, USER)
    assert user["id"] == USER
    assert user["name"] == "Ана Јовановић"
    assert user["api_version"] == 8
    assert {"language", "country", "primary_device_os", "viber_version"} <= user.keys()

    await asyncio.to_thread(api.get_user_details, USER)
    with pytest.raises(Exception, match="failed with status: 12, message: tooManyRequests"):
        await asyncio.to_thread(api.get_user_details, USER)
    other = await asyncio.to_thread(api.get_user_details, OTHER)
    assert other["id"] == OTHER


async def test_get_online(fake: FakeViberApi, api: Any) -> None:
    fake.set_online(USER, 0)
    users = await asyncio.to_thread(api.get_online, [USER, OTHER])

    assert users[0] == {"id": USER, "online_status": 0, "online_status_message": "online"}
    assert users[1]["online_status"] == 1
    assert users[1]["online_status_message"] == "offline"
    assert isinstance(users[1]["last_online"], int)


async def test_broadcast_with_the_header_token_reports_unsubscribed_receivers(
    fake: FakeViberApi,
) -> None:
    fake.unsubscribe(OTHER)
    payload = {
        "broadcast_list": [USER, OTHER],
        "sender": {"name": "Moja opština"},
        "type": "text",
        "text": "Sutra nema vode od 8 do 12.",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{fake.base_url}/broadcast_message",
            json=payload,
            headers={AUTH_HEADER: fake.token},
        ) as response,
    ):
        body = await response.json()

    assert body["status"] == 0
    assert body["failed_list"] == [
        {"receiver": OTHER, "status": 6, "status_message": "Not subscribed"}
    ]
    assert fake.texts_to(USER) == ["Sutra nema vode od 8 do 12."]
    assert fake.sent_to(OTHER) == []


# ------------------------------------------------------------------------- errors


async def test_a_wrong_token_is_refused(fake: FakeViberApi) -> None:
    api = Api(BotConfiguration(auth_token="0" * 16, name="Moja opština", avatar=None))
    point_viberbot_at(api, fake.base_url)

    with pytest.raises(Exception, match="failed with status: 2, message: invalidAuthToken"):
        await send(api, TextMessage(text="Zdravo"))
    # get_account_info does not check the status: it hands back the error body.
    info = await asyncio.to_thread(api.get_account_info)
    assert info == {"status": 2, "status_message": "invalidAuthToken"}
    assert [c.token for c in fake.calls] == ["0" * 16, "0" * 16]


async def test_injected_not_subscribed_raises_once(fake: FakeViberApi, api: Any) -> None:
    fake.fail_next("send_message", ViberStatus.RECEIVER_NOT_SUBSCRIBED, user_id=USER)

    await send(api, TextMessage(text="drugom"), to=OTHER)
    with pytest.raises(Exception, match="failed with status: 6, message: receiverNotSubscribed"):
        await send(api, TextMessage(text="blokiran"))
    await send(api, TextMessage(text="opet"))

    assert fake.texts_to(USER) == ["opet"]


async def test_injected_rate_limit_with_a_custom_message(fake: FakeViberApi, api: Any) -> None:
    fake.fail_next("*", 12, "maxRequestsExceeded", count=2)

    for _ in range(2):
        with pytest.raises(Exception, match="status: 12, message: maxRequestsExceeded"):
            await send(api, TextMessage(text="Zdravo"))
    await send(api, TextMessage(text="Zdravo"))


async def test_injected_http_error_raises_requests_http_error(fake: FakeViberApi, api: Any) -> None:
    fake.http_error_next("send_message", 500)

    with pytest.raises(requests.HTTPError, match="500 Server Error"):
        await send(api, TextMessage(text="Zdravo"))
    assert fake.calls_of("send_message")[0].http_status == 500
    await send(api, TextMessage(text="Zdravo"))


async def test_an_unknown_endpoint_is_404(fake: FakeViberApi, api: Any) -> None:
    with pytest.raises(requests.HTTPError, match="404"):
        await asyncio.to_thread(api.post_messages_to_public_account, USER, TextMessage(text="x"))


async def test_a_closed_api_raises_connection_error() -> None:
    fake = FakeViberApi(port=closed_port())
    api = fake.viberbot_api()

    with pytest.raises(requests.ConnectionError):
        await send(api, TextMessage(text="Zdravo"))


async def test_latency_delays_answers() -> None:
    async with FakeViberApi(latency=0.2) as fake:
        api = fake.viberbot_api()
        started = time.monotonic()
        await asyncio.to_thread(api.get_account_info)
        assert time.monotonic() - started >= 0.2


# ---------------------------------------------------------------- subscriptions


async def test_an_unsubscribed_user_cannot_be_messaged(
    fake: FakeViberApi, api: Any, webhook: BotWebhook
) -> None:
    await fake.post_event(webhook.url, unsubscribed(USER))

    with pytest.raises(Exception, match="failed with status: 6"):
        await send(api, TextMessage(text="Zdravo"))

    await fake.post_event(webhook.url, message_text(USER, "vratio sam se"))
    await send(api, TextMessage(text="Dobrodošli nazad"))


async def test_strict_subscribers_need_a_message_or_subscription_first(
    webhook: BotWebhook,
) -> None:
    async with FakeViberApi(strict_subscribers=True) as fake:
        api = fake.viberbot_api()
        webhook.api = api
        await fake.post_event(webhook.url, conversation_started(USER))
        with pytest.raises(Exception, match="failed with status: 6"):
            await send(api, TextMessage(text="Zdravo"))

        await fake.post_event(webhook.url, message_text(USER, "Zdravo"))
        await send(api, TextMessage(text="Zdravo i vama"))
        assert fake.texts_to(USER) == ["Zdravo i vama"]


async def test_min_api_version_above_the_users_is_refused(
    fake: FakeViberApi, api: Any, webhook: BotWebhook
) -> None:
    await fake.post_event(webhook.url, message_text(ViberUser(USER, api_version=2), "Zdravo"))
    kb = keyboard(button("loc", "Lokacija", ActionType="location-picker"))

    with pytest.raises(Exception, match="failed with status: 13, message: apiVersionNotSupported"):
        await send(api, TextMessage(text="Gde?", keyboard=kb, min_api_version=3))


# ---------------------------------------------------------------------- webhooks


async def test_set_webhook_calls_the_webhook_back_signed(
    fake: FakeViberApi, api: Any, webhook: BotWebhook
) -> None:
    event_types = await asyncio.to_thread(api.set_webhook, webhook.url)

    assert event_types == [
        "delivered",
        "seen",
        "failed",
        "subscribed",
        "unsubscribed",
        "conversation_started",
    ]
    assert fake.webhook == webhook.url
    [callback] = webhook.received
    assert callback.event_type == "webhook"
    assert isinstance(callback.timestamp, int)
    [delivery] = fake.deliveries
    assert delivery.event["event"] == "webhook"
    assert api.verify_signature(delivery.body, delivery.signature)
    assert webhook.rejected == 0

    await asyncio.to_thread(api.unset_webhook)
    assert fake.webhook is None


async def test_set_webhook_fails_while_the_bot_is_not_listening(
    fake: FakeViberApi, api: Any
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/viber"

    with pytest.raises(Exception, match="failed with status: 1, message: invalidUrl") as error:
        await asyncio.to_thread(api.set_webhook, url)
    assert viber_status(error.value) == ViberStatus.INVALID_URL
    assert fake.webhook is None
    assert fake.deliveries[0].error is not None


async def test_set_webhook_fails_when_the_webhook_answers_an_error(
    fake: FakeViberApi, api: Any, webhook: BotWebhook
) -> None:
    webhook.status = 500

    with pytest.raises(Exception, match=r"failed with status: 1, message: invalidUrl.*HTTP 500"):
        await asyncio.to_thread(api.set_webhook, webhook.url)
    assert fake.webhook is None


async def test_set_webhook_refuses_http_when_told_and_anything_off_loopback(
    webhook: BotWebhook,
) -> None:
    async with FakeViberApi(allow_http=False) as fake:
        api = fake.viberbot_api()
        with pytest.raises(Exception, match=r"status: 1, message: invalidUrl: .* not an https"):
            await asyncio.to_thread(api.set_webhook, webhook.url)
        with pytest.raises(Exception, match=r"status: 1, message: invalidUrl: .*loopback"):
            await asyncio.to_thread(api.set_webhook, "https://bot.example.org/viber")
        assert fake.deliveries == []
        with pytest.raises(ValueError, match="loopback"):
            await fake.post_event("http://bot.example.org/viber", message_text(USER, "x"))


async def test_viberbot_accepts_the_signature_of_every_event(
    fake: FakeViberApi, api: Any, webhook: BotWebhook
) -> None:
    media = fake.add_media(JPEG)
    milica = ViberUser(USER, name="Милица", avatar=f"{fake.url}/media/a/a.jpg")
    events = [
        conversation_started(milica, context="qr-kod"),
        subscribed(USER, "Milica"),
        message_text(USER, "Рупа у Немањиној", tracking_data="step-1"),
        message_picture(USER, media, size=len(JPEG), file_name="a.jpg"),
        message_location(USER, 42.966, 22.129, address="Vlasotince"),
        message_contact(USER, "+381641234567"),
        message_sticker(USER),
        delivered(USER, 5_000_000_000_000_000_001),
        seen(USER, 5_000_000_000_000_000_001),
        failed(USER, 5_000_000_000_000_000_001),
        unsubscribed(USER),
    ]
    for event in events:
        status, body = await fake.post_event(webhook.url, event)
        assert (status, body) == (200, '{"received": true}')

    assert webhook.rejected == 0
    kinds = [type(r) for r in webhook.received]
    assert kinds == [
        ViberConversationStartedRequest,
        ViberSubscribedRequest,
        *[ViberMessageRequest] * 5,
        ViberDeliveredRequest,
        ViberSeenRequest,
        ViberFailedRequest,
        ViberUnsubscribedRequest,
    ]
    started, _, text, picture, location, contact, sticker, done, *_ = webhook.received
    assert started.user.name == "Милица"
    assert started.context == "qr-kod"
    assert started.subscribed is False
    assert text.sender.id == USER
    assert text.message.text == "Рупа у Немањиној"
    assert text.message.tracking_data == "step-1"
    assert picture.message.media == media
    assert (location.message.location.latitude, location.message.location.longitude) == (
        42.966,
        22.129,
    )
    assert contact.message.contact.phone_number == "+381641234567"
    assert sticker.message.sticker_id == 40133
    assert done.message_token == 5_000_000_000_000_000_001
    assert done.user_id == USER
    for delivery in fake.deliveries:
        assert delivery.signature == sign(delivery.body, fake.token)
        assert delivery.body == encode_event(delivery.event)
    assert "Рупа".encode() in fake.deliveries[2].body


async def test_a_wrong_signature_is_posted_when_asked(
    fake: FakeViberApi, webhook: BotWebhook
) -> None:
    status, _ = await fake.post_event(webhook.url, message_text(USER, "x"), signature="0" * 64)

    assert status == 403
    assert webhook.rejected == 1


async def test_deliver_follows_the_webhooks_event_types(
    fake: FakeViberApi, api: Any, webhook: BotWebhook
) -> None:
    with pytest.raises(RuntimeError, match="no webhook"):
        await fake.deliver(message_text(USER, "x"))
    await asyncio.to_thread(api.set_webhook, webhook.url, ["failed"])

    assert await fake.deliver(seen(USER, 1)) is None
    assert await fake.deliver(failed(USER, 1)) == (200, '{"received": true}')
    assert await fake.deliver(message_text(USER, "x")) == (200, '{"received": true}')
    assert [r.event_type for r in webhook.received] == ["webhook", "failed", "message"]


async def test_wait_for_sent_and_its_timeout(fake: FakeViberApi, api: Any) -> None:
    task = asyncio.create_task(send(api, TextMessage(text="kasnije")))
    [sent] = await fake.wait_for_sent(USER)
    assert sent["text"] == "kasnije"
    await task

    with pytest.raises(TimeoutError, match="2 message"):
        await fake.wait_for_sent(USER, count=2, timeout=0.05)
