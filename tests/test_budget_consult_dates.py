"""An admin changes the dates of the budget consultation not closed yet (`/budget consult YEAR
FROM TO` again, for the same year): once it has started only its last day can change; the
period's end job follows the new dates; the change is in the budget's history."""

from __future__ import annotations

import json

from bot.scheduler import find_job, run_job
from tests.conftest import Office, Press
from tests.test_budget_audit import CONSULT, db_of, entries


async def end_job(office: Office) -> None:
    app = office.bot.app
    await run_job(
        app.db, app.deps, app.sender, find_job(app.deps.registry, "budget-consultation-period")
    )


async def test_an_open_consultation_gets_a_later_last_day_and_closes_on_it(office: Office) -> None:
    bot = office.bot
    await bot.say("boss", CONSULT)  # 17 May to 31 May 2026, open since this morning
    before = len(entries(db_of(office)))
    await bot.play(
        "boss",
        [
            (
                "/budget consult 2027 20.05.2026 10.06.2026",
                ["The consultation on the 2027 budget opened on 17 May 2026; only its last day"
                 " can change now."],
            ),
            (
                "/budget consult 2027 17.05.2026 10.06.2026",
                ["The consultation on the 2027 budget runs from 17 May 2026 to 10 Jun 2026."],
            ),
            (  # the same dates again: nothing to change, nothing audited
                "/budget consult 2027 17.05.2026 10.06.2026",
                ["The consultation on the 2027 budget runs from 17 May 2026 to 10 Jun 2026."],
            ),
            ("/budget consult 2027 17.05.2026 16.05.2026", ["The period must end in the future"]),
            ("/budget consult 2028 17.05.2026 10.06.2026", ["A consultation on the budget is"
                                                             " already open; close it first."]),
            ("/budget consult", ["(for the open one: its new dates)"]),
        ],
    )  # fmt: skip
    written = entries(db_of(office))[before:]
    assert [(w[0], w[1], w[2], json.loads(w[4])) for w in written] == [
        ("boss", "consultation_changed", "consultation", {
            "year": 2027, "starts": "2026-05-17", "ends": "2026-06-10",
            "old_starts": "2026-05-17", "old_ends": "2026-05-31",
        }),
    ]  # fmt: skip
    await bot.play("mila", [(Press("menu:budget"), ["Until 10 Jun 2026 you can propose"])])
    history = (await bot.say("boss", "/budget history"))[-1].text
    assert (
        "Boss: changed the dates of the consultation on the 2027 budget: 17 May 2026 – 31 May"
        " 2026 → 17 May 2026 – 10 Jun 2026"
    ) in history
    # The old last day has passed: still open, by the new dates.
    bot.clock.advance(days=16)
    await end_job(office)
    await bot.play("mila", [(Press("menu:budget"), ["Until 10 Jun 2026 you can propose"])])
    bot.clock.advance(days=10)
    await end_job(office)
    assert [e[1] for e in entries(db_of(office))][-1] == "consultation_closed"


async def test_a_consultation_not_started_yet_can_move_both_dates(office: Office) -> None:
    bot = office.bot
    await bot.play(
        "boss",
        [
            ("/budget consult 2027 01.06.2026 15.06.2026", ["The consultation on the 2027 budget"
                                                             " is open until 15 Jun 2026."]),
            ("/budget consult 2027 03.06.2026 20.06.2026", ["The consultation on the 2027 budget"
                                                             " runs from 3 Jun 2026 to 20 Jun"
                                                             " 2026."]),
        ],
    )  # fmt: skip
    detail = json.loads(entries(db_of(office))[-1][4])
    assert (detail["old_starts"], detail["starts"], detail["ends"]) == (
        "2026-06-01", "2026-06-03", "2026-06-20",
    )  # fmt: skip
    # Only staff change it.
    await bot.play("mila", [("/budget consult 2027 01.06.2026 01.07.2026",
                             ["This is for municipal staff only"])])  # fmt: skip
