"""Notices to a Viber resident keep the buttons of where the resident is.

On Viber the keyboard belongs to the last message: a notice (a report's new status, staff's
answer) sent without one would leave the resident with no button to press until they wrote
again, and in the middle of a report without the step's buttons. The real viberbot talks to
the fake Viber API; the operator acts through the dispatcher as from their staff chat.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.settings import Settings
from handlers.events import Command, Sender
from handlers.municipality import Municipality
from tests.dialogs import ANA, Running, actions, viber_app
from tests.fakes.ports import FakeGeocoder
from tests.fakes.viber_api import Call, conversation_started, message_location, message_text

JSONDict = dict[str, Any]
OPERATOR = Sender("telegram", "100000102", "100000102", "Оператер")  # roads, in the file
SCHOOL = (42.9661, 22.1290)
REF = f"VLA-{datetime.now(UTC).year}-00001"


@pytest.fixture
async def running(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[Running]:
    async with viber_app(settings, municipality, geocoder) as app:
        yield app


async def report_a_sign(running: Running) -> None:
    """Open the chat in English and report a knocked-down sign: Ana is at the main menu."""
    status, body = await running.post(conversation_started(ANA))
    assert status == 200
    running.welcome = json.loads(body)
    await running.say(running.press("lang:en"), "Welcome")
    await running.say(running.press("menu:main"), "What would you like to do?")
    await running.say(running.press("menu:report"), "What kind of problem")
    await running.say(running.press("cat:road_damage"), "Describe the problem")
    await running.say(message_text(ANA, "A sign is knocked down"), "Send up to 3 photos")
    await running.say(running.press("photos:skip"), "Where is the problem?")
    await running.say(message_location(ANA, *SCHOOL), "Please check your report")
    await running.say(running.press("sum:confirm"), REF)


async def operator_does(running: Running, command: str, args: str, needle: str) -> JSONDict:
    """The operator's command; return the notice Ana gets (it contains ``needle``)."""
    before = len(running.fake.sent_to(ANA))
    await running.app.dispatcher.dispatch(Command(OPERATOR, command, args))
    await running.app.sender.drain()

    def told(_: list[Call]) -> JSONDict | None:
        new = running.fake.sent_to(ANA)[before:]
        return next((m for m in new if needle in str(m.get("text", ""))), None)

    told.__qualname__ = f"a notice to Ana containing {needle!r}"
    notice = await running.fake.wait_for(told)
    assert running.fake.sent_to(ANA)[-1] is notice  # the last message: its keyboard shows
    return notice


async def test_a_notice_to_an_idle_resident_brings_the_main_menu(running: Running) -> None:
    await report_a_sign(running)
    menu = actions(running.fake.keyboard_of(ANA))
    assert "btn:menu:report" in menu

    notice = await operator_does(running, "progress", f"{REF} Crew sent", "is now: in progress")

    assert actions(notice.get("keyboard")) == menu
    await running.say(running.press("menu:mine"), "You have 1 report")


async def test_a_notice_in_the_middle_of_a_report_keeps_the_steps_buttons(
    running: Running,
) -> None:
    await report_a_sign(running)
    await running.say(running.press("menu:report"), "What kind of problem")
    categories = actions(running.fake.keyboard_of(ANA))
    assert "btn:cat:garbage" in categories

    notice = await operator_does(running, "ack", REF, "is now: acknowledged")
    assert actions(notice.get("keyboard")) == categories
    await running.say(running.press("cat:garbage"), "Describe the problem")
    await running.say(message_text(ANA, "Bins are full"), "Send up to 3 photos")
    await running.say(running.press("photos:skip"), "Where is the problem?")
    picker = running.fake.keyboard_of(ANA)

    notice = await operator_does(running, "progress", f"{REF} Crew sent", "is now: in progress")
    assert notice.get("keyboard") == picker
    assert notice.get("min_api_version", 0) >= 3  # the location picker's
    # The report goes on where it was.
    await running.say(message_location(ANA, *SCHOOL), "Please check your report")
