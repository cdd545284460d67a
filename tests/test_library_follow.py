"""Following subjects, authors and languages: the switches, and the digest of what matches (one a
week at most, across a restart) or each title as it arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.events import Reply
from handlers.municipality import Municipality
from tests.conftest import Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.library_records import iso2709, unimarc
from tests.test_library_residents import import_records, start

DRINA = unimarc("На Дрини ћуприја", "Андрић", "Иво", isbn="978-86-521-4023-7")
KIS = unimarc("Rani jadi", "Kiš", "Danilo", udc="821.163.41-93")
MATH = unimarc("Линеарна алгебра", "Мићић", "Мика", udc="512.64")
PESCANIK = unimarc("Peščanik", "Kiš", "Danilo", udc="821.163.41-31")
ZOMBOR = unimarc("Zombor története", "Kovács", "Anna", udc="908", language="hun")
SUNDAY = datetime(2026, 5, 17, 9, 0, tzinfo=UTC)  # ISO week 2026-W20


async def digest(bot: Bot) -> int:
    """Run the library's digest job once; the messages it wrote (delivered)."""
    app = bot.app
    written = await run_job(
        app.db, app.deps, app.sender, find_job(app.deps.registry, "library-digest")
    )
    await app.sender.drain()
    return written


def buttons(replies: list[Reply]) -> list[str]:
    return [b.label for r in replies for row in r.buttons for b in row]


async def test_follow_subjects_languages_and_authors_with_switches(bot: Bot) -> None:
    await start(bot, "ana")
    await bot.play(
        "ana",
        [
            (Press("menu:library"), ["[⭐ Follow subjects, authors, languages]"]),
            (
                Press("lib:follow"),
                ["Choose the subjects", "[⬜ Children's books]", "[🔘 Weekly digest]"],
            ),
            (Press("libf:subject:children"), ["[✅ Children's books]", "[⬜ Fiction and poetry]"]),
            (Press("libf:language:hun"), ["[✅ Hungarian]"]),
            (Press("libf:subject:nonsense"), ["Please choose one of the library's options."]),
            (Press("lib:author"), ["Write the author's name"]),
            ("Данило Киш", ["You follow Данило Киш.", "[✅ Данило Киш]"]),
            (Press("lib:author"), ["Write the author's name"]),
            ("kis   danilo", ["You follow kis danilo."]),  # the same author: not added twice
            (Press("lib:follow"), ["Choose the subjects", "[✍️ Authors I follow (1)]"]),
            (Press("libm:instant"), ["[🔘 As they arrive]", "[⚪ Weekly digest]"]),
            (Press("libm:never"), ["Please choose one of the library's options."]),
        ],
    )  # fmt: skip
    assert "⬜ Children's books" in buttons(await bot.say("ana", Press("libf:subject:children")))
    shown = buttons(await bot.say("ana", Press("lib:authors")))
    assert [b for b in shown if "Киш" in b or "kis" in b] == ["✅ Данило Киш"]
    unfollow = next(
        b.data for r in await bot.say("ana", Press("lib:authors")) for row in r.buttons for b in row
        if b.label == "✅ Данило Киш"
    )  # fmt: skip
    assert "Данило Киш" not in buttons(await bot.say("ana", Press(unfollow)))
    assert "Please choose" in (await bot.say("ana", Press(unfollow)))[0].text  # pressed again


@asynccontextmanager
async def running_bot(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    channel = CollectingChannel()
    async with build_app(
        settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder
    ) as app:
        yield Bot(app, channel, clock)


async def test_the_weekly_digest_is_sent_once_a_week_across_a_restart(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    clock = FakeClock(SUNDAY)
    async with running_bot(settings, municipality, clock, geocoder) as bot:
        await import_records(bot, iso2709(MATH))  # before ana follows anything: never sent
        await start(bot, "ana")
        await start(bot, "ben")  # follows nothing
        await bot.say("ana", Press("libf:subject:children"))
        await bot.say("ana", Press("lib:author"))
        await bot.say("ana", "Ivo Andrić")
        await import_records(
            bot, iso2709(DRINA, KIS, unimarc("Геометрија", "Мићић", "Мика", udc="514"))
        )
        before = len(bot.channel.to("ana"))

        assert await digest(bot) == 1
        assert await digest(bot) == 0
        (sent,) = bot.channel.to("ana")[before:]
        assert sent.text.startswith("📚 New in the library for you:")
        assert "На Дрини ћуприја" in sent.text
        assert "Rani jadi" in sent.text
        assert "Геометрија" not in sent.text
        assert "Линеарна" not in sent.text
        assert bot.channel.to("ben")[-1].text != sent.text

        await import_records(bot, iso2709(unimarc("Бајке", "Бајкић", "Баја", udc="821-93")))
        assert await digest(bot) == 0  # this week's digest went out

    async with running_bot(settings, municipality, clock, geocoder) as bot:
        assert await digest(bot) == 0  # a restart changes nothing
        clock.moment = datetime(2026, 5, 18, 6, 30, tzinfo=UTC)  # Monday 08:30 in Belgrade
        assert await digest(bot) == 0
        clock.moment = datetime(2026, 5, 18, 7, 30, tzinfo=UTC)  # Monday 09:30
        assert await digest(bot) == 1
        assert await digest(bot) == 0
        assert "Бајке" in bot.channel.to("ana")[-1].text
        assert "Rani jadi" not in bot.channel.to("ana")[-1].text


async def test_as_they_arrive_each_import_that_matches_is_told(bot: Bot) -> None:
    bot.clock.moment = SUNDAY
    await start(bot, "ana")
    await bot.say("ana", Press("libf:language:hun"))
    await bot.say("ana", Press("libm:instant"))
    await start(bot, "ben")
    await bot.say("ben", Press("lib:author"))
    await bot.say("ben", "Kiš, Danilo")

    await import_records(bot, iso2709(ZOMBOR, KIS))
    assert await digest(bot) == 2
    assert "Zombor története" in bot.channel.to("ana")[-1].text
    assert "Rani jadi" not in bot.channel.to("ana")[-1].text
    assert "Rani jadi" in bot.channel.to("ben")[-1].text  # weekly: the first digest this week

    bot.clock.advance(hours=1)
    await import_records(
        bot, iso2709(unimarc("Magyar versek", "Nagy", "Éva", language="hun"), PESCANIK)
    )
    assert await digest(bot) == 1  # ana again; ben had this week's digest
    assert "Magyar versek" in bot.channel.to("ana")[-1].text
    bot.clock.advance(days=1)  # Monday 11:00 in Belgrade: ben's next digest
    assert await digest(bot) == 1
    assert "Peščanik" in bot.channel.to("ben")[-1].text
