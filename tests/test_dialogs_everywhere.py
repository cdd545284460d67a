"""The same dialog tables on every channel: the collecting channel, Telegram and Viber."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.settings import Settings
from handlers.municipality import Municipality
from storage.sql import fetch_one
from tests.audio import ogg_opus
from tests.conftest import Picture, Pin, Press, Recording, jpeg
from tests.dialogs import (
    CollectingDialog,
    Dialog,
    Table,
    TelegramDialog,
    ViberDialog,
    open_dialog,
    play,
)
from tests.fakes.ports import FakeClock, FakeGeocoder

WELCOME = "Welcome to Moja opština, the bot of the municipality of Vlasotince."
CATEGORY = "What kind of problem is it?"
DESCRIBE = "Describe the problem in a few words: what is wrong and where."
PHOTOS = "Send up to 3 photos of the problem, one by one, or skip this step."
WHERE = (
    "Where is the problem? Share the location with the button below, or type the address"
    " (street and number)."
)
IN_PROGRESS = "You have a report in progress. Continue below, or send /cancel to drop it."
THANKS = (
    "Thank you! Your report is registered under the number VLA-2026-00001. You will get a"
    " message here whenever its status changes; you can also find it under My reports."
)
MENU = "What would you like to do?"
OFFER = (
    "Would you like news from the municipality? Choose the topics you want to be told about; you"
    " can change them any time under Notifications."
)
NOT_NOW = (Press("menu:main"), [MENU])  # the topics a new resident is offered once
REPORT: Table = [
    (Press("lang:en"), ["Language set: English.", WELCOME, OFFER]),
    NOT_NOW,
    (Press("menu:report"), [CATEGORY]),
    ("The garbage", ["Please choose the kind of problem with one of the buttons.", CATEGORY]),
    (Press("cat:garbage"), [DESCRIBE]),
    ("/subscribe", [IN_PROGRESS, DESCRIBE]),
    ("Bins behind the school are full", [PHOTOS]),
    (Picture(jpeg("gray")), ["Photo 1 of 3 added.", PHOTOS]),
    (Press("photos:done"), [WHERE]),
    (Pin(42.9661, 22.1290), ["📍 Location received.", "Please check your report:"]),
    (Press("sum:edit"), ["What would you like to change?"]),
    (Press("edit:description"), [DESCRIBE]),
    ("Bins behind the school are overflowing", ["Please check your report:"]),
    (Press("sum:confirm"), [THANKS]),
    (Press("menu:mine"), ["You have 1 report."]),
]  # fmt: skip


SUMMARY = "Please check your report:"
RECEIVED = "📍 Location received."
SCHOOL_PIN = Pin(42.9661, 22.1290)
BINS = "Bins behind the school are full"
LANGUAGE: Table = [(Press("lang:en"), ["Language set: English.", WELCOME, OFFER]), NOT_NOW]
# Quick reports of a returning resident: each table counts what the resident sends or presses.
QUICK: dict[str, Table] = {
    "a photo with a caption": [
        (Picture(jpeg("gray"), caption=BINS), ["Photo 1 of 3 added.", CATEGORY]),
        (Press("cat:garbage"), [WHERE]),
        (SCHOOL_PIN, [RECEIVED, SUMMARY]),
        (Press("sum:confirm"), [THANKS]),
    ],
    "a photo, then the questions": [
        (Picture(jpeg("gray")), ["Photo 1 of 3 added.", CATEGORY]),
        (Press("cat:garbage"), [DESCRIBE]),
        (BINS, [WHERE]),
        (SCHOOL_PIN, [RECEIVED, SUMMARY]),
        (Press("sum:confirm"), [THANKS]),
    ],
    "a location, then a photo": [
        (SCHOOL_PIN, [RECEIVED, CATEGORY]),
        (Picture(jpeg("gray")), ["Photo 1 of 3 added.", CATEGORY]),
        (Press("cat:garbage"), [DESCRIBE]),
        (BINS, [SUMMARY]),
        (Press("sum:confirm"), [THANKS]),
    ],
    "a location, then the questions": [
        (SCHOOL_PIN, [RECEIVED, CATEGORY]),
        (Press("cat:garbage"), [DESCRIBE]),
        (BINS, [PHOTOS]),
        (Picture(jpeg("gray")), ["Photo 1 of 3 added.", SUMMARY]),
        (Press("sum:confirm"), [THANKS]),
    ],
}
MINE = (Press("menu:mine"), ["You have 1 report."])
NEARBY = "1 open report of the same kind is near that place:"
IS_IT = (
    "Is it one of these? If your problem is already reported, press its button: you will get its"
    " news, and no new report is filed."
)


@pytest.fixture(params=["collecting", "telegram", "viber"])
async def dialog(
    request: pytest.FixtureRequest,
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
) -> AsyncIterator[Dialog]:
    """A resident who just opened the chat, on one of the channels."""
    async with open_dialog(request.param, settings, municipality, clock, geocoder) as opened:
        yield opened


async def test_a_whole_report_reads_the_same_on_every_channel(dialog: Dialog) -> None:
    await play(dialog, "ana", REPORT)


async def test_a_button_that_is_not_on_the_screen_fails_the_table(dialog: Dialog) -> None:
    await play(dialog, "ana", REPORT[:2])
    with pytest.raises(AssertionError, match=r"not on the screen|is not offered"):
        await dialog.say("ana", Press("sum:confirm"))


@pytest.mark.parametrize("how", QUICK)
async def test_a_returning_resident_reports_with_a_photo_and_a_location_in_five(
    dialog: Dialog, how: str
) -> None:
    await play(dialog, "ana", LANGUAGE)
    table = QUICK[how]
    assert len(table) <= 5
    await play(dialog, "ana", [*table, MINE])


async def test_an_album_is_one_report_with_its_photos(dialog: Dialog) -> None:
    album = "album-1"
    # An album's later photos do not ask the question again; Viber has no albums (each photo
    # is a message of its own, and each is answered as one).
    again = [CATEGORY] if dialog.name == "viber" else []
    await play(dialog, "ana", LANGUAGE)
    await play(
        dialog,
        "ana",
        [
            (Picture(jpeg("gray"), caption=BINS, album=album), ["Photo 1 of 3 added.", CATEGORY]),
            (Picture(jpeg("blue"), album=album), ["Photo 2 of 3 added.", *again]),
            (Picture(jpeg("red"), album=album), ["Photo 3 of 3 added.", *again]),
            (Picture(jpeg("navy"), album=album), [
                "A report has at most 3 photos; this one was not added.", *again,
            ]),
            (Press("cat:garbage"), [WHERE]),
            (SCHOOL_PIN, [RECEIVED, SUMMARY]),
            (Press("sum:confirm"), [THANKS]),
            MINE,
        ],
    )  # fmt: skip


async def test_a_finished_conversation_takes_a_photo_as_a_new_report(dialog: Dialog) -> None:
    await play(dialog, "ana", [*LANGUAGE, *QUICK["a photo with a caption"]])
    second = "VLA-2026-00002"
    await play(
        dialog,
        "ana",
        [
            (Press("menu:mine"), ["You have 1 report."]),
            (Picture(jpeg("blue")), ["Photo 1 of 3 added.", CATEGORY]),
            (Press("cat:garbage"), [DESCRIBE]),
            ("The bins are full again", [WHERE]),
            (SCHOOL_PIN, [RECEIVED, NEARBY, "VLA-2026-00001 · new", IS_IT]),
            (Press("notsame:new"), [SUMMARY]),
            (Press("sum:confirm"), [THANKS.replace("VLA-2026-00001", second)]),
        ],
    )


ALL_TOPICS = (
    "You will be told about: Public consultations, Budget, Library news, Communal announcements"
    " (water or power cuts, works)."
)


async def test_a_new_resident_is_offered_the_topics_once_after_the_language(
    dialog: Dialog,
) -> None:
    await play(
        dialog,
        "ana",
        [
            (Press("lang:en"), ["Language set: English.", WELCOME, OFFER]),
            (Press("sub:all"), [ALL_TOPICS]),
            (Press("menu:main"), [MENU]),
            ("/language", ["Изаберите језик и писмо:"]),
            (Press("lang:en"), ["Language set: English.", MENU]),
            ("/start", [WELCOME]),
            (Press("menu:report"), [CATEGORY]),  # the menu is on the screen, not the topics
        ],
    )


async def test_the_open_report_nearby_is_offered_with_its_photo_on_every_channel(
    dialog: Dialog,
) -> None:
    await play(dialog, "ana", [*LANGUAGE, *QUICK["a photo with a caption"]])
    await play(
        dialog,
        "ana",
        [
            (Press("menu:report"), [CATEGORY]),
            (Press("cat:garbage"), [DESCRIBE]),
            ("The bins are full again", [PHOTOS]),
            (Press("photos:skip"), [WHERE]),
            (SCHOOL_PIN, [RECEIVED, NEARBY, "VLA-2026-00001 · new", IS_IT]),
            ("which one?", [
                "Please press the report that is your problem, or No, a new one.", IS_IT,
            ]),
            (Press("same:1"), [
                "VLA-2026-00001 is your own report: you already get its news. No new report was"
                " filed.",
            ]),
            MINE,
        ],
    )  # fmt: skip


BROKEN_VOICE = (
    "I could not play that voice message (it may be broken). Please record it again, or write"
    " the text."
)
VOICE_REPORT: Table = [
    *LANGUAGE,
    (Press("menu:report"), [CATEGORY]),
    (Press("cat:garbage"), [DESCRIBE]),
    (Recording(b"OggS\x00 half a voice note"), [BROKEN_VOICE, DESCRIBE]),
    (Recording(ogg_opus(400), seconds=400), ["That voice message is longer than 5 minutes."
                                             " Please send a shorter one.", DESCRIBE]),
    (Recording(ogg_opus(4, {"ARTIST": "Ana Petrović"}), seconds=4), [PHOTOS]),
    (Press("photos:skip"), [WHERE]),
    (Pin(42.9661, 22.1290), ["📍 Location received.", "Please check your report:"]),
    (Press("sum:confirm"), [THANKS]),
]  # fmt: skip


def app_of(dialog: Dialog) -> App:
    match dialog:
        case CollectingDialog(bot):
            return bot.app
        case TelegramDialog(running) | ViberDialog(running):
            return running.app
    raise AssertionError(dialog)


async def test_a_voice_note_describes_a_report_on_every_channel(
    dialog: Dialog, settings: Settings
) -> None:
    await play(dialog, "ana", VOICE_REPORT)
    row = await fetch_one(app_of(dialog).db.reader, "SELECT description, voice FROM reports")
    assert row is not None
    description, voice = row
    assert description == ""
    assert voice.startswith("voice/")
    assert voice.endswith(".ogg")
    stored = (settings.data_dir / voice).read_bytes()
    assert stored.startswith(b"OggS")
    assert b"Ana Petrovi" not in stored  # the tags are removed, like a photo's EXIF
