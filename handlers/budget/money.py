"""Amounts as a reader of each language writes them (48,2 in Serbian, 48.2 in English)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

from handlers.i18n import Translator

_LOCALES = {"sr-Cyrl": "sr", "sr-Latn": "sr_Latn", "bs": "bs", "en": "en", "hu": "hu"}


def locale_of(t: Translator) -> str:
    """Babel's locale of the reader's language and script."""
    return _LOCALES.get(t.language, "sr")


def exact(t: Translator, para: int) -> str:
    """An amount to the para, with thousands separated: 48.200.000,50."""
    return format_decimal(Decimal(para) / 100, "#,##0.00", locale=locale_of(t))


def dinars(t: Translator, para: int) -> str:
    """An amount in whole dinars, with thousands separated: 46.888."""
    return format_decimal(para // 100, "#,##0", locale=locale_of(t))


def in_millions(t: Translator, para: int) -> str:
    """An amount in millions of dinars, the number only: "48.2" (a chart's bar label)."""
    # Half up, as people round (634.05 is 634.1), not Babel's half even.
    rounded = (Decimal(para) / 100_000_000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return format_decimal(rounded, "#,##0.0", locale=locale_of(t))


def millions(t: Translator, para: int) -> str:
    """An amount in millions of dinars, in words: "48.2 million dinars"."""
    return t.gettext("{amount} million dinars", amount=in_millions(t, para))


def per_cent(part: int, whole: int) -> int:
    """``part`` as a whole per cent of ``whole`` (0 when there is no whole)."""
    return round(100 * part / whole) if whole else 0


def signed_millions(t: Translator, para: int) -> str:
    """A difference in millions with its sign: +3.5 or -1.2 million dinars."""
    sign = "+" if para > 0 else "−" if para < 0 else "±"
    return sign + millions(t, abs(para))
