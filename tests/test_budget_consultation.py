"""Helping draft the budget: an admin opens a budget consultation, residents send proposals per
program (what and where, a cost, a place), staff answer each one, and the counts are published
when it closes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import FAR_AWAY, SCHOOL, Office, Pin, Press

PROPOSAL = "A sidewalk along Nemanjina street, from the school to the bridge"


def stored(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(
            conn.execute(
                "SELECT m.program, m.cost, m.latitude IS NOT NULL, m.verdict, c.budget_year"
                " FROM consultation_comments m JOIN consultations c ON c.id = m.consultation_id"
                " ORDER BY m.id"
            )
        )
    finally:
        conn.close()


async def test_residents_propose_staff_answer_and_the_counts_are_published(office: Office) -> None:
    bot = office.bot
    await bot.say("mila", Press("menu:notify"))
    await bot.say("mila", Press("sub:budget"))
    await bot.play(
        "boss",
        [
            ("/budget consult 2027", ["Usage: /budget consult 2027 01.10.2026 31.10.2026"]),
            ("/budget", ["Usage: /budget import, /budget consult YEAR FROM TO"]),
            ("/budget consult 2027 01.05.2026 10.05.2026", ["The period must end in the future"]),
            (
                "/budget consult 2027 15.05.2026 31.05.2026",
                [
                    "Sending: 0 / 1",
                    "The consultation on the 2027 budget is open until 31 May 2026.",
                ],
            ),
            # The same year again: its dates (unchanged here); another year waits for the close.
            (
                "/budget consult 2027 15.05.2026 31.05.2026",
                ["The consultation on the 2027 budget runs from 15 May 2026 to 31 May 2026."],
            ),
            ("/budget consult 2028 15.05.2026 31.05.2026", ["already open; close it first"]),
        ],
    )
    announcement = bot.channel.to("mila")[-1]
    assert announcement.text == (
        "💰 The municipality is drafting the 2027 budget.\n"
        "Until 31 May 2026 you can propose what the 2027 budget should fund."
    )
    propose = announcement.buttons[0][0].data
    await bot.play(
        "mila",
        [
            (Press(propose), ["Which area does your proposal belong to?", "[Transport and roads]"]),
            (Press("bpp:9999"), ["Please choose the area with the buttons"]),
            (Press("bpp:0701"), ["What should be done, and where?"]),
            (PROPOSAL, ["About how much would it cost, in dinars?", "[⏭ I do not know]"]),
            ("a lot", ["Please write the cost as a number"]),
            ("1.500.000", ["You may add a photo and the location", "[📨 Send the proposal]"]),
            (Pin(SCHOOL.latitude, SCHOOL.longitude), ["Location added."]),
            (Press("bpn:send"), ["Thank you! Your proposal #1 was sent to the municipality."]),
        ],
    )
    card = bot.channel.to("boss")[-1]
    assert card.text == (
        "📝 A proposal for the budget:\n#1 Transport and roads\n" + PROPOSAL + "\n"
        "Estimated cost: 1,500,000 dinars\n📍 42.96600, 22.12900"
    )
    # A resident cannot answer (the button's role), nor see the staff's command.
    await bot.say("mila", Press("bpv:1:taken"))
    await bot.play("mila", [("/budget proposals", ["This is for municipal staff only"])])
    await bot.play(
        "vesna",
        [
            (Press("menu:budget"), ["Until 31 May 2026 you can propose", "[📝 Propose for"]),
            (Press(propose), ["Which area"]),
            (Press("bpp:1102"), ["What should be done"]),
            ("More bins in the market street", ["About how much"]),
            (Press("bpn:skip"), ["You may add a photo"]),
            (Press("bpn:send"), ["Thank you! Your proposal #2 was sent"]),
        ],
    )
    db = bot.app.db.path
    assert db is not None
    assert stored(db) == [("0701", 150_000_000, 1, None, 2027), ("1102", None, 0, None, 2027)]

    await bot.play(
        "boss",
        [
            (
                "/budget proposals",
                [
                    "📋 Proposals waiting for an answer (1–2); press one to answer it:\n"
                    "#1 Transport and roads: " + PROPOSAL + "\n"
                    "#2 Communal activities: More bins in the market street",
                    "[#1 A sidewalk along Nemanjina street…]",
                    "[#2 More bins in the market street]",
                ],
            ),
            (
                Press("bpo:1:0:0"),
                [
                    "#1 Transport and roads",
                    "[Partly taken into the draft]",
                    "[📋 Back to the list]",
                ],
            ),
            (Press("bpv:1:maybe"), ["Please choose one of the options below."]),
            (Press("bpv:1:partly"), ["Proposal #1: partly taken into the draft. Write the reason"]),
            ("The sidewalk is in the draft; the bridge waits for 2028.", ["The answer was sent."]),
            (Press("bpv:1:not"), ["That proposal was already answered."]),
            # A proposal is not answered as a plain comment: no verdict, no audit (2 stays open).
            (
                "/answer 2 We will see.",
                ["#2 is a budget proposal: answer it with the buttons of /budget proposals."],
            ),
        ],
    )
    assert bot.channel.to("mila")[-1].text == (
        "The municipality answered your proposal #1 for the budget: partly taken into the draft.\n"
        "The sidewalk is in the draft; the bridge waits for 2028."
    )
    await bot.play(
        "mila",
        [
            (
                Press("menu:budget"),
                ["[🗒 My proposals]"],
            ),
            (
                Press("bpm"),
                [
                    "#1 Transport and roads\n" + PROPOSAL,
                    "↪ Partly taken into the draft: The sidewalk is in the draft",
                ],
            ),
        ],
    )

    before = {user: len(bot.channel.to(user)) for user in ("mila", "vesna", "petar")}
    results = (
        "The consultation on the 2027 budget has closed.\n"
        "Proposals sent: 2.\n"
        "• Taken into the draft: 0\n"
        "• Partly taken into the draft: 1\n"
        "• Not taken into the draft: 0\n"
        "• Not answered yet: 1\n"
        "By program:\n"
        "• Transport and roads: 1\n"  # the same count: by the program's code
        "• Communal activities: 1"
    )
    await bot.play("boss", [("/budget consult close", ["Sending: 0 / 2", results])])
    news = {user: [r.text for r in bot.channel.to(user)[n:]] for user, n in before.items()}
    assert news == {"mila": [results], "vesna": [results], "petar": []}
    await bot.play(
        "mila",
        [
            (Press(propose), ["The consultation on the budget is not open now."]),
        ],
    )
    await bot.play("boss", [("/budget consult close", ["No consultation on the budget is open."])])


async def test_a_proposal_started_before_the_close_is_not_stored_after_it(office: Office) -> None:
    bot = office.bot
    await bot.say("boss", "/budget consult 2027 15.05.2026 31.05.2026")
    overview = (await bot.say("mila", Press("menu:budget")))[0]
    assert overview.text.startswith("The municipality has not published its budget here yet.")
    propose = overview.buttons[0][0].data
    for item in (Press(propose), Press("bpp:0701"), "A bench", Press("bpn:skip")):
        await bot.say("mila", item)
    await bot.say("boss", "/budget consult close")
    await bot.play("mila", [(Press("bpn:send"), ["has closed; the proposal was not sent"])])
    db = bot.app.db.path
    assert db is not None
    assert stored(db) == []


def participants(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM consultation_participants").fetchone()[0])
    finally:
        conn.close()


async def test_in_public_consultations_it_offers_a_proposal_not_a_meeting(office: Office) -> None:
    bot = office.bot
    await bot.say("boss", "/budget consult 2027 20.05.2026 31.05.2026")
    listing = (await bot.say("mila", Press("menu:consult")))[0]
    # In the reader's language (the stored title is in the staff's).
    show = next(b.data for row in listing.buttons for b in row
                if b.label == "Proposals for the 2027 budget (20 May)")  # fmt: skip
    before = (
        "📣 Proposals for the 2027 budget\n"
        "Propose what the 2027 budget should fund: in the bot, under 💰 Budget.\n"
        "Proposals can be sent from 20 May 2026 to 31 May 2026."
    )
    await bot.play("mila", [(Press(show), [before + "\n[↩️ Main menu]"])])
    consultation_id = show.split(":")[1]
    bot.clock.advance(days=3)
    shown = (await bot.say("mila", Press(show)))[0]
    assert shown.text == (
        "📣 Proposals for the 2027 budget\n"
        "Propose what the 2027 budget should fund: in the bot, under 💰 Budget.\n"
        "Until 31 May 2026 you can propose what the 2027 budget should fund."
    )
    assert [b.label for row in shown.buttons for b in row] == [
        "📝 Propose for the 2027 budget",
        "↩️ Main menu",
    ]
    # An old keyboard's "Remind me", "I will attend" or comment: the same, nothing is noted.
    for old in ("cr", "ca", "cc"):
        await bot.play("mila", [(Press(f"{old}:{consultation_id}"), ["[📝 Propose for the 2027"])])
    db = bot.app.db.path
    assert db is not None
    assert participants(db) == 0
    propose = shown.buttons[0][0].data
    for item in (Press(propose), Press("bpp:0701"), "A bench", Press("bpn:skip")):
        await bot.say("mila", item)
    far = (await bot.say("mila", Pin(FAR_AWAY.latitude, FAR_AWAY.longitude)))[0].text
    assert far == (
        "That place is 245.0 km from Vlasotince, outside the municipality; a proposal is for a"
        " place within 20 km. Please share the place of your proposal."
    )
    await bot.play(
        "mila",
        [
            (Pin(0, 0), ["That location is not valid. Please share the place of your proposal"]),
            (Press("bpn:send"), ["Your proposal #1 was sent"]),
            (Press("menu:consult"), ["Public consultations:"]),
            (Press(show), ["[🗒 My proposals]"]),
            # The proposal is under My proposals with its answer, not under My comments.
            (Press("mycom"), ["You have not sent any comments yet."]),
        ],
    )


async def test_a_remind_me_kept_from_an_old_keyboard_sends_no_meeting_reminder(
    office: Office,
) -> None:
    from bot.scheduler import find_job, run_job

    bot = office.bot
    await bot.say("mila", Press("menu:consult"))
    await bot.say("boss", "/budget consult 2027 20.05.2026 31.05.2026")
    db = bot.app.db.path
    assert db is not None
    # A "Remind me" pressed before a budget consultation stopped offering it.
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                "INSERT INTO consultation_participants (consultation_id, user_id, remind)"
                " SELECT c.id, u.id, 1 FROM consultations c, users u"
                " WHERE c.budget_year = 2027 AND u.chat_id = 'mila'"
            )
    finally:
        conn.close()
    assert participants(db) == 1
    bot.clock.moment = bot.clock.moment.replace(day=19, hour=12)  # within a day of its start
    app = bot.app
    job = find_job(app.deps.registry, "consultation-reminders")
    assert await run_job(app.db, app.deps, app.sender, job) == 0
