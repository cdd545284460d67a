"""The staff's list of budget proposals: one message with a button per proposal, Previous and
Next for more, each button opening the proposal's card with its answer buttons (on Viber only
the last message's keyboard can be pressed, so a card per proposal left all but one unanswerable).
The tables press only what is on the screen."""

from __future__ import annotations

from tests.conftest import Office, Press
from tests.dialogs import CollectingDialog, play
from tests.test_budget_audit import CONSULT, file_proposal

WAITING = "📋 Proposals waiting for an answer ({first}–{last}); press one to answer it:"
CARD = "📝 A proposal for the budget:"


def on_screen(office: Office, user: str) -> list[str]:
    """The buttons of the user's last message."""
    return [b.label for row in office.bot.channel.to(user)[-1].buttons for b in row]


async def test_staff_page_through_the_waiting_proposals_and_answer_one_from_its_card(
    office: Office,
) -> None:
    bot = office.bot
    await bot.say("boss", CONSULT)
    for n in range(1, 11):
        user = f"resident{n}"
        await bot.say(user, "/start")
        await bot.say(user, Press("lang:en"))
        await file_proposal(office, user, f"Proposal number {n} for the streets of the town")
    dialog = CollectingDialog(bot)
    await play(dialog, "boss", [("/budget proposals", [WAITING.format(first=1, last=8)])])
    listed = bot.channel.to("boss")[-1].text.splitlines()
    assert listed[1:3] == [
        "#1 Transport and roads: Proposal number 1 for the streets of the town",
        "#2 Transport and roads: Proposal number 2 for the streets of the town",
    ]
    assert on_screen(office, "boss") == [
        *(f"#{n} Proposal number {n} for the streets of…" for n in range(1, 9)), "⏩ Next",
    ]  # fmt: skip
    await play(
        dialog,
        "boss",
        [
            (Press("bpl:0:8"), [WAITING.format(first=9, last=10)]),
            (Press("bpo:9:0:8"), [CARD]),
            (Press("bpv:9:taken"), ["Proposal #9: taken into the draft. Write the reason; the"
                                    " resident will read it."]),
            ("It is in the draft for the spring.", ["The answer was sent."]),
            ("/budget proposals", [WAITING.format(first=1, last=8)]),
            (Press("bpl:0:8"), [WAITING.format(first=9, last=9)]),  # #9 is answered now
            (Press("bpo:10:0:8"), [CARD]),
            (Press("bpl:0:8"), [WAITING.format(first=9, last=9)]),  # back to the list
            (Press("bpl:0:0"), [WAITING.format(first=1, last=8)]),  # previous
        ],
    )  # fmt: skip
    assert on_screen(office, "boss")[-1] == "⏩ Next"
    assert bot.channel.to("resident9")[-1].text.startswith(
        "The municipality answered your proposal #9 for the budget: taken into the draft."
    )
    # The card opened from the list has the answer buttons and the way back.
    await play(dialog, "boss", [(Press("bpo:1:0:0"), [CARD])])
    assert on_screen(office, "boss") == [
        "Taken into the draft", "Partly taken into the draft", "Not taken into the draft",
        "📋 Back to the list",
    ]  # fmt: skip
    # A resident can neither list them nor open one (the buttons' role).
    await bot.say("resident1", "/budget proposals")
    replies = await bot.say("resident1", Press("bpo:1:0:0"))
    assert all(CARD not in r.text for r in replies)


async def test_the_answered_list_and_an_empty_one(office: Office) -> None:
    bot = office.bot
    dialog = CollectingDialog(bot)
    await bot.say("boss", CONSULT)
    await play(dialog, "boss", [("/budget proposals", ["No proposal is waiting for an answer."])])
    await file_proposal(office, "mila", "A sidewalk by the school")
    await play(
        dialog,
        "boss",
        [
            ("/budget proposals answered", ["No proposal has been answered yet."]),
            ("/budget proposals", [WAITING.format(first=1, last=1)]),
            (Press("bpo:1:0:0"), [CARD]),
            (Press("bpv:1:not"), ["Proposal #1: not taken into the draft. Write the reason; the"
                                  " resident will read it."]),
            ("Not this year.", ["The answer was sent."]),
            ("/budget proposals", ["No proposal is waiting for an answer."]),
            ("/budget proposals answered", ["📋 Answered proposals, the latest first (1–1); press"
                                            " one to see it or change its answer:"]),
            (Press("bpo:1:1:0"), [CARD]),
            (Press("bpc:1:partly:not"), ["Proposal #1: partly taken into the draft. Write the"
                                         " reason; the resident will read it."]),
        ],
    )  # fmt: skip
    assert bot.channel.to("boss")[-3].text.splitlines()[1] == (
        "#1 Transport and roads · not taken into the draft: A sidewalk by the school"
    )
