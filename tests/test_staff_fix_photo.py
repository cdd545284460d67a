"""After Resolve, the question for the photo of the fix: in an operator's private chat it has
buttons to skip the photo or cancel, and the card's buttons come back after, on Telegram (the
real python-telegram-bot against the fake Bot API) and on Viber (viberbot against the fake Viber
API), where a message without buttons hides the ones shown before.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.settings import Settings
from handlers.municipality import Municipality
from storage import reports
from tests.conftest import REF as OFFICE_REF
from tests.conftest import DialogInput, Office, Picture, Pin, Press, Running, jpeg
from tests.dialogs import ANA, TELEGRAM_IDS, TelegramDialog, actions, viber_app
from tests.dialogs import Running as ViberRunning
from tests.fakes.ports import FakeGeocoder
from tests.fakes.viber_api import (
    conversation_started,
    message_location,
    message_picture,
    message_text,
)

OPERATOR = "roads operator"
TELEGRAM_IDS[OPERATOR] = 100000102  # the roads operator of the municipality file
VIBER_OPERATOR = "100000103"  # the water operator of the municipality file, on Viber
REF = f"VLA-{datetime.now(UTC).year}-00001"
ASKED = "You may send a photo of the fix now; the resident will get it. (/cancel to skip)"
A_SIGN: list[DialogInput] = [
    "/start", Press("lang:en"), Press("menu:main"), Press("menu:report"),
    Press("cat:road_damage"), "A sign is knocked down", Press("photos:skip"),
    Pin(42.9661, 22.1290), Press("sum:confirm"),
]  # fmt: skip


def inline_buttons(running: Running, chat: int) -> list[str]:
    """The data of the buttons under the last message that has any."""
    shown = [
        m
        for m in running.fake.sent_messages(chat)
        if m.get("reply_markup", {}).get("inline_keyboard")
    ]
    rows = shown[-1]["reply_markup"]["inline_keyboard"] if shown else []
    return [b["callback_data"] for row in rows for b in row]


async def test_on_telegram_the_photo_can_be_skipped_with_a_button(running: Running) -> None:
    telegram = TelegramDialog(running)
    for item in A_SIGN:
        await telegram.say("ana", item)
    for item in ("/start", Press("lang:en"), Press("menu:main")):
        await telegram.say(OPERATOR, item)
    chat = TelegramDialog(running).chat(OPERATOR)
    assert (await telegram.say(OPERATOR, f"/show {REF}"))[0].startswith(REF)

    resolved = await telegram.say(OPERATOR, Press("st:resolve:1"))

    assert resolved == [f"{REF} is now resolved.", ASKED]
    card = running.fake.sent_messages(chat)[-2]["reply_markup"]["inline_keyboard"]
    assert inline_buttons(running, chat) == ["sq:skip:1", "sq:cancel:1"]
    skipped = await telegram.say(OPERATOR, Press("sq:skip:1"))
    assert skipped == [f"{REF} is resolved without a photo of the fix."]
    assert running.fake.sent_messages(chat)[-1]["reply_markup"]["inline_keyboard"] == card
    stored = await reports.get_report(running.app.db.conn, 1)
    assert stored is not None
    assert stored.status == "resolved"
    assert [e.kind for e in stored.events][-1] == "status"  # no photo


@pytest.fixture
async def viber(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[ViberRunning]:
    async with viber_app(settings, municipality, geocoder) as app:
        yield app


async def open_in_english(viber: ViberRunning, user: str) -> None:
    status, body = await viber.post(conversation_started(user))
    assert status == 200
    viber.welcome = json.loads(body)
    await viber.say(viber.press("lang:en", user), "Welcome", user)
    await viber.say(viber.press("menu:main", user), "What would you like to do?", user)
    viber.welcome = None


async def report_a_leak(viber: ViberRunning) -> None:
    await open_in_english(viber, ANA)
    await viber.say(viber.press("menu:report"), "What kind of problem")
    await viber.say(viber.press("cat:water_sewage"), "Describe the problem")
    await viber.say(message_text(ANA, "Water is gushing from a pipe"), "Send up to 3 photos")
    await viber.say(viber.press("photos:skip"), "Where is the problem?")
    await viber.say(message_location(ANA, 42.9661, 22.1290), "Please check your report")
    await viber.say(viber.press("sum:confirm"), REF)


async def test_on_viber_the_card_buttons_come_back_after_the_photo_or_cancel(
    viber: ViberRunning,
) -> None:
    await report_a_leak(viber)
    await open_in_english(viber, VIBER_OPERATOR)
    await viber.say(message_text(VIBER_OPERATOR, f"/show {REF}"), REF, VIBER_OPERATOR)

    resolved = await viber.say(viber.press("st:resolve:1", VIBER_OPERATOR), ASKED, VIBER_OPERATOR)

    assert [m.get("text") for m in resolved] == [f"{REF} is now resolved.", ASKED]
    card = actions(resolved[0].get("keyboard"))
    assert card == ["btn:st:reply:1"]
    assert actions(resolved[-1].get("keyboard")) == ["btn:sq:skip:1", "btn:sq:cancel:1"]
    media = viber.fake.add_media(jpeg("green"))
    sent = await viber.say(
        message_picture(VIBER_OPERATOR, media), "The photo was sent", VIBER_OPERATOR
    )
    assert actions(sent[-1].get("keyboard")) == card
    await viber.wait_text("A photo of the fix of your report", ANA)


async def test_cancel_drops_the_question_and_brings_back_the_card(office: Office) -> None:
    await office.report_leak()
    resolved = await office.bot.say("vesna", f"/resolve {OFFICE_REF}")
    assert resolved[-1].text == ASKED
    assert [b.data for row in resolved[-1].buttons for b in row] == ["sq:skip:1", "sq:cancel:1"]

    cancelled = await office.bot.say("vesna", Press("sq:cancel:1"))

    assert [r.text for r in cancelled] == ["Cancelled."]
    assert cancelled[0].buttons == resolved[0].buttons
    assert [b.data for row in cancelled[0].buttons for b in row] == ["st:reply:1"]
    photo = await office.bot.say("vesna", Picture(jpeg("green")))  # the question is gone
    assert "photo of the fix" not in " ".join(r.text for r in photo)
