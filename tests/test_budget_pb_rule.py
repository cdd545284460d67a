"""Participatory budgeting under the municipality file's other rule: a ballot holds up to N
projects whatever they cost (the funded ones are still those that fit the total, by votes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handlers.budget.config import BudgetSection
from handlers.municipality import Municipality, load_municipality
from tests.conftest import VLASOTINCE, Office, Press


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
