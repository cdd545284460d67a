"""The budget consultation's period from the municipality file: checked at load, opened on its
first day and closed after its last one by the scheduler's job, once, across restarts."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.budget.config import BudgetSection, ConsultationPeriod
from handlers.municipality import (
    Municipality,
    MunicipalityFileError,
    StaffMember,
    load_municipality,
)
from tests.conftest import VLASOTINCE, Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

PERIOD = """
[budget.consultation]
year = 2027
starts_on = 2026-10-01
ends_on = 2026-10-31
"""


def without_budget() -> str:
    """Vlasotince's file without its [budget] tables (each test writes its own)."""
    text = VLASOTINCE.read_text(encoding="utf-8")
    return text[: text.index("[budget.consultation]")]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (PERIOD.replace("2026-10-31", '"31.10.2026"'),
         "[budget.consultation]: 'ends_on' must be a date such as 2026-10-01"),
        (PERIOD.replace("2026-10-01", "2026-10-01T08:00:00"),
         "[budget.consultation]: 'starts_on' must be a date such as 2026-10-01"),
        (PERIOD.replace("2026-10-31", "2026-09-30"),
         "[budget.consultation]: 'ends_on' is before 'starts_on'"),
        (PERIOD.replace("year = 2027", "year = 2031"),
         "[budget.consultation]: 'year' must be the budget year"),
        (PERIOD.replace("year = 2027", "yaer = 2027"), "[budget.consultation]: unknown key 'yaer'"),
        ('[budget.pb]\nrule = "count"\n', "[budget.pb]: 'rule' must be \"total\" or \"projects\""),
        ('[budget.pb]\nrule = "projects"\n', "[budget.pb]: 'max_projects' must be 1 to 20"),
        ('[budget.pb]\nrule = "projects"\nmax_projects = 0\n', "'max_projects' must be 1 to 20"),
        ("[budget.pb]\nmax_projects = 3\n", "'max_projects' needs rule = \"projects\""),
    ],
)  # fmt: skip
def test_a_bad_budget_table_stops_the_start_naming_the_file_and_the_key(
    tmp_path: Path, table: str, problem: str
) -> None:
    path = tmp_path / "vlasotince.toml"
    path.write_text(without_budget() + table, encoding="utf-8")
    with pytest.raises(MunicipalityFileError, match=re.escape(problem)) as info:
        load_municipality(path)
    assert str(info.value).startswith(f"{path}: ")


def test_the_file_gives_the_period_and_the_ballot_rule(tmp_path: Path) -> None:
    path = tmp_path / "vlasotince.toml"
    path.write_text(
        without_budget() + PERIOD + '[budget.pb]\nrule = "projects"\nmax_projects = 3\n',
        encoding="utf-8",
    )
    budget = load_municipality(path).budget
    assert budget == BudgetSection(
        ConsultationPeriod(2027, date(2026, 10, 1), date(2026, 10, 31)), max_projects=3
    )
    assert load_municipality(VLASOTINCE).budget == BudgetSection(
        ConsultationPeriod(2027, date(2026, 10, 1), date(2026, 10, 31)), max_projects=None
    )


