"""Operators on Telegram, through the fake Bot API: the card in the staff group and its buttons."""

from __future__ import annotations

from tests.conftest import Running, jpeg
from tests.fakes.telegram_api import Call

RESIDENT = 5001
OPERATOR = 100000104  # hygiene, animals, lighting in config/vlasotince.toml
OTHER_OPERATOR = 100000102  # communal, roads
GROUP = -1001000000105  # the hygiene service's staff chat
REF = "VLA-2026-00001"


def group_texts(running: Running) -> list[str]:
    return [str(m.get("text") or "") for m in running.fake.sent_messages(GROUP)]


async def report_garbage(running: Running) -> None:
    fake = running.fake
    for data in ("lang:en", "menu:report", "cat:garbage"):
        fake.push_callback(RESIDENT, data)
    await running.wait_text(RESIDENT, "Describe the problem")
    fake.push_text(RESIDENT, "The bins behind the school were not emptied for a week")
    fake.push_photo(RESIDENT, jpeg("gray"))
    await running.wait_text(RESIDENT, "Photo 1 of 3")
    fake.push_callback(RESIDENT, "photos:done")
    fake.push_location(RESIDENT, 42.9661, 22.1290)
    await running.wait_text(RESIDENT, "Please check your report")
    fake.push_callback(RESIDENT, "sum:confirm")
    await running.wait_text(RESIDENT, REF)


async def press_and_wait_answer(
    running: Running, user_id: int, data: str, message_id: int
) -> dict[str, object]:
    """Press a card button in the group; return the callback answer the presser got."""
    update_id = running.fake.push_callback(user_id, data, chat_id=GROUP, message_id=message_id)
    query_id = running.fake.update(update_id)["callback_query"]["id"]

    def answered(calls: list[Call]) -> bool:
        return any(
            c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query_id
            for c in calls
        )

    answered.__qualname__ = f"an answer to the press of {data}"
    await running.fake.wait_for(answered)
    return running.fake.callback_answers[query_id]


async def test_a_refused_press_is_answered_to_the_presser_not_to_the_group(
    running: Running,
) -> None:
    fake = running.fake
    fake.add_chat(GROUP, "Чистоћа — пријаве", "supergroup")
    await report_garbage(running)
    await fake.wait_for(lambda _: any(REF in t for t in group_texts(running)))
    card = fake.sent_messages(GROUP)[-1]
    in_group = len(group_texts(running))
    # A member of the group who is not staff (here the resident) presses Acknowledge.
    alert = await press_and_wait_answer(running, RESIDENT, "st:ack:1", card["message_id"])
    assert alert["show_alert"] is True
    assert "for municipal staff only" in str(alert["text"])
    await running.app.sender.drain()
    assert len(group_texts(running)) == in_group
    assert not any("staff only" in t for t in running.texts(RESIDENT))


async def test_the_card_reaches_the_group_and_its_buttons_work(running: Running) -> None:
    fake = running.fake
    fake.add_chat(GROUP, "Чистоћа — пријаве", "supergroup")
    await report_garbage(running)

    def card_sent(_: list[Call]) -> bool:
        return any(REF in t for t in group_texts(running))

    await fake.wait_for(card_sent)
    assert [c.params["chat_id"] for c in fake.calls_of("sendPhoto")] == [GROUP]
    card = fake.sent_messages(GROUP)[-1]
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["st:ack:1", "st:progress:1", "st:resolve:1", "st:reject:1", "st:reply:1"]

    # An operator of another service is told on the button, in one line naming the service.
    in_group = len(group_texts(running))
    alert = await press_and_wait_answer(running, OTHER_OPERATOR, "st:ack:1", card["message_id"])
    assert alert["show_alert"] is True
    text = str(alert["text"])
    assert REF in text
    assert "ЈКП" in text
    assert "\n" not in text
    await running.app.sender.drain()
    assert len(group_texts(running)) == in_group

    fake.push_callback(OPERATOR, "st:ack:1", chat_id=GROUP, message_id=card["message_id"])
    await running.wait_text(RESIDENT, "acknowledged")
    await fake.wait_for_calls("editMessageText")
    edits = [c for c in fake.calls_of("editMessageText") if c.ok]
    assert edits[0].params["message_id"] == card["message_id"]
    assert "ПРИМЉЕНА" in next(
        m["text"] for m in fake.sent_messages(GROUP) if m["message_id"] == card["message_id"]
    )

    fake.push_command(OPERATOR, "reply", f"{REF} The truck comes tomorrow morning.", chat_id=GROUP)
    await running.wait_text(RESIDENT, "The truck comes tomorrow morning.")

    fake.push_command(RESIDENT, "ack", REF)
    await running.wait_text(RESIDENT, "for municipal staff only")


async def test_the_photo_of_the_fix_answers_the_bot_in_the_group(running: Running) -> None:
    fake = running.fake
    fake.add_chat(GROUP, "Чистоћа — пријаве", "supergroup")
    await report_garbage(running)
    await fake.wait_for(lambda _: any(REF in t for t in group_texts(running)))
    card = fake.sent_messages(GROUP)[-1]
    fake.push_callback(OPERATOR, "st:resolve:1", chat_id=GROUP, message_id=card["message_id"])
    await running.wait_text(RESIDENT, "Is the problem fixed?")

    def asked(_: list[Call]) -> bool:
        return any(
            c.params.get("reply_markup", {}).get("force_reply")
            for c in fake.calls_of("sendMessage")
        )

    await fake.wait_for(asked)
    question = fake.sent_messages(GROUP)[-1]
    fake.push_photo(
        OPERATOR, jpeg("green"), chat_id=GROUP, reply_to_message_id=question["message_id"]
    )
    await fake.wait_for(
        lambda _: any(c.params["chat_id"] == RESIDENT for c in fake.calls_of("sendPhoto"))
    )
