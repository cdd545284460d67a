"""Participatory budgeting under the municipality file's other rule: a ballot holds up to N
projects whatever they cost (the funded ones are still those that fit the total, by votes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.app import build_app
from bot.settings import Settings
from handlers.budget.config import BudgetSection
from handlers.municipality import Municipality, StaffMember, load_municipality
from tests.conftest import VLASOTINCE, Bot, Office, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder


@pytest.fixture
def municipality() -> Municipality:
    """Vlasotince with ``[budget.pb] rule = "projects", max_projects = 2``."""
    m = load_municipality(VLASOTINCE)
    return replace(m, budget=BudgetSection(m.budget.consultation if m.budget else None, 2))


async def test_a_ballot_holds_up_to_n_projects_whatever_they_cost(office: Office) -> None:
    bot = office.bot
    for line in (
        "/pb new 10.000.000 Mesna zajednica 2027",
        "/pb add 6.000.000 Playground",
        "/pb add 8.000.000 Street lights",
        "/pb add 2.500.000 Bus shelter",
        "/pb open",
    ):
        await bot.say("boss", line)  # fmt: skip
    await bot.play(
        "mila",
        [
            (Press("pbb:1"), ["Choose up to 2 projects; you can change", "Chosen: 0 of 2."]),
            (Press("pbt:1:1"), ["On your ballot: Playground.", "Chosen: 1 of 2."]),
            # 14 million of a 10 million total: the rule counts projects, not dinars.
            (Press("pbt:1:2"), ["On your ballot: Street lights.", "Chosen: 2 of 2."]),
            (
                Press("pbt:1:3"),
                [
                    "A ballot holds at most 2 projects; take one off before you choose Bus"
                    " shelter.",
                    "Chosen: 2 of 2.",
                ],
            ),
            (Press("pbt:1:1"), ["Taken off your ballot: Playground.", "Chosen: 1 of 2."]),
            (Press("pbt:1:3"), ["On your ballot: Bus shelter.", "Chosen: 2 of 2."]),
        ],
    )  # fmt: skip
    for press in ("pbb:1", "pbt:1:1"):
        await bot.say("vesna", Press(press))
    await bot.say("petar", Press("pbb:1"))
    await bot.say("petar", Press("pbt:1:2"))
    # Funded by votes while the total lasts: the lights (2); then 2.0 million is left.
    await bot.play(
        "boss",
        [
            (
                "/pb close",
                [
                    "✅ Street lights (8.0 million dinars): votes: 2\n"
                    "▫️ Bus shelter (2.5 million dinars): votes: 1\n"
                    "▫️ Playground (6.0 million dinars): votes: 1\n"
                    "✅ funded: 8.0 million dinars of 10.0 million dinars."
                ],
            )
        ],
    )


async def test_an_open_round_keeps_its_rule_when_the_file_changes(
    settings: Settings, clock: FakeClock, geocoder: FakeGeocoder
) -> None:
    """Voting opens under "total" (config/vlasotince.toml); the file then says "up to 1 project"
    and the bot restarts: the open round still takes projects within its total. The next round
    takes the new rule."""
    staff = (StaffMember("test", "boss", "Шеф", "admin", ()),)
    by_total = replace(load_municipality(VLASOTINCE), staff=staff)
    assert by_total.budget is not None
    assert by_total.budget.max_projects is None
    by_count = replace(by_total, budget=BudgetSection(None, 1))
    channel = CollectingChannel()
    async with build_app(settings, by_total, {"test": channel}, clock=clock,
                         geocoder=geocoder) as app:  # fmt: skip
        bot = Bot(app, channel, clock)
        for item in (
            "/start",
            Press("lang:en"),
            "/pb new 10.000.000 Mesna zajednica 2027",
            "/pb add 6.000.000 Playground",
            "/pb add 2.500.000 Bus shelter",
            "/pb open",
        ):
            await bot.say("boss", item)  # fmt: skip
        await bot.say("mila", "/start")
        await bot.say("mila", Press("lang:en"))
        await bot.play("mila", [(Press("pbt:1:1"), ["On your ballot: Playground."])])
    async with build_app(settings, by_count, {"test": channel}, clock=clock,
                         geocoder=geocoder) as app:  # fmt: skip
        bot = Bot(app, channel, clock)
        await bot.play(
            "mila",
            [
                (
                    Press("pbt:1:2"),
                    ["On your ballot: Bus shelter.", "Chosen: 8.5 million dinars of 10.0 million"],
                ),
            ],
        )
        await bot.say("boss", "/pb close")
        for item in ("/pb new 5.000.000 Mesna zajednica 2028", "/pb add 1.000.000 Bench",
                     "/pb add 1.000.000 Fountain", "/pb open"):  # fmt: skip
            await bot.say("boss", item)
        await bot.play(
            "mila",
            [
                (Press("pbt:2:3"), ["On your ballot: Bench.", "Chosen: 1 of 1."]),
                (Press("pbt:2:4"), ["A ballot holds at most 1 project"]),
            ],
        )
