"""The librarian's import in chat: the document's bytes come through the real python-telegram-bot
from the fake Bot API; a bad file is refused with its lines, a good one previewed and confirmed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.settings import Settings
from handlers.events import MAX_FILE_BYTES, File
from handlers.municipality import Municipality, StaffMember
from tests.conftest import Bot, OnScreen, Press, Running
from tests.dialogs import ANA, MARKO, viber_app
from tests.dialogs import Running as ViberRunning
from tests.fakes.ports import FakeGeocoder
from tests.fakes.viber_api import conversation_started, message_file, message_text
from tests.library_records import iso2709, unimarc
from tests.test_library_suggestions import library_bot  # noqa: F401 - the fixture

RESIDENT = 5001
ADMIN = 100000101  # the admin of config/vlasotince.toml: admins may do the librarian's work
DRINA = unimarc("На Дрини ћуприја", "Андрић", "Иво", isbn="978-86-521-4023-7")
KIS = unimarc("Rani jadi", "Kiš", "Danilo", udc="821.163.41-93")


async def test_the_librarian_sends_the_file_in_chat_and_confirms(running: Running) -> None:
    fake = running.fake
    for user in (RESIDENT, ADMIN):
        fake.push_command(user, "start")
        fake.push_callback(user, "lang:en")
        await running.wait_text(user, "Welcome")
    fake.push_command(RESIDENT, "library", "import")
    await running.wait_text(RESIDENT, "This is for municipal staff only; nothing was changed.")

    fake.push_command(ADMIN, "library", "import")
    await running.wait_text(ADMIN, "Send the file of new acquisitions as a document")
    bad = "naslov;autor;isbn\nDobra;X;\nLoša;Y;12\n".encode("cp1250")
    fake.push_document(ADMIN, bad, file_name="lose.csv", mime_type="text/csv")
    await running.wait_text(
        ADMIN,
        "The file was refused; nothing was stored:\n"
        "lose.csv, line 3, column 3 (isbn): not a valid ISBN: 12",
    )
    fake.push_document(
        ADMIN, iso2709(DRINA, KIS), file_name="nove.mrc", mime_type="application/marc"
    )
    await running.wait_text(ADMIN, "nove.mrc: 2 titles read, 2 new, 0 already known.")
    ok, cancel = running.buttons(ADMIN)
    assert [ok.rsplit(":", 1)[0], cancel.rsplit(":", 1)[0]] == ["libimp:ok", "libimp:cancel"]
    fake.push_callback(ADMIN, ok)
    await running.wait_text(ADMIN, "Imported: 2 new titles.")

    fake.push_callback(RESIDENT, "lib:new")
    await running.wait_text(RESIDENT, "2 new titles this month. Choose a subject:")


async def test_an_import_in_chat_in_serbian_and_cancelled(library_bot: Bot) -> None:  # noqa: F811
    bot = library_bot
    await bot.say("vera", "/language")
    await bot.say("vera", Press("lang:sr-Cyrl"))
    sender = bot.sender("vera")
    bad = b"title;year\nX;20x4\n"
    await bot.play(
        "vera",
        [
            ("/library import", ["Пошаљите датотеку"]),
            ("hello", ["Пошаљите датотеку"]),  # the hint: a file is expected
            (File(sender, "document", name="a.csv", content=bad, size=len(bad)),
             ["Датотека је одбијена; ништа није сачувано:\n"
              "a.csv, ред 2, колона 2 (year): није година: 20x4"]),
            (File(sender, "document", name="big.xlsx", content=None, size=30_000_000),
             ["Датотека је већа од 5 MB, превелика за ћаскање. Пошаљите мању или је увезите на"
              " серверу командном линијом."]),
            (File(sender, "document", name="a.csv", content=None, size=0),
             ["Датотека није стигла (месинџер је није предао). Пошаљите је поново."]),
            (File(sender, "document", name="n.mrc", content=iso2709(KIS), size=1),
             ["n.mrc: прочитан 1 наслов; нових: 1, већ познатих: 0.", "[✅ Увези]"]),
            (OnScreen("libimp:cancel"), ["Отказано."]),
        ],
    )  # fmt: skip
    assert (await bot.say("ana", Press("lib:new")))[0].text == (
        "No new titles have arrived this month yet."
    )


@pytest.fixture
async def viber(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[ViberRunning]:
    """The bot on Viber, whose librarian is MARKO."""
    librarian = StaffMember("viber", MARKO, "Вера", "librarian", ())
    m = replace(municipality, staff=(*municipality.staff, librarian))
    async with viber_app(settings, m, geocoder) as running:
        for user in (ANA, MARKO):
            status, body = await running.post(conversation_started(user))
            assert status == 200
            running.welcome = json.loads(body)
            await running.say(running.press("lang:en", user), "Welcome", user)
            # The topics offered once to a new resident: not now.
            await running.say(running.press("menu:main", user), "What would you like to do?", user)
        yield running


async def test_the_librarian_imports_a_file_sent_through_viber(viber: ViberRunning) -> None:
    fake = viber.fake
    await viber.say(message_text(MARKO, "/library import"), "Send the file", MARKO)
    big = fake.add_media(b"x" * (MAX_FILE_BYTES + 1), content_type="application/marc")
    declared = message_file(MARKO, big, "sve.mrc", size=MAX_FILE_BYTES + 1)
    await viber.say(declared, "The file is larger than 5 MB", MARKO)
    gone = fake.add_media(iso2709(KIS), content_type="application/marc")
    fake.expire_media(gone)
    await viber.say(message_file(MARKO, gone, "n.mrc", size=9), "did not come through", MARKO)

    records = iso2709(DRINA, KIS)
    media = fake.add_media(records, content_type="application/marc", file_name="nove.mrc")
    sent = message_file(MARKO, media, "nove.mrc", size=len(records))
    await viber.say(sent, "nove.mrc: 2 titles read, 2 new, 0 already known.", MARKO)
    await viber.say(viber.press_on_screen("libimp:ok", MARKO), "Imported: 2 new titles.", MARKO)
    await viber.say(viber.press("menu:library", ANA), "📚 ", ANA)
    await viber.say(viber.press("lib:new", ANA), "2 new titles this month.", ANA)
