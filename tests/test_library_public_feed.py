"""The library's public feed of new titles: Atom on the bot's web server, read by feedparser as a
feed reader would; each title once with its catalogue link, nothing about residents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import feedparser
import pytest

from bot import runtime
from bot import web as public_web
from bot.settings import Settings
from bot.web.library_feed import PATH
from handlers.library import importing
from tests.conftest import VLASOTINCE, Bot, Office, Press, free_port
from tests.library_records import iso2709, unimarc


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "BOT_CONFIG": str(VLASOTINCE),
            "HTTP_PORT": str(free_port()),
            "PUBLIC_URL": "https://opstina.example.org",
        }
    )


@pytest.fixture
async def served(office: Office, settings: Settings) -> AsyncIterator[str]:
    routes = runtime.web_app()
    public_web.add_routes(routes, settings, office.bot.app)
    runner = await runtime.serve(routes, settings)
    try:
        yield f"http://127.0.0.1:{settings.http_port}{PATH}"
    finally:
        await runner.cleanup()


async def fetch(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, answer.content_type, await answer.read()


async def add(bot: Bot, content: bytes) -> None:
    async with bot.app.db.transaction() as conn:
        found = await importing.preview(conn, "nove.mrc", content)
        await importing.store(conn, found, bot.clock.now())


async def test_the_feed_lists_new_titles_with_their_links_and_nothing_personal(
    office: Office, served: str
) -> None:
    bot = office.bot
    status, kind, body = await fetch(served)
    assert (status, kind) == (200, "application/atom+xml")
    empty = feedparser.parse(body)
    assert not empty.bozo, empty.get("bozo_exception")
    assert empty.feed.title == "Нови наслови: Народна библиотека Власотинце"
    assert empty.entries == []

    drina = unimarc("На Дрини ћуприја", "Андрић", "Иво", isbn="978-86-521-4023-7")
    await add(bot, iso2709(drina))
    bot.clock.advance(days=1)
    kis = unimarc("Rani jadi & <druge> priče", "Kiš", "Danilo", udc="821.163.41-93")
    await add(bot, iso2709(kis))
    # A resident's follow and suggestion never show in the public feed.
    await bot.say("mila", Press("menu:library"))
    await bot.say("mila", Press("lib:suggest"))
    for answer in ("Тајна књига", "Мила Милић", "-", "За моју ћерку"):
        await bot.say("mila", answer)

    status, _kind, body = await fetch(served)
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.title for e in feed.entries] == ["Rani jadi & <druge> priče", "На Дрини ћуприја"]
    newest, first = feed.entries
    assert first.link == "https://plus.cobiss.net/cobiss/sr/sr/bib/search?q=9788652140237"
    assert first.author == "Иво Андрић"
    assert "ISBN 9788652140237" in first.summary
    assert newest.tags[0].term == "children"
    assert newest.tags[0].label == "Књиге за децу"
    assert newest.id.startswith("tag:opstina.example.org,2026:library:title:")
    assert len({e.id for e in feed.entries}) == 2
    for secret in ("Тајна књига", "Мила", "ћерку"):
        assert secret.encode() not in body

    bot.clock.advance(days=91)  # older titles leave the feed
    _status, _kind, body = await fetch(served)
    assert feedparser.parse(body).entries == []
