"""Translations from the gettext catalogs in ``locales/``, with Serbian Latin derived from Cyrillic.

Bosnian (``bs``) has its own catalog, written in Latin (ijekavian): it is a language of its own,
not a script of Serbian, so nothing is transliterated into it.

The catalogs are ``.po`` files read with Babel and compiled in memory at start, so there is no
build step and no compiled file to keep in step with its source.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

# What a resident picks: a language and, for Serbian, a script. The municipality file offers some.
LANGUAGES: dict[str, str] = {
    "sr-Cyrl": "Српски (ћирилица)",
    "sr-Latn": "Srpski (latinica)",
    "bs": "Bosanski",
    "en": "English",
    "hu": "Magyar",
}
DEFAULT_LANGUAGE = "sr-Cyrl"
DEFAULT_ZONE = "Europe/Belgrade"  # the municipality file's default too

# The CLDR locale whose conventions each choice reads. English is British English: day before
# month and a 24-hour clock, as the rest of the page (Babel's bare ``en`` is American: "Dec 1, 2026,
# 9:05 AM"). Bosnian is written in Latin.
_BABEL_LOCALES: dict[str, str] = {
    "sr-Cyrl": "sr_Cyrl",
    "sr-Latn": "sr_Latn",
    "bs": "bs_Latn",
    "en": "en_GB",
    "hu": "hu",
}

_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž", "з": "z",
    "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u", "ф": "f", "х": "h", "ц": "c",
    "ч": "č", "џ": "dž", "ш": "š",
}  # fmt: skip
_DIGRAPHS = {"љ", "њ", "џ"}


def to_latin(text: str) -> str:
    """Transliterate Serbian Cyrillic to Latin exactly (Љ before a capital becomes LJ)."""
    out: list[str] = []
    for i, ch in enumerate(text):
        low = ch.lower()
        latin = _CYR_TO_LAT.get(low)
        if latin is None:
            out.append(ch)
        elif ch == low:
            out.append(latin)
        elif low in _DIGRAPHS and _next_is_upper(text, i):
            out.append(latin.upper())
        else:
            out.append(latin[0].upper() + latin[1:])
    return "".join(out)


def _next_is_upper(text: str, i: int) -> bool:
    return i + 1 < len(text) and text[i + 1].isupper()


@lru_cache(maxsize=2048)
def _latin_template(text: str) -> str:
    """Transliterate a catalog message once; the catalog is finite, user text never comes here."""
    return to_latin(text)


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    """Load one catalog; ``sr`` serves both Serbian scripts."""
    po_path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def _fill(text: str, params: dict[str, object]) -> str:
    """Fill in ``params``. A value that ends with a full stop (a Serbian, Bosnian or Hungarian date:
    "31. 10. 2026.") ends the sentence too, so the message's own stop after it is dropped; and a
    Hungarian suffix takes the place of a day's stop ("2026. okt. 31-ig", not "31.-ig")."""
    bare: dict[str, object] = {}
    for key, value in params.items():
        if isinstance(value, str) and value.endswith("."):
            text = text.replace(f"{{{key}}}.", f"{{{key}}}")
            if f"{{{key}}}-" in text:
                bare[f"{key}_bare"] = value[:-1]
                text = text.replace(f"{{{key}}}-", f"{{{key}_bare}}-")
    return text.format(**params, **bare)


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(_BABEL_LOCALES[language])


@dataclass(frozen=True, slots=True)
class Translator:
    """Renders catalog messages, dates and times in one language and script."""

    language: str
    zone: str = DEFAULT_ZONE  # where the reader lives: moments are shown on its clock

    @property
    def _translations(self) -> gettext.NullTranslations:
        return _catalog(self.language.split("-")[0])

    def _script(self, text: str) -> str:
        return _latin_template(text) if self.language == "sr-Latn" else text

    def gettext(self, message: str, /, **params: object) -> str:
        """Translate ``message`` and fill in ``params``, which are never transliterated."""
        text = _rendered(self.language, message)
        return _fill(text, params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        """Translate a message with plural forms; ``n`` is also passed as ``{n}``."""
        text = self._script(self._translations.ngettext(singular, plural, n))
        return _fill(text, {"n": n, **params})

    def name(self, cyrillic: str) -> str:
        """Render a proper name written in Cyrillic (a service, a municipality) in this script."""
        return cyrillic if self.language == "sr-Cyrl" else to_latin(cyrillic)

    def date(self, day: dt.date | dt.datetime) -> str:
        """Write a day as this reader does (a moment is first taken to the reader's zone)."""
        return format_date(self._day(day), "medium", locale=_locale(self.language))

    def day_month(self, day: dt.date | dt.datetime) -> str:
        """Write a day without its year, where the year goes without saying (a list's button)."""
        return format_skeleton("MMMd", self._day(day), locale=_locale(self.language))

    def month(self, day: dt.date) -> str:
        """Write the month a day is in, with its year ("May 2026", "мај 2026.")."""
        return format_skeleton("yMMMM", day, locale=_locale(self.language))

    def decimal(self, value: float, pattern: str = "#,##0.0") -> str:
        """Write a number as this reader does (1,5 in Serbian, 1.5 in English)."""
        return format_decimal(value, pattern, locale=_locale(self.language))

    def time(self, moment: dt.datetime) -> str:
        """Write the time of day of a moment on the reader's clock."""
        return format_time(self._local(moment), "short", locale=_locale(self.language))

    def datetime(self, moment: dt.datetime) -> str:
        """Write a moment's day and time on the reader's clock."""
        # Written to the minute: the same minute is written once (a new report's card and its
        # e-mail write the same two moments; Babel takes tens of µs for each).
        return _datetime(self, moment.replace(second=0, microsecond=0))

    def _datetime(self, moment: dt.datetime) -> str:
        locale = _locale(self.language)
        # Babel's own "medium" date-time shows seconds; nobody reads a report's seconds.
        pattern = str(get_datetime_format("medium", locale=locale)).replace("'", "")
        return pattern.replace("{0}", self.time(moment)).replace("{1}", self.date(moment))

    def _local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(ZoneInfo(self.zone))

    def _day(self, day: dt.date | dt.datetime) -> dt.date:
        return self._local(day).date() if isinstance(day, dt.datetime) else day


@lru_cache(maxsize=256)
def _datetime(translator: Translator, minute: dt.datetime) -> str:
    return translator._datetime(minute)


@lru_cache(maxsize=16384)
def _rendered(language: str, message: str) -> str:
    """A catalog message in a language and script, before its parameters are filled in (the
    catalogs are finite, and a reply's texts are looked up again for every event)."""
    translator = Translator(language)
    return translator._script(translator._translations.gettext(message))


def translator(language: str | None, zone: str = DEFAULT_ZONE) -> Translator:
    """Return the translator for a user's language, Serbian Cyrillic when none is chosen."""
    return _translator(language if language in LANGUAGES else DEFAULT_LANGUAGE, zone)


@lru_cache(maxsize=64)
def _translator(language: str, zone: str) -> Translator:
    """Made once per language and zone (several are asked for in every event)."""
    return Translator(language, zone)
