"""/deleteme: after a whole report, comments, an answer and the erasure, nothing of the resident is
left in the database file, the photo folder or the log output; the report stays, anonymised."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_app
from bot.logs import CHATTY
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.i18n import translator
from handlers.municipality import Municipality, StaffMember
from storage import privacy
from tests.conftest import (
    REF,
    WATER_CHAT,
    Bot,
    DialogInput,
    Office,
    Picture,
    Pin,
    Press,
    jpeg,
    read_export,
)
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

RESIDENT = "radmila77310"  # the resident's messenger id and chat id
NAME = RESIDENT.title()  # the first name the messenger gives
DESCRIPTION = "Curi voda iz cevi kod kapije Radmilinog dvorista"
COMMENT = "Voda i dalje curi, jace nego juce uvece"
ANSWER = "Bistra je, ali tece bez prestanka"
CONSULTATION_COMMENT = "Predlazem novu cesmu kod skole u Donjem Dejanu"
TOKENS = (RESIDENT, NAME, DESCRIPTION, COMMENT, ANSWER, CONSULTATION_COMMENT)


def haystacks(data_dir: Path) -> dict[str, bytes]:
    """Every file of the data folder (the database and whatever SQLite left beside it, photos)."""
    return {
        str(p.relative_to(data_dir)): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()
    }


def users_tables(db: Path) -> set[tuple[str, str]]:
    """Every column of the schema that refers to the users table."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            (table, str(fk[3]))
            for table in tables
            for fk in conn.execute(f"PRAGMA foreign_key_list({table})")
            if fk[2] == "users"
        }


async def whole_life(office: Office) -> None:
    """A report with a photo, a comment, a photo comment, an answer, a consultation comment."""
    bot = office.bot
    life: list[DialogInput] = [
        "/start", Press("lang:en"), Press("menu:report"), Press("cat:water_sewage"),
        DESCRIPTION, Picture(jpeg("navy", (70, 50))), Press("photos:done"),
        Pin(42.9661, 22.1290), Press("sum:confirm"),
        Press("rep:1"), Press("cm:1"), COMMENT,
        Press("rep:1"), Press("cm:1"), Picture(jpeg("teal", (72, 52))),
    ]  # fmt: skip
    for item in life:
        await bot.say(RESIDENT, item)
    await office.staff("vesna", f"/ask {REF} Is the water brown or clear?")
    answered = await bot.say(RESIDENT, ANSWER)
    assert "your answer was added" in answered[0].text
    await office.staff("vesna", f"/reply {REF} A crew is on its way.")
    conn = bot.app.db.conn
    async with bot.app.db.transaction():
        await conn.execute(
            "INSERT INTO consultation_comments (consultation_id, user_id, text, at)"
            " SELECT (SELECT min(id) FROM consultations), id, ?, '2026-03-02T10:00:00+00:00'"
            " FROM users WHERE external_id = ?",
            (CONSULTATION_COMMENT, RESIDENT),
        )
    await bot.say(RESIDENT, "/subscribe")


async def test_deleteme_leaves_nothing_of_the_resident(
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Our loggers at DEBUG, the libraries at WARNING: as bot.logs.configure sets them up.
    caplog.set_level(logging.DEBUG)
    for name in CHATTY:
        caplog.set_level(logging.WARNING, logger=name)
    staff = (
        StaffMember("test", "boss", "Шеф", "admin", ()),
        StaffMember("test", "vesna", "Весна", "operator", ("water",)),
    )
    residents, chats, mail = (
        CollectingChannel("test"), CollectingChannel("telegram"), CollectingChannel("email")
    )  # fmt: skip
    channels = {"test": residents, "telegram": chats, "email": mail}
    m = replace(municipality, staff=staff)
    async with build_app(settings, m, channels, clock=clock, geocoder=geocoder) as app:
        office = Office(Bot(app, residents, clock), chats, mail)
        for user in ("boss", "vesna"):
            await office.bot.say(user, "/start")
            await office.bot.say(user, Press("lang:en"))
        await whole_life(office)
        before = haystacks(settings.data_dir)
        photos_before = [k for k in before if k.startswith("photos")]
        assert len(photos_before) == 2  # the report's photo and the comment's
        shown, _ = read_export(office.bot, await office.bot.say(RESIDENT, "/mydata"))
        for token in (NAME, DESCRIPTION, COMMENT, ANSWER, CONSULTATION_COMMENT):
            assert token in shown

        asked = await office.bot.say(RESIDENT, "/deleteme")
        assert [b.data for row in asked[-1].buttons for b in row] == ["erase:yes", "erase:no"]
        told = await office.bot.say(RESIDENT, Press("erase:yes"))
        assert "Your personal data is erased." in told[0].text
        assert "1 report stays" in told[0].text
        # The staff chat's card is edited: no name, no description any more.
        chat, _, card = chats.edits[-1]
        assert chat == WATER_CHAT
        assert card.key == "card:1"
        assert translator(m.staff_language).gettext("anonymous") in card.text
        assert NAME not in card.text
        assert DESCRIPTION not in card.text
        await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "privacy-erasures"))
        row = await (await app.db.conn.execute(
            "SELECT description, address, anonymous, anonymised_at FROM reports WHERE ref = ?",
            (REF,),
        )).fetchone()  # fmt: skip
        assert row is not None
        assert row[0] == ""
        assert row[1] is None
        assert row[2] == 1
        assert row[3]
        db_path = settings.data_dir / "bot.db"
    after = haystacks(settings.data_dir)
    assert not [k for k in after if k.startswith("photos") and k.endswith(".jpg")]
    assert "bot.db" in after
    logs = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for token in TOKENS:
        needle = token.encode()
        assert needle in b"".join(before.values()), f"{token!r} was never stored: a blind search"
        found = [name for name, content in after.items() if needle in content]
        assert not found, f"{token!r} is still in {found}"
        assert token not in logs
    # The report itself stays for the statistics, with its category, service and place.
    with sqlite3.connect(db_path) as conn:
        kept = conn.execute("SELECT category, service, latitude FROM reports").fetchall()
    assert kept == [("water_sewage", "water", 42.9661)]


async def test_every_column_that_points_at_a_user_is_covered(bot: Bot) -> None:
    db = bot.app.db.path
    assert db is not None
    missing = users_tables(db) - set(privacy.USER_COLUMNS)
    assert not missing, (
        f"{sorted(missing)} refer to users: say in storage/privacy.USER_COLUMNS what an erasure"
        " does with them (and make erase_user do it)"
    )
