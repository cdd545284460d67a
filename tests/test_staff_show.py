"""/show: a report's card in the language of whoever reads it, through the real
python-telegram-bot against the fake Bot API.

A card sent to one person's private chat is in that person's language and script; one in a
staff chat stays in the staff's language (everyone in the chat reads it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.conftest import DialogInput, Pin, Press, Running
from tests.dialogs import TELEGRAM_IDS, Table, TelegramDialog, play

OPERATOR = "roads operator"
TELEGRAM_IDS[OPERATOR] = 100000102  # the roads operator of the municipality file
ROADS_CHAT = -1001000000104
REF = f"VLA-{datetime.now(UTC).year}-00001"
CYRILLIC = re.compile("[\u0400-\u04ff]")
A_SIGN: list[DialogInput] = [
    "/start", Press("lang:en"), Press("menu:main"), Press("menu:report"),
    Press("cat:road_damage"), "A sign is knocked down", Press("photos:skip"),
    Pin(42.9661, 22.1290), Press("sum:confirm"),
]  # fmt: skip
IN_LATIN: Table = [
    ("/start", ["Изаберите језик и писмо:"]),
    (Press("lang:sr-Latn"), [
        "Izabran je jezik: Srpski (latinica).",
        "Dobro došli! Ovo je „Moja opština“, bot opštine Vlasotince.",
        "Da li želite vesti od opštine? Izaberite teme o kojima želite da budete obaveštavani;"
        " možete ih promeniti kad god želite pod Obaveštenja.",
    ]),
]  # fmt: skip


async def test_show_in_a_private_chat_is_in_the_operators_language_and_script(
    running: Running,
) -> None:
    telegram = TelegramDialog(running)
    for item in A_SIGN:
        await telegram.say("ana", item)
    await play(telegram, OPERATOR, IN_LATIN)

    shown = await telegram.say(OPERATOR, f"/show {REF}")

    assert len(shown) == 1
    card = shown[0]
    assert card.startswith(f"{REF} · NOVA\nKategorija: ")
    assert "\nOpis: A sign is knocked down\n" in card
    assert "· Prijava podneta" in card  # the history, in the same script
    # Addresses are never transliterated (the geocoder's is in Cyrillic); the rest is Latin.
    ours = [line for line in card.splitlines() if not line.startswith("Adresa: ")]
    assert not CYRILLIC.search("\n".join(ours)), card
    buttons = running.buttons(TELEGRAM_IDS[OPERATOR])
    assert buttons[0] == "st:ack:1"
    labels = [
        b["text"]
        for row in running.fake.sent_messages(TELEGRAM_IDS[OPERATOR])[-1]["reply_markup"][
            "inline_keyboard"
        ]
        for b in row
    ]
    assert labels[0] == "👀 Primljeno"


async def test_show_in_a_staff_chat_stays_in_the_staff_language(running: Running) -> None:
    telegram = TelegramDialog(running)
    for item in A_SIGN:
        await telegram.say("ana", item)
    await play(telegram, OPERATOR, IN_LATIN)
    fake = running.fake
    before = len(fake.sent_messages(ROADS_CHAT))

    update = fake.push_command(TELEGRAM_IDS[OPERATOR], "show", REF, chat_id=ROADS_CHAT)
    await running.handled(update)

    card = str(fake.sent_messages(ROADS_CHAT)[before:][-1]["text"])
    assert card.startswith(f"{REF} · НОВА\nКатегорија: ")
    assert "· Пријава поднета" in card
