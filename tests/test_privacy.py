"""/privacy in every language, /mydata, /deleteme refused or declined, evidence, retention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.i18n import LANGUAGES, translator
from handlers.municipality import Municipality, load_municipality
from handlers.privacy import STORED, WHY, months_before
from storage import privacy, reports, users
from tests.conftest import REF, ROOT, Bot, Office, Press, read_export
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

CONFIGS = sorted((ROOT / "config").glob("*.toml"))


def photo_files(bot: Bot) -> list[Path]:
    db = bot.app.db.path
    assert db is not None
    return sorted((db.parent / "photos").rglob("*.jpg"))


@pytest.fixture
async def polyglot(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    """The bot of a municipality that offers every language there is a catalog for."""
    channel = CollectingChannel()
    m = replace(municipality, languages=tuple(LANGUAGES))
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        yield Bot(app, channel, clock)


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_privacy_names_the_controller_in_every_language(polyglot: Bot, language: str) -> None:
    bot = polyglot
    await bot.say("ana", "/start")
    await bot.say("ana", Press(f"lang:{language}"))
    notice = (await bot.say("ana", "/privacy"))[0].text
    p = bot.app.deps.municipality.privacy
    assert p is not None
    t = translator(language)
    assert p.email in notice
    assert t.name(p.address) in notice
    assert t.name(p.controller) in notice
    assert "24" in notice
    assert "14" in notice
    assert "/mydata" in notice
    assert "/deleteme" in notice
    english = "What is stored"
    assert (english in notice) == (language == "en")
    for stored in STORED.values():  # followed reports, proposals, ballots, ...: all of them
        assert t.gettext(stored) in notice
    for why in WHY.values():  # the legal basis of proposals, ballots and plan questions
        assert t.gettext(why) in notice
    assert len(notice) <= 4096  # Telegram's limit of one message


async def test_privacy_says_why_proposals_ballots_and_plan_questions_are_kept(bot: Bot) -> None:
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    await bot.play("ana", [
        ("/privacy", [
            "Why your comments on consultations and your budget proposals: for the municipality",
            "Why your participatory budget ballots: to count one ballot per resident",
            "Why your questions on the action plan and to the Centre for Social Work:",
        ]),
    ])  # fmt: skip


async def test_the_notice_names_what_mydata_exports(office: Office) -> None:
    await office.report_leak()
    ana = await users.load_conversation(office.bot.app.db.conn, "test", "ana")
    assert ana is not None
    exported = await privacy.personal_data(office.bot.app.db.conn, ana.user.id)
    assert list(STORED) == list(exported)
    assert set(STORED) == {"user", *privacy.EXPORTED.values()}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_municipality_file_names_its_controller(path: Path) -> None:
    p = load_municipality(path).privacy
    assert p is not None
    assert "@" in p.email
    assert p.retention_months > 0


async def test_mydata_sends_everything_readable_and_as_json(office: Office) -> None:
    await office.report_leak()
    await office.bot.say("ana", "/subscribe")
    await office.bot.say("ana", Press("rep:1"))
    await office.bot.say("ana", Press("cm:1"))
    await office.bot.say("ana", "It got worse overnight.")
    replies = await office.bot.say("ana", "/mydata")
    assert "as JSON" in replies[0].text
    readable, exported = read_export(office.bot, replies)
    assert "Name: Ana" in readable
    assert REF in readable
    assert "Water is gushing from a pipe on the corner" in readable
    assert "It got worse overnight." in readable
    assert exported["user"]["id"] == "ana"
    assert exported["user"]["first_name"] == "Ana"
    assert exported["reports"][0]["ref"] == REF
    assert exported["reports"][0]["photos"][0].startswith("photos/")
    assert exported["report_messages"][0]["text"] == "It got worse overnight."


async def test_deleteme_no_keeps_everything_and_staff_are_refused(office: Office) -> None:
    await office.report_leak()
    await office.bot.say("ana", "/deleteme")
    kept = await office.bot.say("ana", Press("erase:no"))
    assert "Nothing was erased." in kept[0].text
    stale = await office.bot.say("ana", Press("erase:yes"))  # the question is gone
    assert "erased" not in stale[0].text.replace("Nothing was erased", "")
    stored = await reports.find_by_ref(office.bot.app.db.conn, REF)
    assert stored is not None
    assert stored.description.startswith("Water is gushing")
    refused = await office.staff("vesna", "/deleteme")
    assert "removed by an admin" in refused[0]


async def test_evidence_photos_survive_the_erasure(office: Office) -> None:
    await office.report_leak()
    assert "only" in (await office.staff("ana", f"/evidence {REF}"))[0]  # residents may not
    assert "kept as evidence" in (await office.staff("vesna", f"/evidence {REF}"))[0]
    await office.bot.say("ana", "/deleteme")
    told = await office.bot.say("ana", Press("erase:yes"))
    assert "marked them as evidence" in told[0].text
    assert len(photo_files(office.bot)) == 1
    stored = await reports.find_by_ref(office.bot.app.db.conn, REF)
    assert stored is not None
    assert stored.description == ""
    assert len(stored.photo_paths) == 1


async def test_retention_erases_reports_ended_long_ago(office: Office) -> None:
    app = office.bot.app
    await office.report_leak()
    await office.staff("vesna", f"/reject {REF} Not ours.")
    retention = find_job(app.deps.registry, "privacy-retention")
    office.bot.clock.advance(days=30 * 23)
    await run_job(app.db, app.deps, app.sender, retention)
    stored = await reports.find_by_ref(app.db.conn, REF)
    assert stored is not None
    assert stored.description.startswith("Water is gushing")
    office.bot.clock.advance(days=62)
    await run_job(app.db, app.deps, app.sender, retention)
    stored = await reports.find_by_ref(app.db.conn, REF)
    assert stored is not None
    assert stored.description == ""
    assert stored.photo_paths == ()
    assert stored.status == "rejected"
    assert stored.category == "water_sewage"
    assert photo_files(office.bot) == []
    # The resident is still a user of the bot; the report is no longer theirs.
    mine = (await office.bot.say("ana", Press("menu:mine")))[0].text
    assert REF not in mine


def test_months_before_keeps_to_the_calendar() -> None:
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(2024, 1, 15, tzinfo=UTC)
