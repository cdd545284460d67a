"""The consultations' calendar files: a stable UID, SEQUENCE raised when the consultation
changes, times in Europe/Belgrade; served at /consultations/ID.ics and linked from the site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import pytest

from bot import runtime
from bot import web as public_web
from bot.app import sync_consultations
from bot.settings import Settings
from storage import consultations, opendata
from tests.conftest import VLASOTINCE, Office, OnScreen, Press, free_port


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
        yield f"http://127.0.0.1:{settings.http_port}"
    finally:
        await runner.cleanup()


async def fetch(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, answer.content_type, await answer.read()


def the_event(content: bytes) -> icalendar.cal.Component:
    calendar = icalendar.Calendar.from_ical(content)
    (event,) = calendar.walk("VEVENT")
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Belgrade"
    return event


async def test_a_consultation_has_a_calendar_file_whose_sequence_follows_its_changes(
    office: Office, served: str
) -> None:
    status, kind, content = await fetch(f"{served}/consultations/1.ics")
    assert status == 200
    assert kind == "text/calendar"
    event = the_event(content)
    assert str(event["UID"]) == "consultation-1@opstina.example.org"
    assert event["SEQUENCE"] == 0
    assert str(event["SUMMARY"]).startswith("Јавна расправа о нацрту буџета")
    start = event.decoded("DTSTART")
    assert start == datetime(2026, 12, 17, 18, 0, tzinfo=ZoneInfo("Europe/Belgrade"))
    assert str(start.tzinfo) == "Europe/Belgrade"
    assert "Велика сала" in str(event["LOCATION"])
    # The same file again: nothing changed, the same UID and SEQUENCE.
    assert the_event((await fetch(f"{served}/consultations/1.ics"))[2])["SEQUENCE"] == 0
    app = office.bot.app
    await sync_consultations(app.db, app.deps.municipality, app.deps.clock)
    assert the_event((await fetch(f"{served}/consultations/1.ics"))[2])["SEQUENCE"] == 0
    await office.staff("boss", "/minutes 1 Предлози су прихваћени.")
    after = the_event((await fetch(f"{served}/consultations/1.ics"))[2])
    assert after["SEQUENCE"] == 1
    assert str(after["UID"]) == "consultation-1@opstina.example.org"
    assert "Предлози су прихваћени." in str(after["DESCRIPTION"])
    assert (await fetch(f"{served}/consultations/99.ics"))[0] == 404
    status, _, page = await fetch(f"{served}/")
    assert 'href="/consultations/1.ics"' in page.decode()


async def test_a_correction_in_the_municipality_file_raises_the_sequence(office: Office) -> None:
    app = office.bot.app
    c = app.deps.municipality.consultations[0]
    corrected = consultations.NewConsultation(
        c.title, c.description, c.starts_at, c.ends_at, "Дом културе", c.link, key=c.key
    )
    async with app.db.transaction() as conn:
        await consultations.create(conn, corrected, None, app.deps.clock.now())
    assert await opendata.revision_of(app.db.reader, 1) == 1


async def test_the_announcement_and_the_consultation_in_chat_link_the_calendar_file(
    office: Office, served: str
) -> None:
    await office.bot.say("ana", "/start")
    await office.bot.say("ana", Press("lang:en"))
    await office.bot.say("ana", Press("sub:consultations"))
    await office.staff("boss", "/consult announce 1")
    await office.bot.say("boss", OnScreen("cwiz:ok"))
    announced = office.bot.channel.to("ana")[-1]
    link = "https://opstina.example.org/consultations/1.ics"
    assert f"📅 Add to calendar: {link}" in announced.text
    (more,) = [b.data for row in announced.buttons for b in row]
    shown = await office.bot.say("ana", Press(more))
    assert f"📅 Add to calendar: {link}" in shown[0].text
    # The link is the file the web server serves (reached here on loopback).
    status, kind, content = await fetch(link.replace("https://opstina.example.org", served))
    assert (status, kind) == (200, "text/calendar")
    event = the_event(content)
    assert str(event["UID"]) == "consultation-1@opstina.example.org"
    assert str(event["SUMMARY"]).startswith("Јавна расправа о нацрту буџета")


async def test_a_budget_consultations_calendar_and_site_entry_are_in_the_readers_language(
    office: Office, served: str
) -> None:
    """Its title, description and place are the bot's own texts: stored in the staff's language
    (Serbian here), shown in the reader's (the file's ?lang=, the site page's language)."""
    await office.bot.say("boss", "/budget consult 2027 17.05.2026 31.05.2026")
    english = the_event((await fetch(f"{served}/consultations/2.ics?lang=en"))[2])
    assert str(english["SUMMARY"]) == "Proposals for the 2027 budget"
    assert str(english["DESCRIPTION"]).startswith("Propose what the 2027 budget should fund")
    assert str(english["LOCATION"]) == "Vlasotince"
    latin = the_event((await fetch(f"{served}/consultations/2.ics?lang=sr-Latn"))[2])
    assert str(latin["SUMMARY"]) == "Predlozi za budžet za 2027. godinu"
    plain = the_event((await fetch(f"{served}/consultations/2.ics"))[2])
    assert str(plain["SUMMARY"]) == "Предлози за буџет за 2027. годину"
    page = (await fetch(f"{served}/?lang=en"))[2].decode()
    assert "Proposals for the 2027 budget" in page
    assert "Предлози за буџет" not in page
    assert 'href="/consultations/2.ics?lang=en"' in page
