"""Bosnian (bs, Latin, ijekavian) in Novi Pazar: offered by its file, complete, never Cyrillic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from telegram import BotCommandScopeAllPrivateChats
from telegram.error import BadRequest

from bot.app import build_app
from bot.channels.telegram import TelegramChannel, make_bot
from bot.settings import Settings
from handlers.budget.money import dinars, exact, millions
from handlers.i18n import LOCALES_DIR, Translator
from handlers.municipality import Municipality, MunicipalityFileError, load_municipality
from handlers.registry import REGISTRY
from handlers.social_guide import Localized
from storage import reports
from tests.conftest import ROOT, VLASOTINCE, Bot, Pin, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.fakes.telegram_api import FakeTelegramApi

NOVI_PAZAR = ROOT / "config" / "novi-pazar.toml"
CENTRE = Pin(43.1370, 20.5120)
PRIVATE = BotCommandScopeAllPrivateChats()
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@pytest.fixture
def municipality() -> Municipality:
    """Novi Pazar, which offers Bosnian."""
    return load_municipality(NOVI_PAZAR)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {"BOT_DATA_DIR": str(tmp_path / "data"), "BOT_CONFIG": str(NOVI_PAZAR)}
    )


async def test_a_resident_of_novi_pazar_reports_a_pothole_in_bosnian(bot: Bot) -> None:
    await bot.play(
        "emina",
        [
            ("/start", ["Izaberite jezik i pismo:", "[Bosanski]", "[Српски (ћирилица)]"]),
            (
                Press("lang:bs"),
                [
                    "Izabran je jezik: Bosanski.",
                    "Dobro došli! Ovo je „Moja opština“, bot općine Novi Pazar.",
                    "[📝 Prijavite problem]",
                    "[📋 Moje prijave]",
                ],
            ),
            ("/help", ["Preko ovog bota možete prijaviti komunalne probleme u općini Novi Pazar"]),
            (Press("menu:report"), ["O kakvom problemu se radi?", "[Oštećenja puteva"]),
            (Press("cat:road_damage"), ["Opišite problem u nekoliko riječi"]),
            ("Duboka rupa u ulici 28. novembra, kod broja 12", ["Pošaljite fotografije problema"]),
            (Press("photos:skip"), ["Gdje je problem?"]),
            (CENTRE, ["Provjerite svoju prijavu", "Fotografije: 0", "43.13700"]),
            (
                Press("sum:confirm"),
                ["Hvala! Vaša prijava je zavedena pod brojem NPA-2026-00001", "promijeni status"],
            ),
            (Press("menu:mine"), ["Imate 1 prijavu.", "NPA-2026-00001"]),
        ],
    )
    listing = (await bot.say("emina", Press("menu:mine")))[0]
    card = (await bot.say("emina", Press(listing.buttons[0][0].data)))[0].text
    assert "Kategorija: Oštećenja puteva i udarne rupe" in card
    # The service's name is Cyrillic in the file: a Bosnian reader gets it in Latin.
    everything = [r.text + str(r.buttons) for r in bot.channel.to("emina")[1:]]
    assert not [t for t in everything if CYRILLIC.search(t)], "Cyrillic in a Bosnian reply"
    stored = await reports.get_report(bot.app.db.conn, 1)
    assert stored is not None
    assert stored.ref == "NPA-2026-00001"


async def test_bosnian_in_the_middle_of_a_report_keeps_the_report(bot: Bot) -> None:
    await bot.play(
        "adem",
        [
            ("/start", []),
            (Press("lang:sr-Latn"), ["Dobro došli"]),
            (Press("menu:report"), ["O kakvom problemu se radi?"]),
            (Press("cat:garbage"), ["Opišite problem"]),
            ("/language", ["[Bosanski]"]),
            (
                Press("lang:bs"),
                ["Izabran je jezik: Bosanski.", "Opišite problem u nekoliko riječi"],
            ),
            ("Kontejner nije ispražnjen dvije sedmice", ["Pošaljite fotografije problema"]),
        ],
    )


@pytest.mark.parametrize("config", ["vlasotince", "sombor", "lapovo", "bela-palanka"])
async def test_a_municipality_that_does_not_offer_bosnian_does_not_show_it(
    config: str, tmp_path: Path
) -> None:
    m = load_municipality(ROOT / "config" / f"{config}.toml")
    assert "bs" not in m.languages
    settings = Settings.from_env({"BOT_DATA_DIR": str(tmp_path / "data")})
    channel = CollectingChannel()
    async with build_app(
        settings, m, {"test": channel}, clock=FakeClock(), geocoder=FakeGeocoder({})
    ) as app:
        bot = Bot(app, channel, FakeClock())
        prompt = (await bot.say("ivan", "/start"))[0]
        assert "Bosanski" not in [b.label for row in prompt.buttons for b in row]
        assert "lang:bs" not in [b.data for row in prompt.buttons for b in row]
        # An old or made-up button does not set a language the file does not offer.
        again = await bot.say("ivan", Press("lang:bs"))
        assert again[0].text.startswith(prompt.text)
        assert not any("Bosanski" in r.text for r in again)


def test_amounts_are_written_as_in_bosnian() -> None:
    t = Translator("bs")
    assert exact(t, 4_820_000_050) == "48.200.000,50"
    assert dinars(t, 4_688_800) == "46.888"
    assert millions(t, 4_820_000_050) == "48,2 miliona dinara"
    assert millions(Translator("en"), 4_820_000_050) == "48.2 million dinars"


def test_bosnian_has_the_three_plural_forms() -> None:
    t = Translator("bs")
    forms = {
        n: t.ngettext("You have {n} report.", "You have {n} reports.", n) for n in (1, 3, 5, 21)
    }
    assert forms == {
        1: "Imate 1 prijavu.",
        3: "Imate 3 prijave.",
        5: "Imate 5 prijava.",
        21: "Imate 21 prijavu.",
    }


def test_the_municipality_name_and_services_are_latin_in_bosnian(
    municipality: Municipality,
) -> None:
    t = Translator("bs")
    assert t.name(municipality.name_in("bs")) == "Novi Pazar"
    assert t.name(municipality.service_name("water")) == "JKP „Vodovod i kanalizacija“ Novi Pazar"


def bosnian_catalog_texts() -> list[str]:
    with (LOCALES_DIR / "bs" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="bs")
    texts: list[str] = []
    for m in catalog:
        if m.id:
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            texts.extend(str(s) for s in strings)
    return texts


# Serbian (ekavian) words that a copy of the Serbian text would leave in the Bosnian catalog.
EKAVIAN = re.compile(
    r"\b(opštin\w*|obavešten\w*|obavesti\w*|rešen\w*|rešava\w*|mest[aou]?|vreme|uslov\w*|"
    r"nedelj\w*|dete|dec[aeu]|pre|posle|primer\w*|promen\w*|proveri\w*|ovde|gde|uvek|"
    r"sledeć\w*|poslednj\w*|beleš\w*|izveštaj\w*|zahtev\w*|mesec\w*)\b",
    re.IGNORECASE,
)


def test_the_bosnian_catalog_is_latin_and_ijekavian() -> None:
    texts = bosnian_catalog_texts()
    assert len(texts) > 600
    assert not [t for t in texts if CYRILLIC.search(t)]
    # "Moja opština" is the bot's name; everything else says općina.
    found = sorted({w for t in texts for w in EKAVIAN.findall(t.replace("Moja opština", ""))})
    assert not found, f"Serbian (ekavian) words in the Bosnian catalog: {found}"


async def test_telegram_lists_the_commands_in_bosnian(
    municipality: Municipality, tmp_path: Path
) -> None:
    async with FakeTelegramApi() as fake:
        bot = make_bot(fake.token, fake.base_url, fake.base_file_url)
        await bot.initialize()
        try:
            await TelegramChannel(bot, tmp_path).register_commands(municipality.languages, REGISTRY)
            bosnian = {
                c.command: c.description
                for c in await bot.get_my_commands(scope=PRIVATE, language_code="bs")
            }
            serbian = {
                c.command: c.description
                for c in await bot.get_my_commands(scope=PRIVATE, language_code="sr")
            }
        finally:
            await bot.shutdown()
    codes = {c.params.get("language_code") for c in fake.calls_of("setMyCommands")}
    assert codes == {None, "sr", "bs", "en"}
    assert bosnian["language"] == "promjena jezika"
    assert serbian["language"] == "промена језика"


def test_a_social_text_in_bosnian_is_read_in_bosnian_else_serbian_in_latin() -> None:
    given = Localized((("bs", "Jednokratna pomoć"), ("sr", "Једнократна помоћ")))
    assert given.in_language("bs") == "Jednokratna pomoć"
    assert given.in_language("sr-Cyrl") == "Једнократна помоћ"
    assert Localized((("sr", "Једнократна помоћ"),)).in_language("bs") == "Jednokratna pomoć"


def test_a_file_that_offers_bosnian_needs_its_social_texts_in_bosnian(tmp_path: Path) -> None:
    text = VLASOTINCE.read_text(encoding="utf-8")
    old = 'languages = ["sr-Cyrl", "sr-Latn", "en"]'
    assert old in text
    path = tmp_path / "m.toml"
    path.write_text(text.replace(old, 'languages = ["sr-Cyrl", "sr-Latn", "bs", "en"]'), "utf-8")
    with pytest.raises(MunicipalityFileError, match="has no text in 'bs'"):
        load_municipality(path)


async def test_the_fake_bot_api_refuses_a_language_code_telegram_refuses() -> None:
    async with FakeTelegramApi() as fake:
        bot = make_bot(fake.token, fake.base_url, fake.base_file_url)
        await bot.initialize()
        try:
            with pytest.raises(BadRequest):
                await bot.set_my_commands([("start", "x")], language_code="sr-Latn")
            assert await bot.set_my_commands([("start", "početak")], language_code="bs")
        finally:
            await bot.shutdown()
