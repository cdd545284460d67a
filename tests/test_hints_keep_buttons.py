"""A hint keeps the buttons of the step it is said in: a preview's Send and Cancel (a state
without a prompt of its own), the languages during /language in the middle of a flow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.settings import Settings
from handlers.flow import draft_mark
from handlers.municipality import Municipality, StaffMember
from tests.conftest import Press
from tests.dialogs import ANA, Dialog, Table, open_dialog, play, telegram_chat
from tests.fakes.ports import FakeClock, FakeGeocoder

MENU = "What would you like to do?"
LANGUAGE: Table = [
    (Press("lang:en"), ["Language set: English.",
                        "Welcome to Moja opština, the bot of the municipality of Vlasotince.",
                        "Would you like news from the municipality? Choose the topics you want to"
                        " be told about; you can change them any time under Notifications."]),
    (Press("menu:main"), [MENU]),
]  # fmt: skip
WRITE = "Write the announcement for: Public consultations. (/cancel to stop)"
PREVIEW = "📢 Public consultations"
SEND_OR_CANCEL = "Please send or cancel the announcement with the buttons."
ANNOUNCEMENT: Table = [
    ("/announce consultations", [WRITE]),
    ("The hall is open on Monday", [PREVIEW]),
    ("what now?", [SEND_OR_CANCEL]),  # the preview's buttons go with it, not the main menu's
    ("/help", ["This bot lets you report communal problems in Vlasotince: potholes, street"
               " lights, garbage, leaks, stray animals and more. Describe the problem, add photos"
               " and the location, and you get a reference number. You will be told about every"
               " change."]),
]  # fmt: skip
CHOOSE = "Изаберите језик и писмо:"
LANGUAGE_HINT = "Please choose a language with one of the buttons."
LANGUAGE_MID_REPORT: Table = [
    (Press("menu:report"), ["What kind of problem is it?"]),
    (Press("cat:garbage"), ["Describe the problem in a few words: what is wrong and where."]),
    ("/language", [CHOOSE]),
    ("Bins are full", [LANGUAGE_HINT, CHOOSE]),  # the languages again
    (
        Press("lang:sr-Latn"),
        [
            "Izabran je jezik: Srpski (latinica).",
            "Opišite problem u nekoliko reči: šta nije u redu i gde.",
        ],
    ),
]


@pytest.fixture
def admins(municipality: Municipality) -> Municipality:
    """The municipality with the dialog's resident as an admin on every channel."""
    ana = [("test", "ana"), ("telegram", str(telegram_chat("ana"))), ("viber", ANA)]
    staff = tuple(StaffMember(channel, user, "Ana", "admin", ()) for channel, user in ana)
    return replace(municipality, staff=staff)


@pytest.fixture(params=["collecting", "telegram", "viber"])
async def dialog(
    request: pytest.FixtureRequest,
    settings: Settings,
    admins: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
) -> AsyncIterator[Dialog]:
    """An admin who chose English, on one of the channels."""
    async with open_dialog(request.param, settings, admins, clock, geocoder) as opened:
        await play(opened, "ana", LANGUAGE)
        yield opened


async def test_a_preview_s_hint_keeps_its_send_and_cancel(dialog: Dialog) -> None:
    mark = draft_mark({"topic": "consultations", "text": "The hall is open on Monday"})
    await play(
        dialog,
        "ana",
        [
            *ANNOUNCEMENT,
            (Press(f"an:ok:{mark}"), ["Sent. Delivered: 0, unreachable: 0, failed: 0 (of 0)."]),
        ],
    )


async def test_a_hint_during_a_language_change_shows_the_languages_again(dialog: Dialog) -> None:
    await play(dialog, "ana", LANGUAGE_MID_REPORT)
