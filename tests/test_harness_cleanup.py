"""The test harness closes what it opened even when the test's body fails.

A body that raised inside ``viber_app`` left its webhook server listening, the outbox sender
running and the download client open: a later, unrelated test then failed on the
``ResourceWarning`` of those sockets.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
import pytest

from bot.settings import Settings
from handlers.municipality import Municipality
from tests.dialogs import ANA, viber_app
from tests.fakes.ports import FakeGeocoder
from tests.fakes.viber_api import conversation_started, message_picture

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9"


class BodyFailed(Exception):
    """What the test's body raises."""


async def refused(url: str) -> bool:
    """Whether nothing listens at the ``http://host:port/...`` of ``url`` any more."""
    host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
    try:
        _, writer = await asyncio.open_connection(host, int(port))
    except OSError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


@dataclass
class Opened:
    """What the failing body saw open."""

    webhook: str = ""
    downloads: aiohttp.ClientSession | None = None


async def fail_inside_viber_app(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder, opened: Opened
) -> None:
    """A test's body that gets the bot to download a picture, then fails."""
    async with viber_app(settings, municipality, geocoder) as running:
        opened.webhook = running.url
        assert not await refused(opened.webhook)
        await running.post(conversation_started(ANA))
        # A picture: the webhook downloads it, which opens its download client.
        status, _ = await running.post(message_picture(ANA, running.fake.add_media(JPEG)))
        assert status == 200
        await running.app.sender.drain()
        opened.downloads = running.updates._http
        raise BodyFailed


async def test_a_failing_body_inside_viber_app_still_closes_everything(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    opened = Opened()
    with pytest.raises(BodyFailed):
        await fail_inside_viber_app(settings, municipality, geocoder, opened)
    assert await refused(opened.webhook), "the webhook's server still listens"
    assert asyncio.all_tasks() - {asyncio.current_task()} == others, "a task still runs"
    assert opened.downloads is not None, "the picture was not downloaded"
    assert opened.downloads.closed, "the download client is still open"
