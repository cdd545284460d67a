"""On Viber the keyboard belongs to the last message: after every answer the person must still
have the buttons of where they are. The real viberbot talks to the fake Viber API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.settings import Settings
from handlers.municipality import Municipality
from tests.dialogs import ANA, Running, actions, viber_app
from tests.fakes.ports import FakeGeocoder
from tests.fakes.viber_api import (
    conversation_started,
    message_location,
    message_sticker,
    message_text,
)

OPERATOR = "100000103"  # the water operator of the municipality file, on Viber
REF = f"VLA-{datetime.now(UTC).year}-00001"
LANGUAGE_HINT = "Please choose a language with one of the buttons."


@pytest.fixture
async def running(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[Running]:
    async with viber_app(settings, municipality, geocoder) as app:
        yield app


async def open_in_english(running: Running, user: str) -> None:
    status, body = await running.post(conversation_started(user))
    assert status == 200
    running.welcome = json.loads(body)
    await running.say(running.press("lang:en", user), "Welcome", user)
    await running.say(running.press("menu:main", user), "What would you like to do?", user)
    running.welcome = None


async def test_a_stray_message_during_a_language_change_keeps_the_languages(
    running: Running,
) -> None:
    await open_in_english(running, ANA)
    await running.say(running.press("menu:report"), "What kind of problem")
    await running.say(running.press("cat:garbage"), "Describe the problem")
    await running.say(message_text(ANA, "Bins are full"), "Send up to 3 photos")
    await running.say(running.press("photos:skip"), "Where is the problem?")
    picker = [b["ActionType"] for b in (running.fake.keyboard_of(ANA) or {})["Buttons"]]
    assert picker == ["location-picker"]
    languages = await running.say(message_text(ANA, "/language"), "Choose your language")
    offered = actions(languages[-1].get("keyboard"))
    assert "btn:lang:sr-Latn" in offered

    hinted = await running.say(message_sticker(ANA), LANGUAGE_HINT)

    assert hinted[0]["text"] == LANGUAGE_HINT
    assert actions(running.fake.keyboard_of(ANA)) == offered
    await running.say(running.press("lang:sr-Latn"), "jezik")
    shown = running.fake.keyboard_of(ANA) or {}
    assert [b["ActionType"] for b in shown["Buttons"]] == picker  # the report goes on
    await running.say(message_location(ANA, 42.9661, 22.1290), "Lokacija")


async def report_a_leak(running: Running) -> None:
    await open_in_english(running, ANA)
    await running.say(running.press("menu:report"), "What kind of problem")
    await running.say(running.press("cat:water_sewage"), "Describe the problem")
    await running.say(message_text(ANA, "Water is gushing from a pipe"), "Send up to 3 photos")
    await running.say(running.press("photos:skip"), "Where is the problem?")
    await running.say(message_location(ANA, 42.9661, 22.1290), "Please check your report")
    await running.say(running.press("sum:confirm"), REF)


async def show_the_card(running: Running) -> list[str]:
    """Ana's leak reported, the operator opens its card: return the card's buttons."""
    await report_a_leak(running)
    await open_in_english(running, OPERATOR)
    shown = await running.say(message_text(OPERATOR, f"/show {REF}"), REF, OPERATOR)
    return actions(shown[-1].get("keyboard"))


async def test_a_stray_message_keeps_the_buttons_of_the_question_for_the_photo(
    running: Running,
) -> None:
    await show_the_card(running)
    await running.say(running.press("st:resolve:1", OPERATOR), "photo of the fix", OPERATOR)
    question = actions(running.fake.keyboard_of(OPERATOR))
    assert question == ["btn:sq:skip:1", "btn:sq:cancel:1"]

    hinted = await running.say(message_sticker(OPERATOR), "Please send the photo", OPERATOR)

    assert hinted[0]["text"] == "Please send the photo of the fix, or /cancel."
    assert actions(running.fake.keyboard_of(OPERATOR)) == question


async def test_an_operator_can_drop_an_answer_with_a_button(running: Running) -> None:
    card = await show_the_card(running)

    asked = await running.say(running.press("st:reply:1", OPERATOR), "Write the answer", OPERATOR)

    assert actions(asked[-1].get("keyboard")) == ["btn:sq:cancel:1"]
    cancelled = await running.say(running.press("sq:cancel:1", OPERATOR), "Cancelled.", OPERATOR)
    assert [m.get("text") for m in cancelled] == ["Cancelled."]
    assert actions(cancelled[-1].get("keyboard")) == card
    answered = await running.say(message_text(OPERATOR, "Hello?"), "What would", OPERATOR)
    assert "The answer was sent" not in str(answered)  # the question is gone
