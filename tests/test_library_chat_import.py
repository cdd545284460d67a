"""The librarian's import in chat: the document's bytes come through the real python-telegram-bot
from the fake Bot API; a bad file is refused with its lines, a good one previewed and confirmed."""

from __future__ import annotations

from handlers.events import File
from tests.conftest import Bot, Press, Running
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
    assert running.buttons(ADMIN) == ["libimp:ok", "libimp:cancel"]
    fake.push_callback(ADMIN, "libimp:ok")
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
             ["Датотека није стигла"]),
            (File(sender, "document", name="n.mrc", content=iso2709(KIS), size=1),
             ["n.mrc: прочитан 1 наслов; нових: 1, већ познатих: 0.", "[✅ Увези]"]),
            (Press("libimp:cancel"), ["Отказано."]),
        ],
    )  # fmt: skip
    assert (await bot.say("ana", Press("lib:new")))[0].text == (
        "No new titles have arrived this month yet."
    )
