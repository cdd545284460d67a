"""The library's feed of new titles: RSS and Atom served by a local server, polled by the job
(the download before the transaction), titles stored once, followers told by the digest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web

from bot.app import build_app
from bot.scheduler import _guarded, find_job, run_job
from bot.settings import Settings
from handlers.flow import Job
from handlers.library import feed
from handlers.municipality import Municipality
from tests.conftest import Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Нове књиге</title><language>sr</language>
<item><title>Сеобе</title><dc:creator>Милош Црњански</dc:creator>
<link>https://plus.cobiss.net/cobiss/sr/sr/bib/1</link><category>821.163.41-31</category>
<description>ISBN 978-86-521-4023-7</description><guid>b1</guid></item>
<item><title>Бајке за децу</title><dc:creator>Десанка Максимовић</dc:creator>
<category>821.163.41-93</category><guid>b2</guid></item>
<item><title></title><guid>b3</guid></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="hu"><title>Új könyvek</title><id>f</id>
<updated>2026-05-17T08:00:00Z</updated>
<entry><title>Zombor története</title><author><name>Anna Kovács</name></author>
<id>urn:isbn:9789630700009</id><updated>2026-05-17T08:00:00Z</updated>
<link href="https://example.org/zombor"/><category term="908"/></entry>
</feed>"""


class FeedServer:
    """A local library website serving its feed; ``body`` is what it serves now."""

    def __init__(self) -> None:
        self.body = RSS
        self.status = 200
        self.requests = 0

    async def handle(self, request: web.Request) -> web.Response:
        del request
        self.requests += 1
        return web.Response(text=self.body, status=self.status, content_type="application/xml")


@pytest.fixture
async def feed_server() -> AsyncIterator[tuple[FeedServer, str]]:
    server = FeedServer()
    app = web.Application()
    app.router.add_get("/novo.xml", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield server, f"http://127.0.0.1:{port}/novo.xml"
    await runner.cleanup()


async def poll(bot: Bot) -> None:
    """The feed job as the scheduler runs it: the download, then the transaction."""
    app = bot.app
    job = next(j for j in app.deps.registry.jobs if j.name == "library-feed")
    assert isinstance(job, Job)
    assert await _guarded(app.db, app.deps, app.sender, job.name, job.run, job.prepare)


async def stored(bot: Bot) -> list[tuple[str, str, str | None, str, str | None, str | None]]:
    rows = await bot.app.db.conn.execute_fetchall(
        "SELECT title, authors, isbn, subject, language, link FROM library_titles ORDER BY id"
    )
    return [tuple(r) for r in rows]


async def test_the_feed_is_polled_stored_once_and_followers_are_told(
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
    feed_server: tuple[FeedServer, str],
) -> None:
    server, url = feed_server
    assert municipality.library is not None
    m = replace(municipality, library=replace(municipality.library, feed_url=url))
    channel = CollectingChannel()
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        await bot.say("ana", "/start")
        await bot.say("ana", Press("lang:en"))
        await bot.say("ana", Press("libf:subject:children"))
        await bot.say("ana", Press("libm:instant"))

        await poll(bot)
        await poll(bot)  # the same entries again: nothing added twice
        assert server.requests == 2
        assert await stored(bot) == [
            ("Сеобе", "Милош Црњански", "9788652140237", "fiction", "srp",
             "https://plus.cobiss.net/cobiss/sr/sr/bib/1"),
            ("Бајке за децу", "Десанка Максимовић", None, "children", "srp", None),
        ]  # fmt: skip
        job = find_job(app.deps.registry, "library-digest")
        assert await run_job(app.db, app.deps, app.sender, job) == 1
        await app.sender.drain()
        assert "Бајке за децу" in channel.to("ana")[-1].text
        assert "Сеобе" not in channel.to("ana")[-1].text

        server.body = ATOM
        await poll(bot)
        server.status = 503
        await poll(bot)  # an unreachable feed changes nothing
        assert (await stored(bot))[-1] == (
            "Zombor története", "Anna Kovács", "9789630700009", "local_history", "hun",
            "https://example.org/zombor",
        )  # fmt: skip
        assert len(await stored(bot)) == 3


def test_a_feed_without_entries_or_garbage_gives_no_titles() -> None:
    assert feed.titles_of(b"not a feed at all") == []
    assert feed.titles_of(b"<rss version='2.0'><channel></channel></rss>") == []
