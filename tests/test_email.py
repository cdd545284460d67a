"""E-mail to services against a real SMTP server (aiosmtpd) on loopback: sent, and retried."""

from __future__ import annotations

import email
import socket
from collections.abc import AsyncIterator, Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.app import build_app
from bot.channels.email import EmailChannel, SmtpSettings
from bot.settings import Settings
from handlers.municipality import Municipality
from handlers.ports import Channel
from tests.conftest import Bot, leak_report
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

WATER_MAIL = "vodovod@vlasotince.example.org"


class Inbox:
    """An aiosmtpd handler that keeps what arrives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(
            envelope.content, _class=EmailMessage, policy=policy.default
        )
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(inbox: Inbox, port: int) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
async def bot_with_mail(
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
    port: int,
) -> AsyncIterator[Bot]:
    mail = EmailChannel(
        SmtpSettings("127.0.0.1", port, "moja-opstina@vlasotince.example.org", timeout=3),
        settings.data_dir,
    )
    residents = CollectingChannel("test")
    channels: dict[str, Channel] = {
        "test": residents,
        "telegram": CollectingChannel("telegram"),
        "email": mail,
    }
    async with build_app(settings, municipality, channels, clock=clock, geocoder=geocoder) as app:
        yield Bot(app, residents, clock)


async def report_leak(bot: Bot) -> None:
    for item in leak_report():
        await bot.say("ana", item)


async def test_a_new_report_is_mailed_with_its_photo(
    bot_with_mail: Bot, smtp_server: Controller, inbox: Inbox
) -> None:
    await report_leak(bot_with_mail)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == WATER_MAIL
    assert "VLA-2026-00001" in str(message["Subject"])
    body = message.get_body(("plain",))
    assert body is not None
    assert "Water is gushing" in body.get_content()
    photos = [
        part for part in message.iter_attachments() if part.get_content_type() == "image/jpeg"
    ]
    assert len(photos) == 1
    assert photos[0].get_payload(decode=True)[:2] == b"\xff\xd8"  # type: ignore[index]


async def test_with_the_server_down_the_mail_arrives_after_it_comes_back(
    bot_with_mail: Bot, inbox: Inbox, port: int
) -> None:
    await report_leak(bot_with_mail)  # nothing listens on the port yet
    async with bot_with_mail.app.db.conn.execute(
        "SELECT status, attempts FROM outbox WHERE channel = 'email'"
    ) as cur:
        assert [tuple(r) for r in await cur.fetchall()] == [("pending", 1)]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        bot_with_mail.clock.advance(seconds=5)
        await bot_with_mail.app.sender.drain()
    finally:
        controller.stop()
    assert [m["To"] for m in inbox.messages] == [WATER_MAIL]
