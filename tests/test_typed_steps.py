"""Steps where the person types carry Cancel (and Skip where they may be skipped) as buttons, on
every channel: on Viber a step without buttons leaves only /cancel, which few residents know."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from handlers.municipality import Municipality
from tests.conftest import Bot, Office, Press
from tests.dialogs import Dialog, Table, open_dialog, play
from tests.fakes.ports import FakeClock, FakeGeocoder

WELCOME = "Welcome to Moja opština, the bot of the municipality of Vlasotince."
OFFER = (
    "Would you like news from the municipality? Choose the topics you want to be told about; you"
    " can change them any time under Notifications."
)
MENU = "What would you like to do?"
CANCELLED = "Cancelled."
LANGUAGE: Table = [
    (Press("lang:en"), ["Language set: English.", WELCOME, OFFER]),
    (Press("menu:main"), [MENU]),
]
BUDGET_2027 = "Javna rasprava o nacrtu budžeta opštine za 2027. godinu"
CONSULTATION_COMMENT: Table = [
    (Press("menu:consult"), ["Public consultations:"]),
    (Press("cons:1"), [f"📣 {BUDGET_2027}"]),
    (Press("cc:1"), [f"Write your comment or proposal on {BUDGET_2027}. You may send a photo"
                     " first. (/cancel to stop)"]),
    ("", ["Please write your comment as a text message, or /cancel."]),  # the hint keeps them
    (Press("step:cancel:consult:comment"), [CANCELLED, MENU]),
]  # fmt: skip
PLANS = "The municipality publishes these plans. Which one would you like to see?"
MEASURE = "1. Prijava komunalnih problema sa povratnom informacijom građaninu"
PLAN_COMMENT: Table = [
    (Press("menu:plan"), [PLANS]),
    (Press("pplan:ogp"), ["📋 Local action plan for open government of the Municipality of"
                          " Vlasotince 2026–2027"]),
    (Press("pms:1"), [MEASURE]),
    (Press("pcom:1"), [f"Write your comment or question on {MEASURE}. The staff responsible for"
                       " it will answer. (/cancel to stop)"]),
    (Press("step:cancel:plan:comment"), [CANCELLED, MENU]),
]  # fmt: skip
SOCIAL_QUESTION: Table = [
    (Press("menu:social"), ["Rights and services of social protection. Choose one to see who is"
                            " entitled, the documents and where to apply. The Centre for Social"
                            " Work decides on every request."]),
    (Press("socask"), ["Write your question to the Centre for Social Work. Only the Centre's"
                       " staff will read it, and they will answer you here. (/cancel to stop)"]),
    (Press("step:cancel:social:ask"), [CANCELLED, MENU]),
]  # fmt: skip
LIBRARY = "📚 Narodna biblioteka Vlasotince"
TITLE = "Which title is missing? Write its title. (/cancel to stop)"
ISBN = "Its ISBN, if you know it (or - to skip)."
WHY = "Why should the library have it? (or - to skip)"
LIBRARY_SUGGESTION: Table = [
    (Press("menu:library"), [LIBRARY]),
    (Press("lib:suggest"), [TITLE]),
    (Press("step:cancel:library:suggest_title"), [CANCELLED]),
    (Press("menu:library"), [LIBRARY]),
    (Press("lib:suggest"), [TITLE]),
    ("Seobe", ["Who wrote it?"]),
    ("Miloš Crnjanski", [ISBN]),
    ("123", ["That is not a valid ISBN. Write it again, or - to skip."]),
    (Press("step:skip:library:suggest_isbn"), [WHY]),  # as typing "-"
    (Press("step:skip:library:suggest_why"), ["Thank you! The library will see your suggestion"
                                              " (#1)."]),
]  # fmt: skip


@pytest.fixture(params=["collecting", "telegram", "viber"])
async def dialog(
    request: pytest.FixtureRequest,
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
) -> AsyncIterator[Dialog]:
    """A resident who chose English, on one of the channels."""
    async with open_dialog(request.param, settings, municipality, clock, geocoder) as opened:
        await play(opened, "ana", LANGUAGE)
        yield opened


@pytest.mark.parametrize(
    "table",
    [CONSULTATION_COMMENT, PLAN_COMMENT, SOCIAL_QUESTION, LIBRARY_SUGGESTION],
    ids=["consultation comment", "plan comment", "social question", "library suggestion"],
)
async def test_a_typed_step_is_left_or_skipped_with_its_buttons(
    dialog: Dialog, table: Table
) -> None:
    await play(dialog, "ana", table)


async def test_a_skip_or_cancel_under_an_earlier_step_is_stale(bot: Bot) -> None:
    for item in ("/start", Press("lang:en"), Press("lib:suggest"), "Seobe", "Miloš Crnjanski"):
        await bot.say("ana", item)
    await bot.play("ana", [("-", [WHY, "[⏭ Skip]\n[✖️ Cancel]"])])
    stale = [r.text for r in await bot.say("ana", Press("step:skip:library:suggest_isbn"))]
    assert stale == ["That button is no longer valid.",
                     "Please answer the question as a text message, or /cancel.", WHY]  # fmt: skip
    stale = [r.text for r in await bot.say("ana", Press("step:cancel:library:suggest_title"))]
    assert stale[0] == "That button is no longer valid."
    assert [b.data for row in bot.channel.to("ana")[-1].buttons for b in row] == [
        "step:skip:library:suggest_why",
        "step:cancel:library:suggest_why",
    ]


async def test_a_budget_proposal_s_what_and_where_has_a_cancel_button(office: Office) -> None:
    bot = office.bot
    await bot.say("boss", "/budget consult 2027 15.05.2026 31.05.2026")
    await bot.play(
        "mila",
        [
            (Press("menu:budget"), ["Until 31 May 2026 you can propose"]),
            (Press("bpr:2"), ["Which area does your proposal belong to?"]),
            (Press("bpp:0701"), ["What should be done, and where?", "[✖️ Cancel]"]),
            ("", ["Please write your proposal as a text message, or /cancel.", "[✖️ Cancel]"]),
            ("Sidewalk in Njegoševa street", ["[⏭ I do not know]\n[✖️ Cancel]"]),
            (Press("step:cancel:budget:cost"), [CANCELLED, "[💰 Budget]"]),
        ],
    )
    assert bot.channel.to("mila")[-1].text == CANCELLED
