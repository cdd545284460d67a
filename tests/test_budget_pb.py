"""Participatory budgeting: admins publish a shortlist with costs and a total, residents vote
within the total (one ballot per account, changeable until voting closes), staff add paper
ballots, and the results go to everyone who voted and to the budget's followers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import Office, Press

RESULTS = (
    "🗳 The results of Mesna zajednica 2027:\n"
    "✅ Playground in the park (6.0 million dinars): votes: 12\n"
    "✅ Bus shelter (2.5 million dinars): votes: 2\n"
    "▫️ New street lights (8.0 million dinars): votes: 1\n"
    "✅ funded: 8.5 million dinars of 10.0 million dinars."
)


def ballots(db: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(db)
    try:
        return [
            (str(r[0]), int(r[1]))
            for r in conn.execute(
                "SELECT u.chat_id, v.project_id FROM pb_votes v JOIN users u ON u.id = v.user_id"
                " ORDER BY u.chat_id, v.project_id"
            )
        ]
    finally:
        conn.close()


def ballot_buttons(office: Office, user: str) -> list[str]:
    last = office.bot.channel.to(user)[-1]
    return [b.label for row in last.buttons for b in row]


async def test_a_round_from_shortlist_to_results(office: Office) -> None:
    bot = office.bot
    await bot.say("petar", Press("menu:notify"))
    await bot.say("petar", Press("sub:budget"))
    await bot.play(
        "boss",
        [
            ("/pb open", ["Prepare a round with its projects first."]),
            ("/pb new 10.000.000 Mesna zajednica 2027", ["Prepared: Mesna zajednica 2027"]),
            ("/pb new 5.000.000 Another", ["A round is already under way"]),
            ("/pb add 6.000.000 Playground in the park", ["Project #1 added"]),
            ("/pb add 8.000.000 New street lights", ["Project #2 added"]),
            ("/pb add 2.500.000 Bus shelter", ["Project #3 added"]),
            ("/pb add 12.000.000 Too dear", ["A project costs at most the total"]),
            ("/pb paper 1 10", ["Usage: /pb new TOTAL TITLE"]),  # not open yet
            ("/pb open", ["Sending: 0 / 1", "Voting is open."]),
            ("/pb add 1.000.000 Late", ["Projects are added to a prepared round"]),
        ],
    )
    assert bot.channel.to("petar")[-1].text.startswith("🗳 Voting has opened: Mesna zajednica")
    overview = (await bot.say("mila", Press("menu:budget")))[0]
    vote = next(b.data for row in overview.buttons for b in row if b.label.startswith("🗳"))
    await bot.play(
        "mila",
        [
            (Press(vote), ["Choose projects worth 10.0 million dinars at most", "Chosen: 0.0"]),
            (Press("pbt:1:1"), ["On your ballot: Playground in the park.", "Chosen: 6.0"]),
            (
                Press("pbt:1:2"),
                [
                    "New street lights costs 8.0 million dinars, and 4.0 million dinars of the"
                    " total is left; take another project off first.",
                    "Chosen: 6.0",
                ],
            ),
            (Press("pbt:1:1"), ["Taken off your ballot: Playground in the park."]),
            (Press("pbt:1:2"), ["On your ballot: New street lights."]),
            (Press("pbt:1:3"), ["Bus shelter costs 2.5 million dinars, and 2.0 million dinars"]),
            # Changing the ballot: the lights off, the playground and the shelter on.
            (Press("pbt:1:2"), ["Taken off your ballot: New street lights."]),
            (Press("pbt:1:1"), ["On your ballot: Playground in the park."]),
            (Press("pbt:1:3"), ["On your ballot: Bus shelter.", "Chosen: 8.5 million dinars"]),
        ],
    )
    assert ballot_buttons(office, "mila")[:3] == [
        "✅ Playground in the park (6.0 million dinars)",
        "⬜ New street lights (8.0 million dinars)",
        "✅ Bus shelter (2.5 million dinars)",
    ]
    await bot.play("mila", [(Press("pbt:1:9"), ["Please choose one of the options below."])])
    await bot.say("vesna", Press(vote))
    await bot.say("vesna", Press("pbt:1:2"))
    db = bot.app.db.path
    assert db is not None
    # One ballot per account: the key of the table, whatever is pressed twice.
    assert ballots(db) == [("mila", 1), ("mila", 3), ("vesna", 2)]
    await bot.play(
        "boss",
        [
            ("/pb paper 1 11", ["Added 11 paper votes to #1 Playground in the park."]),
            ("/pb paper 3 1", ["Added 1 paper votes to #3"]),
            ("/pb paper 9 1", ["Usage: /pb new TOTAL TITLE"]),
            ("/pb", ["#1 Playground in the park (6.0 million dinars): 12", "voting is open"]),
        ],
    )
    await bot.play("mila", [("/pb close", ["This is for municipal staff only"])])
    before = {user: len(bot.channel.to(user)) for user in ("mila", "vesna", "petar")}
    await bot.play("boss", [("/pb close", ["Sending: 0 / 3", RESULTS])])
    news = {user: [r.text for r in bot.channel.to(user)[n:]] for user, n in before.items()}
    assert news == {"mila": [RESULTS], "vesna": [RESULTS], "petar": [RESULTS]}
    await bot.play("mila", [(Press("pbt:1:2"), ["Voting on these projects is not open."])])
    assert ballots(db) == [("mila", 1), ("mila", 3), ("vesna", 2)]
    await bot.play("boss", [("/pb close", ["No voting is open."])])


async def test_a_mistyped_paper_count_is_set_right_never_below_zero_while_voting(
    office: Office,
) -> None:
    """A clerk typed 110 for 11: ``=11`` sets the paper count, ``-N`` takes votes back; the
    results count the corrected number; after the close nothing changes any more."""
    bot = office.bot
    for line in ("/pb new 10.000.000 Mesna zajednica 2027", "/pb add 6.000.000 Playground",
                 "/pb add 2.500.000 Bus shelter", "/pb open"):  # fmt: skip
        await bot.say("boss", line)
    await bot.say("mila", Press("pbb:1"))
    await bot.say("mila", Press("pbt:1:1"))
    await bot.play(
        "boss",
        [
            ("/pb paper 1 110", ["Added 110 paper votes to #1 Playground."]),
            ("/pb", ["#1 Playground (6.0 million dinars): 111"]),
            ("/pb paper 1 =11", ["Paper votes of #1 Playground corrected: 110 → 11."]),
            ("/pb", ["#1 Playground (6.0 million dinars): 12"]),
            ("/pb paper 1 =11", ["#1 Playground already has 11 paper votes; nothing changed."]),
            (
                "/pb paper 1 -12",
                ["#1 Playground has 11 paper votes; a correction cannot take it below zero."],
            ),
            ("/pb paper 2 -1", ["#2 Bus shelter has 0 paper votes; a correction cannot take"]),
            ("/pb paper 1 -1", ["Paper votes of #1 Playground corrected: 11 → 10."]),
            ("/pb paper 1 =x", ["Usage: /pb new TOTAL TITLE"]),
            ("/pb paper 1 =0", ["Paper votes of #1 Playground corrected: 10 → 0."]),
            ("/pb paper 1 +3", ["Usage: /pb new TOTAL TITLE"]),
            ("/pb paper 2 4", ["Added 4 paper votes to #2 Bus shelter."]),
            (
                "/pb",
                ["#1 Playground (6.0 million dinars): 1", "#2 Bus shelter (2.5 million dinars): 4"],
            ),
            ("/pb paper 1 =3", ["Paper votes of #1 Playground corrected: 0 → 3."]),
            (
                "/pb close",
                [
                    "Playground (6.0 million dinars): votes: 4",
                    "Bus shelter (2.5 million dinars): votes: 4",
                ],
            ),
            # The results are out: the counts stay as they were sent.
            ("/pb paper 1 =50", ["Usage: /pb new TOTAL TITLE"]),
        ],
    )
    db = bot.app.db.path
    assert db is not None
    conn = sqlite3.connect(db)
    try:
        rows = list(
            conn.execute("SELECT project_id, votes, corrects FROM pb_paper_votes ORDER BY id")
        )
    finally:
        conn.close()
    # Every addition and correction kept, in order; none overwritten.
    assert rows == [(1, 110, 0), (1, -99, 1), (1, -1, 1), (1, -10, 1), (2, 4, 0), (1, 3, 1)]