def periods(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(
            conn.execute(
                "SELECT key, budget_year, starts_at, ends_at, closed_at IS NOT NULL, closed_by"
                " FROM consultations WHERE budget_year IS NOT NULL ORDER BY id"
            )
        )
    finally:
        conn.close()


async def period_job(bot: Bot) -> int:
    app = bot.app
    job = find_job(app.deps.registry, "budget-consultation-period")
    written = await run_job(app.db, app.deps, app.sender, job)
    await app.sender.drain()
    return written


@pytest.fixture
def office_file(municipality: Municipality) -> Municipality:
    staff = (StaffMember("test", "boss", "Шеф", "admin", ()),)
    return replace(municipality, staff=staff)


async def test_the_file_period_opens_and_closes_by_itself_once_across_restarts(
    settings: Settings, office_file: Municipality, geocoder: FakeGeocoder
) -> None:
    clock = FakeClock(datetime(2026, 9, 30, 21, 0, tzinfo=UTC))  # 23:00 in Vlasotince
    channel = CollectingChannel()
    async with build_app(settings, office_file, {"test": channel}, clock=clock,
                         geocoder=geocoder) as app:  # fmt: skip
        bot = Bot(app, channel, clock)
        for user in ("boss", "mila"):
            await bot.say(user, "/start")
            await bot.say(user, Press("lang:en"))
        await bot.say("mila", Press("sub:budget"))
        await bot.play(
            "boss",
            [
                (
                    "/budget consult",
                    [
                        "Usage: /budget consult 2027 01.10.2026 31.10.2026",
                        "The municipality file sets the consultation on the 2027 budget from"
                        " 1 Oct 2026 to 31 Oct 2026; the bot opens and closes it by itself.",
                    ],
                )
            ],
        )
        assert await period_job(bot) == 0  # the day before: nothing yet
        assert periods(app.db.path) == []  # type: ignore[arg-type]
        clock.advance(hours=1)  # 1 October, 00:00 in Vlasotince
        before = len(channel.to("mila"))
        await period_job(bot)
        announcement = channel.to("mila")[before:]
        assert [r.text for r in announcement] == [
            "💰 The municipality is drafting the 2027 budget.\n"
            "Until 31 Oct 2026 you can propose what the 2027 budget should fund."
        ]
        assert channel.to("boss")[-1].text == (
            "The consultation on the 2027 budget is open until 31 Oct 2026."
        )
        await period_job(bot)  # a second run opens nothing and sends nothing
        assert len(channel.to("mila")) == before + 1
        for item in (Press(announcement[0].buttons[0][0].data), Press("bpp:0701"), "A bench",
                     Press("bpn:skip")):  # fmt: skip
            await bot.say("mila", item)
        await bot.play("mila", [(Press("bpn:send"), ["Your proposal #1 was sent"])])
        await bot.play("boss", [
            ("/budget consult 2028 01.10.2026 31.10.2026", ["already open; close it first"]),
            ("/budget consult 2027 01.10.2026 31.10.2026",
             ["The consultation on the 2027 budget runs from 1 Oct 2026 to 31 Oct 2026."]),
        ])  # fmt: skip
    # A restart during the period: the period is stored once, nothing is announced again.
    channel = CollectingChannel()
    clock.advance(days=3)
    async with build_app(settings, office_file, {"test": channel}, clock=clock,
                         geocoder=geocoder) as app:  # fmt: skip
        bot = Bot(app, channel, clock)
        assert await period_job(bot) == 0
        assert channel.sent == []
        db = app.db.path
        assert db is not None
        opened = ("budget:2027", 2027, "2026-09-30T22:00:00.000000+00:00",
                  "2026-10-31T22:59:00.000000+00:00")  # fmt: skip
        assert periods(db) == [(*opened, 0, None)]
        clock.moment = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # after the last day
        await period_job(bot)
        results = channel.to("mila")
        assert [r.text.splitlines()[:2] for r in results] == [
            ["The consultation on the 2027 budget has closed.", "Proposals sent: 1."]
        ]
        assert channel.to("boss")[-1].text.startswith(
            "The consultation on the 2027 budget has closed."
        )
        await period_job(bot)  # closed once; the file's period is not opened again
        assert len(channel.to("mila")) == 1
        assert periods(db) == [(*opened, 1, None)]


async def test_an_admin_closing_the_file_period_early_keeps_it_closed(
    settings: Settings, office_file: Municipality, geocoder: FakeGeocoder
) -> None:
    clock = FakeClock(datetime(2026, 10, 5, 9, 0, tzinfo=UTC))
    channel = CollectingChannel()
    async with build_app(settings, office_file, {"test": channel}, clock=clock,
                         geocoder=geocoder) as app:  # fmt: skip
        bot = Bot(app, channel, clock)
        await bot.say("boss", "/start")
        await bot.say("boss", Press("lang:en"))
        await period_job(bot)
        await bot.play("boss", [("/budget consult close", ["has closed", "Proposals sent: 0."])])
        clock.advance(days=1)
        assert await period_job(bot) == 0
        db = app.db.path
        assert db is not None
        assert [row[4] for row in periods(db)] == [1]


async def test_a_period_opened_by_command_is_closed_at_its_end(
    settings: Settings, office_file: Municipality, geocoder: FakeGeocoder
) -> None:
    m = replace(office_file, budget=BudgetSection())
    clock = FakeClock()
    channel = CollectingChannel()
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        await bot.say("boss", "/start")
        await bot.say("boss", Press("lang:en"))
        await bot.play("boss", [("/budget consult 2027 15.05.2026 31.05.2026", ["open until"])])
        replies = channel.to("boss")[-1].text
        assert "municipality file" not in replies
        assert await period_job(bot) == 0
        clock.moment = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
        await period_job(bot)
        assert channel.to("boss")[-1].text.startswith("The consultation on the 2027 budget has")
        db = app.db.path
        assert db is not None
        assert [(row[0], row[4]) for row in periods(db)] == [(None, 1)]
