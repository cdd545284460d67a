"""The catalogs: complete for every message the code uses (bs too), plural forms, Latin derived."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.dates import format_time
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from handlers.i18n import LOCALES_DIR, Translator, to_latin, translator

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def used_messages() -> set[str]:
    """Every message the code passes to the catalogs (as pybabel extract finds them)."""
    found: set[str] = set()
    for package in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", ["sr", "bs", "en", "hu"])
def test_every_message_the_code_uses_is_translated(language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,))
    }
    missing = sorted(used_messages() - translated)
    assert not missing, f"{language}: {len(missing)} untranslated, e.g. {missing[:3]}"


@pytest.mark.parametrize("language", ["sr", "bs", "hu"])
def test_translations_keep_the_placeholders(language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(re.findall(r"\{\w+\}", " ".join(str(i) for i in ids)))
        for s in strings:
            assert set(re.findall(r"\{\w+\}", str(s))) <= wanted, (m.id, s)


@pytest.mark.parametrize(
    ("language", "english", "term"),
    [
        ("hu", r"Centre for Social Work", "Szociális Munkaközpont"),
        ("sr", r"\byour id\b", "ИД"),
        ("bs", r"\byour id\b", "ID"),
    ],
)
def test_a_name_is_translated_the_same_everywhere(language: str, english: str, term: str) -> None:
    """The office and the messenger's ID are called the same in every message of a catalog."""
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    naming = [m for m in catalog if m.id and re.search(english, str(m.id))]
    assert naming
    for m in naming:
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(term in str(s) for s in strings), (m.id, m.string)


def test_serbian_has_three_plural_forms() -> None:
    t = Translator("sr-Cyrl")
    forms = {
        n: t.ngettext("You have {n} report.", "You have {n} reports.", n)
        for n in (1, 2, 5, 11, 21, 22, 25)
    }
    assert "1 пријаву" in forms[1]
    assert "2 пријаве" in forms[2]
    assert "5 пријава" in forms[5]
    assert "11 пријава" in forms[11]
    assert "21 пријаву" in forms[21]
    assert "22 пријаве" in forms[22]
    assert "25 пријава" in forms[25]
    assert "2 prijave" in Translator("sr-Latn").ngettext(
        "You have {n} report.", "You have {n} reports.", 2
    )


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Власотинце", "Vlasotince"),
        ("Љубав и Њива", "Ljubav i Njiva"),
        ("ЉУБАВ", "LJUBAV"),
        ("Џеп, ђак, ћуп, чај, шума, жаба", "Džep, đak, ćup, čaj, šuma, žaba"),
        ("VLA-2026-00001 {ref}", "VLA-2026-00001 {ref}"),
    ],
)
def test_cyrillic_is_transliterated_exactly(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin


def test_user_text_is_never_transliterated() -> None:
    t = Translator("sr-Latn")
    text = t.gettext("Is this the place?\n{address}", address="Улица Немањина 12")
    assert "Улица Немањина 12" in text


# One day and one moment (09:05 in Belgrade, an hour ahead of UTC in December) as each reader
# writes them, from Babel's CLDR data: Latin Serbian in Latin, Cyrillic in Cyrillic.
READERS_DATES = [
    ("sr-Cyrl", "1. 12. 2026.", "1. 12. 2026. 09:05", "1. дец"),
    ("sr-Latn", "1. 12. 2026.", "1. 12. 2026. 09:05", "1. dec"),
    ("bs", "1. dec 2026.", "1. dec 2026. 09:05", "1. dec"),
    ("en", "1 Dec 2026", "1 Dec 2026, 09:05", "1 Dec"),
    ("hu", "2026. dec. 1.", "2026. dec. 1. 9:05", "dec. 1."),
]


@pytest.mark.parametrize(("language", "day", "moment", "day_month"), READERS_DATES)
def test_dates_are_written_as_each_reader_writes_them(
    language: str, day: str, moment: str, day_month: str
) -> None:
    t = translator(language, "Europe/Belgrade")
    at = datetime(2026, 12, 1, 8, 5, tzinfo=UTC)
    assert t.date(date(2026, 12, 1)) == day
    assert t.datetime(at) == moment
    assert t.day_month(at) == day_month
    assert t.time(at) == moment.rsplit(" ", 1)[1]


@pytest.mark.parametrize(
    ("language", "month"),
    [("sr-Cyrl", "мај 2026."), ("sr-Latn", "maj 2026."), ("bs", "maj 2026."), ("en", "May 2026"),
     ("hu", "2026. május")],
)  # fmt: skip
def test_a_month_is_written_as_each_reader_writes_it(language: str, month: str) -> None:
    assert translator(language).month(date(2026, 5, 17)) == month


def test_a_moment_is_shown_on_the_municipalitys_clock() -> None:
    """Late on 30 November in UTC is already 1 December in Belgrade, and the day says so."""
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert translator("en", "Europe/Belgrade").date(late) == "1 Dec 2026"
    assert translator("en", "Europe/Belgrade").datetime(late) == "1 Dec 2026, 00:30"
    assert translator("en", "Europe/London").datetime(late) == "30 Nov 2026, 23:30"


def test_a_date_that_ends_a_sentence_ends_it_with_one_full_stop() -> None:
    """Serbian, Bosnian and Hungarian dates end with a full stop, and so does the sentence."""
    message = "The consultation on the {year} budget is open until {date}."
    for language, day in [("sr-Cyrl", "31. 10. 2026."), ("bs", "31. okt 2026."),
                          ("en", "31 Oct 2026")]:  # fmt: skip
        t = translator(language)
        text = t.gettext(message, year=2027, date=t.date(date(2026, 10, 31)))
        assert text.endswith(f" {day}" + ("" if day.endswith(".") else "."))
    latin = translator("sr-Latn").gettext(message, year=2027, date="31. 10. 2026.")
    assert latin == "Javna rasprava o budžetu za 2027. godinu otvorena je do 31. 10. 2026."
    hungarian = translator("hu")
    until = hungarian.gettext(message, year=2027, date=hungarian.date(date(2026, 10, 31)))
    assert until == "A 2027. évi költségvetés közmeghallgatása 2026. okt. 31-ig nyitva van."
    # A value without its own stop keeps the message's: 2027 is followed by ". godinu".
    assert translator("sr-Cyrl").gettext("{n}.", n="x") == "x."


def test_a_minute_is_written_once_and_each_minute_as_it_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new report's card and its e-mail write the same moments: Babel writes each minute
    once; another second of the same minute reads the same, the next minute and another
    zone's clock do not."""
    written: list[datetime] = []

    def counted(moment: datetime, *args: object, **kwargs: object) -> str:
        written.append(moment)
        return format_time(moment, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("handlers.i18n.format_time", counted)
    t = translator("en", "Europe/Belgrade")
    at = datetime(2031, 3, 4, 8, 5, 17, 250, tzinfo=UTC)
    assert t.datetime(at) == "4 Mar 2031, 09:05"
    assert t.datetime(at.replace(second=59)) == "4 Mar 2031, 09:05"
    assert len(written) == 1
    assert t.datetime(at.replace(minute=6)) == "4 Mar 2031, 09:06"
    assert translator("en", "Europe/London").datetime(at) == "4 Mar 2031, 08:05"
    assert len(written) == 3
